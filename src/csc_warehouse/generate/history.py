"""One child's generated history: rows per table, in the order they were decided.

Dates are held as ordinals (``date.toordinal()``), absent values as ``None``. Ids are
namespaced by child (``REF000123-002`` is the child P000123's second referral), so a child's
ids never depend on how many rows other children have: the same record keeps the same id
from one night's drop to the next.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .rates import Rates
from .teams import Workforce

Row = dict[str, object]


def person_id(child: int) -> str:
    return f"P{child:06d}"


@dataclass(frozen=True)
class SimContext:
    """What every child's simulation needs; nothing in it depends on a child."""

    seed: int
    rates: Rates
    #: last day simulated (the drop date): the journey stops once its next event is later
    stop: int
    #: first and last possible arrival (first contact) day
    window_start: int
    window_end: int
    #: the teams' posts and who holds them over time
    workforce: Workforce


@dataclass
class History:
    child: int
    pid: str
    dob: int = 0
    adult: int = 0  # 18th birthday
    arrival: int = 0
    rows: list[tuple[str, Row]] = field(default_factory=list)
    _seq: dict[str, int] = field(default_factory=dict)

    def next_id(self, prefix: str) -> str:
        k = self._seq.get(prefix, 0) + 1
        self._seq[prefix] = k
        return f"{prefix}{self.child:06d}-{k:03d}"

    def add(self, table: str, row: Row) -> Row:
        self.rows.append((table, row))
        return row
