"""Streaming the children's histories into one CSV per contract table.

Children are simulated in chunks; each chunk writes its rows (no header) to part files as
it goes, so memory holds one child at a time. Chunks can run in parallel processes; the
parts are then joined in chunk order under the contract header, so the files are the same
whatever the number of processes.
"""

from __future__ import annotations

import csv
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from ..contract import load_contract
from .calendar import iso
from .draws import Draws
from .faults import FAULT_KEY, FaultRates, inject
from .history import Row, SimContext
from .journey import simulate_child
from .tables import CUTS

CSV_OPTIONS = {"lineterminator": "\n", "quoting": csv.QUOTE_MINIMAL}


#: per table: the contract's columns, each with whether it is a date column
Layout = dict[str, tuple[list[str], tuple[tuple[str, bool], ...]]]


def table_layout() -> Layout:
    """table -> (columns in contract order, ((column, is date), ...))."""
    contract = load_contract()
    return {
        name: (t.column_names, tuple((c.name, c.type == "date") for c in t.columns))
        for name, t in contract.tables.items()
    }


def format_row(row: Row, spec: tuple[tuple[str, bool], ...]) -> list[str]:
    """CSV fields: dates (ordinals) as ISO text, None as empty, everything else as text."""
    get = row.get
    return [
        "" if (v := get(col)) is None else (iso(v) if is_date else str(v))  # type: ignore[arg-type]
        for col, is_date in spec
    ]


@dataclass
class ChunkResult:
    rows: dict[str, int] = field(default_factory=dict)
    injected: list[dict[str, str]] = field(default_factory=list)


def write_chunk(
    first: int, last: int, ctx: SimContext, faults: FaultRates, part_dir: Path
) -> ChunkResult:
    """Simulate children ``first..last`` (inclusive) and write their rows to part files."""
    layout = table_layout()
    part_dir.mkdir(parents=True, exist_ok=True)
    files = {t: (part_dir / f"{t}.csv").open("w", encoding="utf-8", newline="") for t in layout}
    writers = {t: csv.writer(f, **CSV_OPTIONS) for t, f in files.items()}
    result = ChunkResult(rows={t: 0 for t in layout})
    counts = result.rows
    stop = ctx.stop
    with_faults = faults.any
    try:
        for child in range(first, last + 1):
            h = simulate_child(child, ctx)
            if with_faults:
                inject(h, Draws(ctx.seed, child, 1), faults)
            for table, row in h.rows:
                cut = CUTS[table]
                start = row[cut.start]
                if start > stop:  # type: ignore[operator]
                    continue
                columns, spec = layout[table]
                open_span = False
                if cut.end is not None:
                    end = row[cut.end]
                    if end is not None and end > stop:  # type: ignore[operator]
                        open_span = True
                        row = dict(row)
                        row[cut.end] = None
                        for col in cut.at_end:
                            row[col] = None
                for day_field, cols in cut.later:
                    day = row.get(day_field)
                    if day is not None and day > stop:  # type: ignore[operator]
                        row = dict(row)
                        for col in cols:
                            row[col] = None
                writers[table].writerow(format_row(row, spec))
                counts[table] += 1
                fault = row.get(FAULT_KEY)
                if fault is not None:
                    kind, col = fault  # type: ignore[misc]
                    if kind == "blank_rc9_authorisation" and open_span:
                        continue  # still open: the authorisation is blank anyway
                    result.injected.append(
                        {
                            "table": table,
                            "key": str(row[columns[0]]),
                            "column": col,
                            "kind": kind,
                        }
                    )
    finally:
        for f in files.values():
            f.close()
    return result


def join_parts(out: Path, part_dirs: list[Path], extra_rows: dict[str, list[Row]]) -> None:
    """Write ``out/<table>.csv``: the contract header, then every part in order."""
    layout = table_layout()
    for table, (columns, spec) in layout.items():
        with (out / f"{table}.csv").open("w", encoding="utf-8", newline="") as f:
            w = csv.writer(f, **CSV_OPTIONS)
            w.writerow(columns)
            for row in extra_rows.get(table, ()):
                w.writerow(format_row(row, spec))
            f.flush()
            for part in part_dirs:
                with (part / f"{table}.csv").open("r", encoding="utf-8", newline="") as p:
                    shutil.copyfileobj(p, f, 1 << 20)
