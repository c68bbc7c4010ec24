"""Bulk load of an SSD drop into ``raw``: COPY, set-based checks, quarantine, one transaction.

Per file: COPY into a temporary text table (row numbers assigned in file order), find the
row-level faults with SQL (missing or duplicated key, unparseable date, unknown code,
non-numeric number) and quarantine them in ``raw.rejects``, then insert the rest into
``raw.<table>`` with dates normalised to ISO and codes upper-cased and mapped. The whole drop
is one transaction: a file-level rejection anywhere leaves ``raw`` exactly as it was.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg2
from psycopg2 import sql

from csc_warehouse.config import Settings
from csc_warehouse.contract import Column, Table, load_contract
from csc_warehouse.drop import Drop, DropError, verify_manifest
from csc_warehouse.load.csv_files import CsvFileInfo, inspect_csv
from csc_warehouse.warehouse.db import connect

Progress = Callable[[str], None]


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


def _batch_id(drop: Drop, infos: dict[str, CsvFileInfo], fmt: str) -> str:
    h = hashlib.sha256(f"{fmt}|{drop.drop_date}".encode())
    for name in sorted(infos):
        h.update(f"|{infos[name].path.name}:{infos[name].sha256}".encode())
    return f"{drop.drop_date.isoformat()}-{h.hexdigest()[:12]}"


def _archive(settings: Settings, drop: Drop, infos: dict[str, CsvFileInfo]) -> str:
    """Copy the original files to archive/<drop date>/<sha256>/<name>; never overwrite."""
    root = settings.archive / drop.drop_date.isoformat()
    for info in infos.values():
        dest = root / info.sha256[:16] / info.path.name
        if not dest.exists():
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = dest.with_suffix(dest.suffix + ".part")
            shutil.copyfile(info.path, tmp)
            tmp.rename(dest)
    manifest = drop.path / "manifest.json"
    if manifest.exists():
        h = hashlib.sha256(manifest.read_bytes()).hexdigest()[:16]
        dest = root / "manifests" / f"{h}.json"
        if not dest.exists():
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(manifest, dest)
    return str(root)


def _date_format_uk(drop: Drop, filename: str) -> bool:
    files = (drop.manifest or {}).get("files") or {}
    fmt = (files.get(filename) or {}).get("date_format") or (drop.manifest or {}).get(
        "date_format"
    )
    return str(fmt).lower() in ("uk", "dd/mm/yyyy")


def _clean_expr(col: Column, present: bool, uk: bool) -> sql.Composable:
    """SQL that turns the file's text into the raw table's normalised text."""
    if not present:
        return sql.SQL("null::text")
    c = sql.Identifier(col.name)
    if col.type == "date":
        return sql.SQL("cscw_private.iso_date({}, {})").format(c, sql.Literal(uk))
    if col.type == "code":
        from csc_warehouse.contract import load_contract as _lc

        cl = _lc().code_lists[col.code_list or ""]
        lookup = sql.SQL(
            "(select cv.code from cscw_private.code_values cv "
            "where cv.code_list = {} and cv.input = upper(btrim({})))"
        ).format(sql.Literal(cl.name), c)
        if cl.open:
            return sql.SQL("coalesce({}, nullif(upper(btrim({})), ''))").format(lookup, c)
        return lookup
    if col.type in ("id", "number"):
        return sql.SQL("nullif(btrim({}), '')").format(c)
    return sql.SQL("nullif({}, '')").format(c)


def _reject_checks(table: Table, header: list[str], uk: bool) -> list[sql.Composable]:
    """SELECTs yielding (_row_number, column_name, value, reason) for each row-level fault."""
    contract = load_contract()
    checks: list[sql.Composable] = []
    key = sql.Identifier(table.key.name)
    key_lit = sql.Literal(table.key.name)
    checks.append(
        sql.SQL(
            "select _row_number, {kl}, {k}, 'missing key' from _load "
            "where nullif(btrim({k}), '') is null"
        ).format(k=key, kl=key_lit)
    )
    checks.append(
        sql.SQL(
            "select _row_number, {kl}, v, 'duplicate key (' || n || ' rows share it)' from ("
            "select _row_number, btrim({k}) as v, count(*) over (partition by btrim({k})) as n "
            "from _load where nullif(btrim({k}), '') is not null) d where n > 1"
        ).format(k=key, kl=key_lit)
    )
    for col in table.columns:
        if col.name not in header:
            continue
        c, lit = sql.Identifier(col.name), sql.Literal(col.name)
        if col.type == "date":
            fmt = "YYYY-MM-DD or DD/MM/YYYY" if uk else "YYYY-MM-DD"
            checks.append(
                sql.SQL(
                    "select _row_number, {lit}, {c}, {reason} from _load "
                    "where nullif(btrim({c}), '') is not null "
                    "and cscw_private.iso_date({c}, {uk}) is null"
                ).format(
                    c=c, lit=lit, uk=sql.Literal(uk),
                    reason=sql.Literal(f"unparseable date (expected {fmt})"),
                )
            )
        elif col.type == "code":
            cl = contract.code_lists[col.code_list or ""]
            if cl.open:
                continue
            checks.append(
                sql.SQL(
                    "select l._row_number, {lit}, l.{c}, {reason} from _load l "
                    "left join cscw_private.code_values cv on cv.code_list = {cl} "
                    "and cv.input = upper(btrim(l.{c})) "
                    "where nullif(btrim(l.{c}), '') is not null and cv.code is null"
                ).format(
                    c=c, lit=lit, cl=sql.Literal(cl.name),
                    reason=sql.Literal(f"unknown code (not on the {cl.name} list)"),
                )
            )
        elif col.type == "number":
            checks.append(
                sql.SQL(
                    "select _row_number, {lit}, {c}, 'not a number' from _load "
                    "where nullif(btrim({c}), '') is not null "
                    "and btrim({c}) !~ '^-?[0-9]+(\\.[0-9]+)?$'"
                ).format(c=c, lit=lit)
            )
    return checks


class SsdLoader:
    def __init__(self, url: str, settings: Settings, progress: Progress | None = None) -> None:
        self.url = url
        self.settings = settings
        self.progress = progress or (lambda _msg: None)
        self.contract = load_contract()

    # ---------------------------------------------------------------------------------------
    def check(self, drop: Drop) -> tuple[dict[str, CsvFileInfo], list[str]]:
        """File-level checks that need no database: manifest, encoding, CSV-ness, required
        columns. Returns the inspected files by table and the names of ignored files."""
        verify_manifest(drop)
        infos: dict[str, CsvFileInfo] = {}
        ignored: list[str] = []
        for path in drop.csv_files:
            name = path.stem.lower()
            if name not in self.contract.tables:
                ignored.append(path.name)
                continue
            info = inspect_csv(path)
            table = self.contract.tables[name]
            missing = [c for c in table.required_columns if c not in info.header]
            if missing:
                raise DropError(
                    f"{path.name}: missing required column"
                    f"{'s' if len(missing) > 1 else ''} {', '.join(missing)}"
                )
            infos[name] = info
        if not infos:
            raise DropError(f"{drop.path}: no file of the extract contract in the drop")
        return infos, ignored

    def load(self, drop: Drop) -> LoadReport:
        infos, ignored = self.check(drop)
        batch_id = _batch_id(drop, infos, "ssd")
        conn = connect(self.url)
        try:
            with conn.cursor() as cur:
                cur.execute(
                    "select status from raw.load_batches where batch_id = %s", (batch_id,)
                )
                row = cur.fetchone()
            if row and row[0] == "loaded":
                self.progress(f"drop {drop.drop_date} already loaded as batch {batch_id}")
                return self._report_from_db(conn, batch_id, drop.drop_date, ignored)
            archive_path = _archive(self.settings, drop, infos)
            try:
                report = self._load_in_transaction(conn, drop, infos, ignored, batch_id,
                                                   archive_path)
            except DropError as e:
                conn.rollback()
                self._record_rejection(conn, drop, batch_id, archive_path, str(e))
                raise
            except psycopg2.Error:
                conn.rollback()
                raise
            return report
        finally:
            conn.close()

    # ---------------------------------------------------------------------------------------
    def _record_rejection(self, conn, drop: Drop, batch_id: str, archive: str, msg: str) -> None:
        with conn.cursor() as cur:
            cur.execute(
                """insert into raw.load_batches (batch_id, drop_date, source_format, drop_path,
                       archive_path, status, message, finished_at)
                   values (%s, %s, 'ssd', %s, %s, 'rejected', %s, now())
                   on conflict (batch_id) do update set status = 'rejected',
                       message = excluded.message, finished_at = now()""",
                (batch_id, drop.drop_date, str(drop.path), archive, msg),
            )
        conn.commit()

    def _previous_rows(self, cur, drop_date: dt.date) -> dict[str, int]:
        cur.execute(
            """select f.table_name, f.rows_loaded from raw.load_files f
               join raw.load_batches b using (batch_id)
               where b.batch_id = (select batch_id from raw.load_batches
                                   where status = 'loaded' and drop_date < %s
                                   order by drop_date desc, finished_at desc limit 1)""",
            (drop_date,),
        )
        return dict(cur.fetchall())

    def _load_in_transaction(self, conn, drop, infos, ignored, batch_id, archive_path):
        tables: dict[str, TableLoad] = {}
        with conn.cursor() as cur:
            cur.execute("select pg_advisory_xact_lock(hashtext('cscw_load'))")
            cur.execute(
                """update raw.load_batches set status = 'superseded'
                   where drop_date = %s and status = 'loaded'""",
                (drop.drop_date,),
            )
            cur.execute(
                """insert into raw.load_batches (batch_id, drop_date, source_format, drop_path,
                       archive_path, status)
                   values (%s, %s, 'ssd', %s, %s, 'loading')
                   on conflict (batch_id) do update set status = 'loading', message = null,
                       started_at = now(), finished_at = null""",
                (batch_id, drop.drop_date, str(drop.path), archive_path),
            )
            cur.execute("delete from raw.load_files where batch_id = %s", (batch_id,))
            cur.execute("delete from raw.rejects where drop_date = %s", (drop.drop_date,))
            previous = self._previous_rows(cur, drop.drop_date)
            for name, table in self.contract.tables.items():
                cur.execute(
                    sql.SQL("delete from {} where _drop_date = %s").format(
                        sql.Identifier("raw", name)
                    ),
                    (drop.drop_date,),
                )
                info = infos.get(name)
                if info is None:
                    tables[name] = TableLoad(table=name, status="absent")
                else:
                    self.progress(f"loading {info.path.name}")
                    tables[name] = self._load_table(cur, drop, table, info, batch_id)
                    if tables[name].rows_in_file == 0 and previous.get(name, 0) > 0:
                        raise DropError(
                            f"{info.path.name}: empty, but {previous[name]} rows loaded last "
                            "time (a broken export?); the drop is rejected"
                        )
                t = tables[name]
                cur.execute(
                    """insert into raw.load_files (batch_id, table_name, source_file,
                           file_sha256, encoding, status, rows_in_file, rows_loaded,
                           rows_rejected, extra_columns, columns_present, message)
                       values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
                    (batch_id, name, t.source_file, info.sha256 if info else None,
                     t.encoding, t.status, t.rows_in_file, t.rows_loaded, t.rows_rejected,
                     t.extra_columns, t.columns_present,
                     None if info else "table absent from the drop"),
                )
            cur.execute(
                """update raw.load_batches set status = 'loaded', finished_at = now(),
                       message = %s where batch_id = %s""",
                (f"{sum(t.rows_loaded for t in tables.values())} rows loaded, "
                 f"{sum(t.rows_rejected for t in tables.values())} quarantined", batch_id),
            )
        conn.commit()
        return LoadReport(batch_id, drop.drop_date, False, tables, ignored)

    def _load_table(self, cur, drop: Drop, table: Table, info: CsvFileInfo,
                    batch_id: str) -> TableLoad:
        header = info.header
        uk = _date_format_uk(drop, info.path.name)
        cur.execute("drop table if exists _load")
        cur.execute(
            sql.SQL(
                "create temp table _load ({}, _row_number bigint generated always as identity "
                "(start with 2)) on commit drop"
            ).format(sql.SQL(", ").join(sql.SQL("{} text").format(sql.Identifier(c))
                                        for c in header))
        )
        copy = sql.SQL(
            "copy _load ({}) from stdin with (format csv, header true, encoding {})"
        ).format(sql.SQL(", ").join(sql.Identifier(c) for c in header),
                 sql.Literal(info.encoding))
        try:
            with info.path.open("rb") as f:
                cur.copy_expert(copy.as_string(cur), f, size=1 << 20)
        except psycopg2.Error as e:
            detail = (e.pgerror or str(e)).strip().splitlines()
            context = (e.diag.context or "").replace("COPY _load, ", "")
            raise DropError(
                f"{info.path.name}: not a well-formed CSV file: {detail[0]}"
                f"{' (' + context + ')' if context else ''}"
            ) from None
        cur.execute("select count(*) from _load")
        rows_in_file = cur.fetchone()[0]
        # --- quarantine ------------------------------------------------------------------
        checks = _reject_checks(table, header, uk)
        cur.execute(
            sql.SQL(
                "create temp table _rej on commit drop as "
                "select * from ({}) r(_row_number, column_name, value, reason)"
            ).format(sql.SQL(" union all ").join(checks))
        )
        cur.execute(
            """insert into raw.rejects (batch_id, drop_date, table_name, source_file, row_number,
                   column_name, value, reason)
               select %s, %s, %s, %s, _row_number, column_name, value, reason from _rej""",
            (batch_id, drop.drop_date, table.name, info.path.name),
        )
        cur.execute("select count(distinct _row_number) from _rej")
        rows_rejected = cur.fetchone()[0]
        threshold = self.settings.reject_threshold
        if rows_in_file and rows_rejected > threshold * rows_in_file:
            cur.execute(
                "select reason, count(*) from _rej group by reason order by 2 desc limit 3"
            )
            reasons = "; ".join(f"{r} x{n}" for r, n in cur.fetchall())
            cur.execute("select _row_number, column_name from _rej order by 1 limit 1")
            first_row, first_col = cur.fetchone()
            raise DropError(
                f"{info.path.name}: {rows_rejected} of {rows_in_file} rows fail row-level "
                f"checks ({rows_rejected / rows_in_file:.1%}, over the "
                f"{threshold:.0%} threshold): {reasons}; first at row {first_row}, "
                f"column {first_col}"
            )
        # --- insert the good rows ----------------------------------------------------------
        extra = [c for c in header if c not in table.column_names]
        targets = [sql.Identifier(c) for c in table.column_names] + [
            sql.Identifier(n) for n in
            ("_batch_id", "_drop_date", "_source_file", "_file_sha256", "_row_number",
             "_loaded_at", "_extra")
        ]
        exprs = [_clean_expr(c, c.name in header, uk) for c in table.columns]
        extra_expr = (
            sql.SQL("jsonb_build_object({})").format(
                sql.SQL(", ").join(
                    sql.SQL("{}, {}").format(sql.Literal(c), sql.Identifier(c)) for c in extra
                )
            ) if extra else sql.SQL("null::jsonb")
        )
        cur.execute(
            sql.SQL(
                "insert into {tbl} ({targets}) select {exprs}, %s, %s, %s, %s, _row_number, "
                "now(), {extra} from _load l where not exists "
                "(select 1 from _rej r where r._row_number = l._row_number)"
            ).format(
                tbl=sql.Identifier("raw", table.name),
                targets=sql.SQL(", ").join(targets),
                exprs=sql.SQL(", ").join(exprs),
                extra=extra_expr,
            ),
            (batch_id, drop.drop_date, info.path.name, info.sha256),
        )
        rows_loaded = cur.rowcount
        cur.execute("drop table _load; drop table _rej")
        return TableLoad(
            table=table.name, status="loaded", source_file=info.path.name,
            encoding=info.encoding, rows_in_file=rows_in_file, rows_loaded=rows_loaded,
            rows_rejected=rows_rejected, extra_columns=extra,
            columns_present=[c for c in header if c in table.column_names],
        )

    def _report_from_db(self, conn, batch_id, drop_date, ignored) -> LoadReport:
        with conn.cursor() as cur:
            cur.execute(
                """select table_name, status, source_file, encoding, rows_in_file, rows_loaded,
                          rows_rejected, coalesce(extra_columns, '{}'),
                          coalesce(columns_present, '{}')
                   from raw.load_files where batch_id = %s""",
                (batch_id,),
            )
            tables = {}
            for name, status, src, enc, rin, rl, rr, extra, present in cur.fetchall():
                tables[name] = TableLoad(name, status, src, enc, rin or 0, rl or 0, rr or 0,
                                         list(extra), list(present))
        return LoadReport(batch_id, drop_date, True, tables, ignored)
