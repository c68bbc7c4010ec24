"""Data-quality faults the generator can inject, each at its own rate.

Profile ``clean`` injects nothing; ``faulty`` turns every fault on at a small rate. The
faults actually written to a drop are listed in the sidecar
``<drop folder>.injected.json`` beside the drop (never inside it), one entry per fault:
``{"table", "key", "column", "kind"}``.

Fault decisions are drawn from a separate stream per child, in the order the child's rows
were created, so the same record gets the same fault on every night's drop.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from .draws import Draws
from .history import History, Row


@dataclass(frozen=True)
class FaultRates:
    #: placement written without its postcode (share of placements)
    missing_postcode: float = 0.0
    #: RC9 (step-down to early help) closure without manager authorisation (share of RC9)
    blank_rc9_authorisation: float = 0.0
    #: a code not on the contract's code list (share of rows of tables with codes)
    unknown_code: float = 0.0
    #: a closed span whose end is before its start (share of spans)
    end_before_start: float = 0.0
    #: a placement that starts before the previous placement of the period ended
    overlapping_placement: float = 0.0
    #: a row whose person id is not in ssd_person
    orphan_row: float = 0.0
    #: a row written twice with the same key
    duplicate_key: float = 0.0

    def with_overrides(self, overrides: dict[str, Any] | None) -> FaultRates:
        if not overrides:
            return self
        known = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise ValueError(f"unknown fault(s): {', '.join(unknown)} (known: {sorted(known)})")
        return dataclasses.replace(self, **{k: float(v) for k, v in overrides.items()})

    @property
    def any(self) -> bool:
        return any(getattr(self, f.name) > 0 for f in dataclasses.fields(self))


PROFILES: dict[str, FaultRates] = {
    "clean": FaultRates(),
    "faulty": FaultRates(
        missing_postcode=0.02,
        blank_rc9_authorisation=0.15,
        unknown_code=0.004,
        end_before_start=0.004,
        overlapping_placement=0.02,
        orphan_row=0.003,
        duplicate_key=0.002,
    ),
}

#: the column and the off-list value an unknown-code fault writes, per table
UNKNOWN_CODES: dict[str, tuple[str, str]] = {
    "ssd_cla_placement": ("clap_cla_placement_type", "U9"),
    "ssd_cin_episodes": ("cine_referral_source_code", "11"),
    "ssd_cla_episodes": ("clae_cla_episode_start_reason", "Q"),
    "ssd_cp_plans": ("cppl_cp_plan_initial_category", "ABUSE"),
    "ssd_missing": ("miss_missing_episode_type", "X"),
}
#: spans that can be written ending before they start: table -> (start, end)
SPANS: dict[str, tuple[str, str]] = {
    "ssd_cin_plans": ("cinp_cin_plan_start_date", "cinp_cin_plan_end_date"),
    "ssd_cp_plans": ("cppl_cp_plan_start_date", "cppl_cp_plan_end_date"),
    "ssd_missing": ("miss_missing_episode_start_date", "miss_missing_episode_end_date"),
    "ssd_early_help_episodes": ("earl_episode_start_date", "earl_episode_end_date"),
}
#: tables where an orphan row can appear: table -> person id column
ORPHANS: dict[str, str] = {
    "ssd_contacts": "cont_person_id",
    "ssd_missing": "miss_person_id",
    "ssd_involvements": "invo_person_id",
}
DUPLICATES: dict[str, str] = {
    "ssd_person": "pers_person_id",
    "ssd_contacts": "cont_contact_id",
    "ssd_cin_episodes": "cine_referral_id",
    "ssd_cla_episodes": "clae_cla_episode_id",
    "ssd_cla_placement": "clap_cla_placement_id",
}

FAULT_KEY = "_fault"  # row field: (kind, column)


def inject(h: History, d: Draws, f: FaultRates) -> None:
    """Mark and apply faults on one child's rows (in place)."""
    out: list[tuple[str, Row]] = []
    last_placement_start: dict[str, int] = {}
    for table, row in h.rows:
        out.append((table, row))
        fault: tuple[str, str] | None = None
        if table == "ssd_cla_placement":
            start = row["clap_cla_placement_start_date"]
            prev = last_placement_start.get(row["clap_cla_id"])  # type: ignore[arg-type]
            last_placement_start[row["clap_cla_id"]] = start  # type: ignore[index]
            if d.chance(f.missing_postcode):
                row["clap_cla_placement_postcode"] = ""
                fault = ("missing_postcode", "clap_cla_placement_postcode")
            if (
                d.chance(f.overlapping_placement)
                and fault is None
                and prev is not None
                and start - prev > 2
            ):  # type: ignore[operator]
                shift = d.randint(1, min(5, start - prev - 1))  # type: ignore[operator]
                row["clap_cla_placement_start_date"] = start - shift  # type: ignore[operator]
                fault = ("overlapping_placement", "clap_cla_placement_start_date")
        elif (
            table == "ssd_cin_episodes"
            and row["cine_close_reason"] == "RC9"
            and d.chance(f.blank_rc9_authorisation)
        ):
            row["ext_close_authorised_by"] = None
            row["ext_close_authorised_date"] = None
            fault = ("blank_rc9_authorisation", "ext_close_authorised_by")
        if table in UNKNOWN_CODES and d.chance(f.unknown_code) and fault is None:
            col, bad = UNKNOWN_CODES[table]
            row[col] = bad
            fault = ("unknown_code", col)
        if table in SPANS and d.chance(f.end_before_start) and fault is None:
            s_col, e_col = SPANS[table]
            if row[e_col] is not None:
                row[e_col] = row[s_col] - d.randint(1, 30)  # type: ignore[operator]
                fault = ("end_before_start", e_col)
        if table in ORPHANS and d.chance(f.orphan_row) and fault is None:
            col = ORPHANS[table]
            row[col] = f"P9{h.child:06d}"
            fault = ("orphan_row", col)
        if table in DUPLICATES and d.chance(f.duplicate_key) and fault is None:
            fault = ("duplicate_key", DUPLICATES[table])
            copy = dict(row)
            copy[FAULT_KEY] = None  # the copy is not listed again
            out.append((table, copy))
        if fault is not None:
            row[FAULT_KEY] = fault
    h.rows = out
