"""The SSDA903 loader: map a drop's returns onto the SSD tables (``mapping.py``), stage each
table's rows in ``_load`` with their 903 file and row, run the same row checks as an SSD
drop (``load/row_checks.py``) and insert the good rows into the batch's partitions, in one
transaction (the frame: ``load/frame.py``). ``CSCW_REJECT_THRESHOLD_903`` applies per 903
file."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
from dataclasses import dataclass

from psycopg2 import sql

from csc_warehouse.contract import Table
from csc_warehouse.drop import Drop
from csc_warehouse.load.batch import archive_files, batch_id_for, file_encoding
from csc_warehouse.load.csv_files import inspect_csv
from csc_warehouse.load.frame import RawLoader
from csc_warehouse.load.records import (
    check_reject_threshold,
    over_threshold,
    record_source_file,
    record_table,
    write_rejects,
)
from csc_warehouse.load.report import LoadReport, TableLoad
from csc_warehouse.load.row_checks import clean_select, reject_rows
from csc_warehouse.load.ssda903.files import ReturnFile, check_903_drop, scan_903_files
from csc_warehouse.load.ssda903.mapping import FROM_903, SSD_COLUMNS, Mapped, map_903
from csc_warehouse.warehouse.raw_partitions import create_partition

#: the 903 file kind each SSD table is fed by (the others: episodes)
_FED_BY = {"ssd_person": "header", "ssd_cla_reviews": "reviews", "ssd_missing": "missing"}


@dataclass
class Staged:
    """What sits in the temp table ``_load`` for one contract table: rows mapped from
    SSDA903 files, each with its ``_src_file``, ``_src_sha`` and ``_src_row`` (one raw row
    may be derived from rows of several files)."""

    header: list[str]
    rows_in_file: int
    uk: bool = False


def _fed_by(table: str, files: list[ReturnFile]) -> list[ReturnFile]:
    kind = _FED_BY.get(table, "episodes")
    return [f for f in files if f.kind == kind]


class Ssda903Loader(RawLoader):
    fmt = "903"

    def load(self, drop: Drop) -> LoadReport:
        check_903_drop(drop, self.settings)
        files, ignored = scan_903_files(drop, self.settings.csv_encoding)
        for f in files:
            enc = file_encoding(drop, f.name, self.settings)
            if enc != self.settings.csv_encoding:
                f.info = inspect_csv(f.info.path, enc)
        mapped_files = [f for f in files if f.mapped]
        batch_id = batch_id_for(drop, {f.name: f.info.sha256 for f in mapped_files}, "903")

        def load_in_transaction(conn, archive_path: str) -> LoadReport:
            self.progress(f"mapping {len(mapped_files)} 903 file(s) onto SSD tables")
            mapped = map_903(mapped_files)
            return self._load_in_transaction(conn, drop, files, mapped, ignored, batch_id,
                                             archive_path)

        return self._load_batch(
            drop, batch_id, ignored,
            archive=lambda: archive_files(self.settings, drop, [f.info for f in files]),
            load_in_transaction=load_in_transaction,
        )

    def _load_in_transaction(self, conn, drop: Drop, files: list[ReturnFile], mapped: Mapped,
                             ignored: list[str], batch_id: str, archive_path: str):
        tables: dict[str, TableLoad] = {}
        with conn.cursor() as cur:
            self._begin(cur, drop, batch_id, archive_path)
            # rejects found while mapping (dates, keys, chaining, RNE/REC)
            write_rejects(cur, batch_id, drop.drop_date,
                          ((r.table, r.source_file, r.row_number, r.column, r.value, r.reason)
                           for r in mapped.rejects))
            for name, table in self.contract.tables.items():
                rows = mapped.rows.get(name)
                if name not in SSD_COLUMNS or (rows is None and not _fed_by(name, files)):
                    tables[name] = self._record_absent(cur, batch_id, name)
                    continue
                self.progress(f"loading {name} from 903 files")
                tables[name] = self._load_mapped(cur, drop, table, rows or [], batch_id, files)
            self._finalise_903(cur, batch_id, files, mapped, tables)
            for t in tables.values():
                if t.status == "loaded":
                    record_table(cur, batch_id, t)
            self._finish(cur, drop, batch_id, tables)
        conn.commit()
        return LoadReport(batch_id, drop.drop_date, False, tables, ignored)

    def _load_mapped(self, cur, drop: Drop, table: Table, rows: list[dict], batch_id: str,
                     files: list[ReturnFile]) -> TableLoad:
        cols = SSD_COLUMNS[table.name]
        cur.execute("drop table if exists _load")
        cur.execute(
            sql.SQL(
                "create temp table _load ({}, _src_file text, _src_sha text, _src_row bigint, "
                "_row_number bigint generated always as identity) on commit drop"
            ).format(sql.SQL(", ").join(sql.SQL("{} text").format(sql.Identifier(c))
                                        for c in cols))
        )
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        for r in rows:
            w.writerow([r.get(c) if r.get(c) is not None else "" for c in cols]
                       + [r["_src_file"], r["_src_sha"], r["_src_row"]])
        buf.seek(0)
        cur.copy_expert(
            sql.SQL("copy _load ({}, _src_file, _src_sha, _src_row) from stdin "
                    "with (format csv)").format(
                sql.SQL(", ").join(sql.Identifier(c) for c in cols)).as_string(cur), buf)
        staged = Staged(header=cols, rows_in_file=len(rows), uk=False)
        t = self._quarantine_and_insert(cur, table, staged, batch_id, drop.drop_date)
        fed = _fed_by(table.name, files)
        t.source_file = ", ".join(f.name for f in fed)
        t.file_sha256 = hashlib.sha256(
            "|".join(f.info.sha256 for f in fed).encode()).hexdigest()
        t.encoding = ",".join(sorted({f.info.encoding for f in fed}))
        return t

    def _finalise_903(self, cur, batch_id: str, files: list[ReturnFile], mapped: Mapped,
                      tables: dict[str, TableLoad]) -> None:
        """Name the 903 columns in rejects, count rejects per table and per 903 file, record
        the files, and apply CSCW_REJECT_THRESHOLD_903 per file."""
        cur.execute(
            """update raw.rejects r set column_name = m.c903 || ' (' || r.column_name || ')'
               from unnest(%s::text[], %s::text[]) m(ssd, c903)
               where r.batch_id = %s and r.column_name = m.ssd""",
            (list(FROM_903), list(FROM_903.values()), batch_id),
        )
        cur.execute(
            """select table_name, count(distinct (source_file, row_number)) from raw.rejects
               where batch_id = %s group by 1""",
            (batch_id,),
        )
        for name, n in cur.fetchall():
            if name in tables and tables[name].status == "loaded":
                tables[name].rows_rejected = n
        cur.execute(
            """select source_file, count(distinct row_number) from raw.rejects
               where batch_id = %s group by 1""",
            (batch_id,),
        )
        per_file = dict(cur.fetchall())
        threshold = self.settings.reject_threshold_903
        for f in files:
            n_rows = mapped.rows_in_file.get(f.name, 0)
            n_rej = per_file.get(f.name, 0)
            record_source_file(cur, batch_id, f.name, f.info.sha256, f.info.encoding, f.kind,
                               n_rows if f.mapped else None, n_rej if f.mapped else None,
                               "loaded" if f.mapped else "ignored")
            if f.mapped and over_threshold(n_rows, n_rej, threshold):
                cur.execute(
                    """select reason, count(*) from raw.rejects
                       where batch_id = %s and source_file = %s
                       group by 1 order by 2 desc limit 3""",
                    (batch_id, f.name),
                )
                check_reject_threshold(f.name, n_rows, n_rej, cur.fetchall(), threshold,
                                       over="CSCW_REJECT_THRESHOLD_903", found="quarantined")
            if f.mapped and n_rej:
                self.progress(f"{f.name}: {n_rej} of {n_rows} rows quarantined")

    # --- quarantine + insert -------------------------------------------------------------
    def _quarantine_and_insert(self, cur, table: Table, staged: Staged, batch_id: str,
                               drop_date: dt.date) -> TableLoad:
        """Full checks on ``_load`` (rows derived from SSDA903 files, each carrying its own
        ``_src_file``, ``_src_sha`` and ``_src_row``): rejects into raw.rejects, good rows
        into the batch's partition of raw.<table>.

        One scan of ``_load`` builds ``_clean`` (each value normalised once, fault flags);
        the rejects are the few rows of ``_clean`` that are not ``_ok``; the insert copies
        the ``_ok`` rows. (The 903 threshold is applied per 903 file, by the caller.)"""
        header, uk = staged.header, staged.uk
        select, checks = clean_select(table, header, uk, ["_src_file", "_src_sha", "_src_row"])
        with self._phase("checks"):
            cur.execute("drop table if exists _clean")
            cur.execute(sql.SQL("create temp table _clean on commit drop as {}").format(select))
            cur.execute(
                sql.SQL(
                    "create temp table _rej on commit drop as "
                    "select * from ({}) r(_row_number, column_name, value, reason)"
                ).format(reject_rows(table, checks))
            )
            cur.execute("select l._src_file, l._src_row, r.column_name, r.value, r.reason "
                        "from _rej r join _load l using (_row_number)")
            write_rejects(cur, batch_id, drop_date,
                          ((table.name, *r) for r in cur.fetchall()))
            cur.execute("select count(distinct _row_number) from _rej")
            rows_rejected = cur.fetchone()[0]
        extra = [c for c in header if c not in table.column_names]
        cols = table.column_names
        targets = sql.SQL(", ").join(sql.Identifier(c) for c in [
            *cols, "_extra", "_source_file", "_file_sha256", "_row_number", "_batch_id",
            "_drop_date", "_loaded_at"])
        content = sql.SQL(", ").join(sql.SQL("c.{}").format(sql.Identifier(c))
                                     for c in [*cols, "_extra"])
        with self._phase("insert"):
            create_partition(cur, table.name, batch_id)
            cur.execute(
                sql.SQL(
                    "insert into {tbl} ({targets}) select {content}, c._src_file, "
                    "c._src_sha, c._src_row, %s, %s, now() from _clean c where c._ok"
                ).format(tbl=sql.Identifier("raw", table.name), targets=targets,
                         content=content),
                (batch_id, drop_date),
            )
            rows_loaded = cur.rowcount
        cur.execute("drop table _load; drop table _clean; drop table _rej")
        return TableLoad(
            table=table.name, status="loaded",
            rows_in_file=staged.rows_in_file, rows_loaded=rows_loaded,
            rows_rejected=rows_rejected, extra_columns=extra,
            columns_present=[c for c in header if c in table.column_names],
        )
