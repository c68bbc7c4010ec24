"""What a load reports: per contract table (``TableLoad``) and per drop (``LoadReport``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass
class TableLoad:
    table: str
    status: str  # loaded | absent
    source_file: str | None = None
    encoding: str | None = None
    rows_in_file: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    extra_columns: list[str] = field(default_factory=list)
    columns_present: list[str] = field(default_factory=list)
    file_sha256: str | None = None
    #: fully blank lines skipped (e.g. at the end of a spreadsheet export)
    blank_lines_skipped: int = 0


@dataclass
class LoadReport:
    batch_id: str
    drop_date: dt.date
    already_loaded: bool
    tables: dict[str, TableLoad]
    ignored_files: list[str]

    @property
    def rows_loaded(self) -> int:
        return sum(t.rows_loaded for t in self.tables.values())

    @property
    def rows_rejected(self) -> int:
        return sum(t.rows_rejected for t in self.tables.values())

    @property
    def absent_tables(self) -> list[str]:
        return [t.table for t in self.tables.values() if t.status == "absent"]
