"""Seeded random draws for one child: a buffered numpy stream with small helpers.

Every child gets its own numpy ``Generator`` seeded with ``(seed, child number, stream)``,
so a child's history does not depend on any other child (chunks can be generated in any
order, or in parallel) and the same arguments always give the same draws. Uniforms are
taken from the generator in blocks and handed out one by one: the n-th draw a child's
simulation makes is always the same number, whatever happens later.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Sequence
from itertools import accumulate
from typing import Generic, TypeVar

import numpy as np

T = TypeVar("T")

_BLOCK = 128


class Draws:
    """Uniform draws for one child, consumed in order."""

    __slots__ = ("_gen", "_buf", "_i")

    def __init__(self, seed: int, child: int, stream: int = 0) -> None:
        self._gen = np.random.Generator(np.random.PCG64([seed, child, stream]))
        self._buf: list[float] = []
        self._i = 0

    def u(self) -> float:
        """One uniform in [0, 1)."""
        i = self._i
        if i >= len(self._buf):
            self._buf = self._gen.random(_BLOCK).tolist()
            i = 0
        self._i = i + 1
        return self._buf[i]

    def chance(self, p: float) -> bool:
        return self.u() < p

    def randint(self, lo: int, hi: int) -> int:
        """An integer in [lo, hi] (both inclusive)."""
        if hi <= lo:
            self.u()
            return lo
        return lo + int(self.u() * (hi - lo + 1))

    def pick(self, seq: Sequence[T]) -> T:
        return seq[int(self.u() * len(seq))]

    def normal(self) -> float:
        """A standard normal (Box-Muller, two uniforms)."""
        u1 = 1.0 - self.u()
        u2 = self.u()
        return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)

    def lognormal(self, median: float, sigma: float) -> float:
        return median * math.exp(sigma * self.normal())

    def exponential(self, mean: float) -> float:
        return -mean * math.log(1.0 - self.u())


class Weighted(Generic[T]):
    """A fixed weighted choice: ``Weighted({"a": 3, "b": 1}).pick(draws)``."""

    __slots__ = ("values", "_cum", "_total")

    def __init__(self, weights: dict[T, float]) -> None:
        self.values: tuple[T, ...] = tuple(weights)
        self._cum = list(accumulate(float(w) for w in weights.values()))
        self._total = self._cum[-1]

    def pick(self, d: Draws) -> T:
        i = bisect_right(self._cum, d.u() * self._total)
        return self.values[min(i, len(self.values) - 1)]
