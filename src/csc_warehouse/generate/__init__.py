"""Synthetic local authority: nightly SSD drops with realistic journeys and optional faults.

    from csc_warehouse.generate import generate_drop
    result = generate_drop(Path("landing/2026-11-27"), children=200, years=5, seed=1)

See ``docs/generator.md``.
"""

from __future__ import annotations

from .api import DEFAULT_AS_OF, EPOCH_END, GenerateResult, generate_drop, sidecar_path
from .faults import PROFILES, FaultRates
from .rates import DEFAULT_RATES, Rates

__all__ = [
    "DEFAULT_AS_OF",
    "DEFAULT_RATES",
    "EPOCH_END",
    "PROFILES",
    "FaultRates",
    "GenerateResult",
    "Rates",
    "generate_drop",
    "sidecar_path",
]
