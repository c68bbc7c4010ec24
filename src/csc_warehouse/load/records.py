"""The load's own records in ``raw``, each with ONE writer: the quarantine
(``raw.rejects``), the files of a batch (``raw.load_source_files``), the contract tables of
a batch (``raw.load_files``); and the one reject threshold rule."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable

from csc_warehouse.drop import DropError
from csc_warehouse.load.report import TableLoad

#: one quarantined fault: (table, source file, row number, column, value, reason)
RejectRow = tuple[str, str, int, str | None, str | None, str]


def write_rejects(cur, batch_id: str, drop_date: dt.date, rows: Iterable[RejectRow]) -> int:
    """Append faults to ``raw.rejects`` (one COPY); a blank value is stored as NULL.
    Returns how many were written."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    n = 0
    for table, source_file, row_number, column, value, reason in rows:
        w.writerow([batch_id, drop_date.isoformat(), table, source_file, row_number, column,
                    value, reason])
        n += 1
    if n:
        buf.seek(0)
        cur.copy_expert(
            "copy raw.rejects (batch_id, drop_date, table_name, source_file, row_number, "
            "column_name, value, reason) from stdin with (format csv)", buf)
    return n


def record_source_file(cur, batch_id: str, source_file: str, file_sha256: str | None,
                       encoding: str | None, role: str, rows_in_file: int | None,
                       rows_rejected: int | None, status: str = "loaded") -> None:
    """One delivered file of the batch (``role``: the contract table it fed, or the 903
    file kind; ``status`` loaded or ignored)."""
    cur.execute(
        """insert into raw.load_source_files (batch_id, source_file, file_sha256,
               encoding, role, rows_in_file, rows_rejected, status)
           values (%s, %s, %s, %s, %s, %s, %s, %s)""",
        (batch_id, source_file, file_sha256, encoding, role, rows_in_file, rows_rejected,
         status),
    )


def record_table(cur, batch_id: str, t: TableLoad) -> None:
    """One contract table of the batch: loaded (with its counts) or absent."""
    cur.execute(
        """insert into raw.load_files (batch_id, table_name, source_file,
               file_sha256, encoding, status, rows_in_file, rows_loaded,
               rows_rejected, extra_columns, columns_present, message)
           values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
        (batch_id, t.table, t.source_file, t.file_sha256, t.encoding, t.status,
         t.rows_in_file, t.rows_loaded, t.rows_rejected, t.extra_columns,
         t.columns_present,
         "table absent from the drop" if t.status == "absent" else None),
    )


def over_threshold(rows_in_file: int, rejected: int, threshold: float | None) -> bool:
    """More of a file's rows quarantined than the threshold allows (None: no limit)."""
    return threshold is not None and bool(rows_in_file) and rejected > threshold * rows_in_file


def check_reject_threshold(source_file: str, rows_in_file: int, rejected: int,
                           reasons: list[tuple[str, int]], threshold: float | None,
                           over: str = "threshold", found: str = "fail row-level checks",
                           first: tuple[int, str | None] | None = None) -> None:
    """Too many quarantined rows in one file reject the whole drop: raise a DropError
    naming the file, the counts (``found``: what happened to them), the threshold
    (``over``: what it is called), the commonest reasons and, when given, the first faulty
    row and column."""
    if not over_threshold(rows_in_file, rejected, threshold):
        return
    where = f"; first at row {first[0]}, column {first[1]}" if first else ""
    raise DropError(
        f"{source_file}: {rejected} of {rows_in_file} rows {found} "
        f"({rejected / rows_in_file:.1%}, over the {threshold:.0%} {over}): "
        f"{'; '.join(f'{r} x{n}' for r, n in reasons)}{where}"
    )
