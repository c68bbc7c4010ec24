"""``generate_drop``: one night's drop of a synthetic local authority."""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import os
import shutil
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..contract import load_contract
from ..drop import write_manifest
from .calendar import add_years
from .faults import PROFILES, FaultRates
from .history import SimContext
from .rates import DEFAULT_RATES
from .teams import build_workforce
from .writer import ChunkResult, join_parts, write_chunk

#: the fixed end of the arrival window: children first come to notice between
#: ``EPOCH_END - years`` and ``EPOCH_END``, whatever the drop date, so consecutive nights
#: describe the same authority
EPOCH_END = dt.date(2026, 11, 27)
DEFAULT_AS_OF = EPOCH_END
#: children per chunk (one part file set per chunk)
CHUNK_CHILDREN = 2500


@dataclass(frozen=True)
class GenerateResult:
    path: Path
    drop_date: dt.date
    rows: dict[str, int]
    injected: Path | None


def sidecar_path(out: Path) -> Path:
    """Where the list of injected faults goes: beside the drop folder, never inside it."""
    out = Path(out)
    return out.parent / f"{out.name}.injected.json"


def generate_drop(
    out: Path,
    *,
    children: int = 200,
    years: int = 5,
    as_of: dt.date | None = None,
    seed: int = 1,
    profile: str = "clean",
    rates: dict[str, Any] | None = None,
    faults: dict[str, Any] | None = None,
    workers: int | None = None,
) -> GenerateResult:
    """Write the drop folder ``out`` for the night ``as_of`` (default 2026-11-27).

    ``children`` children first come to notice over the ``years`` years before 2026-11-27;
    the same ``seed``/``children``/``years`` on a later ``as_of`` gives the same records
    plus the events of the days in between. ``workers`` (default: CPUs, at most 4) only
    changes speed, never the files.
    """
    if children < 1:
        raise ValueError("children must be at least 1")
    if not 1 <= years <= 30:
        raise ValueError("years must be between 1 and 30")
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r} (known: {', '.join(PROFILES)})")
    as_of = as_of or DEFAULT_AS_OF
    out = Path(out)
    the_rates = DEFAULT_RATES.with_overrides(rates)
    the_faults: FaultRates = PROFILES[profile].with_overrides(faults)

    end = EPOCH_END.toordinal()
    window_start = add_years(end, -years)
    workforce = build_workforce(
        seed,
        children,
        years,
        window_start,
        # posts are filled to well past any child's 18th birthday
        horizon=add_years(end, 20),
        agency_share=the_rates.agency_worker,
        tenure_years=the_rates.worker_tenure_years,
        agency_tenure_years=the_rates.agency_worker_tenure_years,
    )
    ctx = SimContext(
        seed=seed,
        rates=the_rates,
        stop=as_of.toordinal(),
        window_start=window_start,
        window_end=end,
        workforce=workforce,
    )

    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob("*.csv"):
        stale.unlink()
    parts_root = out.parent / f".{out.name}.parts"
    shutil.rmtree(parts_root, ignore_errors=True)
    chunks = [
        (lo, min(lo + CHUNK_CHILDREN - 1, children))
        for lo in range(1, children + 1, CHUNK_CHILDREN)
    ]
    part_dirs = [parts_root / f"{i:05d}" for i in range(len(chunks))]
    n_proc = min(workers or min(os.cpu_count() or 1, 4), len(chunks))
    if multiprocessing.current_process().daemon:  # a daemon may not start processes
        n_proc = 1
    try:
        if n_proc <= 1:
            results = [
                write_chunk(lo, hi, ctx, the_faults, p)
                for (lo, hi), p in zip(chunks, part_dirs, strict=True)
            ]
        else:
            methods = multiprocessing.get_all_start_methods()
            context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
            with ProcessPoolExecutor(n_proc, mp_context=context) as pool:
                futures = [
                    pool.submit(write_chunk, lo, hi, ctx, the_faults, p)
                    for (lo, hi), p in zip(chunks, part_dirs, strict=True)
                ]
                results = [f.result() for f in futures]
        professionals = workforce.professionals(ctx.stop)
        join_parts(out, part_dirs, {"ssd_professionals": professionals})
    finally:
        shutil.rmtree(parts_root, ignore_errors=True)

    rows: dict[str, int] = {}
    injected: list[dict[str, str]] = []
    for res in results:
        _merge(rows, res)
        injected.extend(res.injected)
    rows["ssd_professionals"] = len(professionals)
    rows = {t: rows.get(t, 0) for t in load_contract().tables}
    write_manifest(out, as_of, rows={f"{t}.csv": n for t, n in rows.items()})

    side = sidecar_path(out)
    if the_faults.any:
        side.write_text(
            json.dumps(
                {"drop_date": as_of.isoformat(), "profile": profile, "faults": injected}, indent=1
            )
            + "\n",
            encoding="utf-8",
        )
        injected_path: Path | None = side
    else:
        side.unlink(missing_ok=True)
        injected_path = None
    return GenerateResult(path=out, drop_date=as_of, rows=rows, injected=injected_path)


def _merge(rows: dict[str, int], res: ChunkResult) -> None:
    for t, n in res.rows.items():
        rows[t] = rows.get(t, 0) + n
