"""Bulk load of an SSD drop into ``raw``: COPY, set-based checks, quarantine, all or nothing.

``SsdLoader`` COPYs each file once into ``raw_incoming`` and checks it there, in place, on
other connections while the next file is COPYed: rows whose every value is already canonical
(``load/canonical.py``) are left as they are; only the others go through the full
normalisation and checks (``_clean_select``: missing or duplicated key, unparseable date,
unknown code, non-numeric number) and are normalised in place or quarantined in
``raw.rejects``. One short transaction then attaches every file as the night's partition of
``raw.<table>`` with the bookkeeping and the retention: a file-level rejection anywhere
leaves ``raw`` exactly as it was. ``raw.record_history`` (SCD2) is applied after the commit,
in its own transaction (``load/history.py``).

``RawLoader`` holds the machinery shared with the SSDA903 loader (``load/ssda903.py``), which
stages its mapped rows in a temporary table and inserts them into the batch's partition with
the full checks, in one transaction.
"""

from __future__ import annotations

import collections
import datetime as dt
import hashlib
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass, field

import psycopg2
import psycopg2.errors
from psycopg2 import sql
from psycopg2.extras import execute_values

from csc_warehouse.config import Settings
from csc_warehouse.contract import Table, load_contract
from csc_warehouse.drop import (
    Drop,
    DropError,
    check_manifest_files_present,
    check_manifest_rows,
    verify_manifest_file,
)
from csc_warehouse.load.canonical import NUMBER_RE, code_inputs, row_predicate
from csc_warehouse.load.csv_files import CsvFileInfo, inspect_csv
from csc_warehouse.load.history import record_history
from csc_warehouse.load.raw_partitions import (
    INCOMING,
    attach_incoming,
    clear_incoming,
    create_partition,
    drop_batches,
)
from csc_warehouse.warehouse.db import connect
from csc_warehouse.warehouse.schemas import RAW_METADATA_COLUMNS

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
    file_sha256: str | None = None


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


def batch_id_for(drop: Drop, files: dict[str, str], fmt: str) -> str:
    """Batch id: drop date + a hash of the format and every file's name and sha256."""
    h = hashlib.sha256(f"{fmt}|{drop.drop_date}".encode())
    for name in sorted(files):
        h.update(f"|{name}:{files[name]}".encode())
    return f"{drop.drop_date.isoformat()}-{h.hexdigest()[:12]}"


def _batch_id(drop: Drop, infos: dict[str, CsvFileInfo], fmt: str) -> str:
    return batch_id_for(drop, {i.path.name: i.sha256 for i in infos.values()}, fmt)


def archive_files(settings: Settings, drop: Drop, infos: list[CsvFileInfo]) -> str:
    """Copy the original files to archive/<drop date>/<sha256[:16]>/<name>; never overwrite
    (a file already archived under its checksum is the same bytes)."""
    root = settings.archive / drop.drop_date.isoformat()
    for info in infos:
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


def _archive(settings: Settings, drop: Drop, infos: dict[str, CsvFileInfo]) -> str:
    return archive_files(settings, drop, list(infos.values()))


def _manifest_file_option(drop: Drop, filename: str, option: str) -> str | None:
    files = (drop.manifest or {}).get("files") or {}
    value = (files.get(filename) or {}).get(option) or (drop.manifest or {}).get(option)
    return None if value is None else str(value)


def _date_format_uk(drop: Drop, filename: str) -> bool:
    fmt = _manifest_file_option(drop, filename, "date_format")
    return str(fmt).lower() in ("uk", "dd/mm/yyyy")


def file_encoding(drop: Drop, filename: str, settings: Settings) -> str:
    """The encoding to read a file with: manifest (per file or drop), else the setting."""
    enc = (_manifest_file_option(drop, filename, "encoding") or settings.csv_encoding).lower()
    enc = {"utf-8": "utf8", "utf-8-sig": "utf8", "windows-1252": "cp1252", "win1252": "cp1252",
           "latin-1": "cp1252"}.get(enc, enc)
    if enc not in ("auto", "utf8", "cp1252"):
        raise DropError(f"{filename}: unknown encoding {enc!r} configured (utf8, cp1252, auto)")
    return enc


#: marks a non-blank date value that does not parse (level 1 of ``_clean``)
_BAD_DATE = "!"


def _date_expr(c: sql.Composable, uk: bool) -> sql.Composable:
    """ISO text of a date value, NULL when blank, ``'!'`` when it does not parse.

    Fast path for what nearly every row holds, exact ``YYYY-MM-DD``:
    ``cscw_private.is_iso_date`` (digit shape and calendar arithmetic, inlined; works on
    PostgreSQL 15+). Anything else takes ``cscw_private.iso_date`` (trimmed, time part, UK
    DD/MM/YYYY), inlined. Each value is parsed once."""
    slow = sql.SQL("coalesce(cscw_private.iso_date({c}, {uk}), "
                   "case when btrim({c}) <> '' then {bad} end)").format(
        c=c, uk=sql.Literal(uk), bad=sql.Literal(_BAD_DATE))
    return sql.SQL(
        "case when cscw_private.is_iso_date({c}) then {c} else {slow} end"
    ).format(c=c, slow=slow)


@dataclass(frozen=True)
class _Check:
    """One column's row-level check: fault flag column in ``_clean`` and its reason."""

    column: str
    flag: str
    reason: str


def _clean_select(table: Table, header: list[str], uk: bool,
                  provenance: list[str]) -> tuple[sql.Composable, list[_Check]]:
    """The SELECT that builds ``_clean`` from ``_load`` in one scan: every value normalised
    once (ISO dates, upper-cased codes with aliases mapped, '' = NULL), a fault flag per
    checked column, the key checks and ``_ok`` (no fault at all).

    Three levels, fenced (``offset 0``) so nothing is computed twice: 1. trim/parse each
    value; 2. map codes (an inline CASE; unknown code of a closed list -> NULL) and derive
    the fault flags from level 1; 3. ``_ok``.
    """
    contract = load_contract()
    key = table.key.name
    lvl1: list[sql.Composable] = [sql.SQL("l._row_number")]
    lvl1 += [sql.SQL("l.{}").format(sql.Identifier(p)) for p in provenance]
    lvl2: list[sql.Composable] = [sql.SQL("a._row_number")]
    lvl2 += [sql.SQL("a.{}").format(sql.Identifier(p)) for p in provenance]
    checks: list[_Check] = []
    for i, col in enumerate(table.columns):
        ident = sql.Identifier(col.name)
        c = sql.SQL("l.{}").format(ident)
        a = sql.SQL("a.{}").format(ident)
        if col.name not in header:
            lvl1.append(sql.SQL("null::text as {}").format(ident))
            lvl2.append(sql.SQL("a.{0} as {0}").format(ident))
            continue
        flag = f"_f{i}"
        if col.type == "date":
            lvl1.append(sql.SQL("{} as {}").format(_date_expr(c, uk), ident))
            lvl2.append(sql.SQL("nullif({a}, {bad}) as {i}, ({a} = {bad}) is true as {f}")
                        .format(a=a, i=ident, bad=sql.Literal(_BAD_DATE),
                                f=sql.Identifier(flag)))
            fmt = "YYYY-MM-DD or DD/MM/YYYY" if uk else "YYYY-MM-DD"
            checks.append(_Check(col.name, flag, f"unparseable date (expected {fmt})"))
        elif col.type == "code":
            lvl1.append(sql.SQL("nullif(upper(btrim({})), '') as {}").format(c, ident))
            cl = contract.code_lists[col.code_list or ""]
            inputs, mapping = code_inputs(cl)
            whens = sql.SQL(" ").join(
                sql.SQL("when {} then {}").format(sql.Literal(k), sql.Literal(v))
                for k, v in sorted(mapping.items()))
            mapped = (sql.SQL("case {a} {w} else {a} end").format(a=a, w=whens)
                      if mapping else a)
            if cl.open:
                lvl2.append(sql.SQL("{} as {}").format(mapped, ident))
                continue
            known = sql.SQL("{} = any({}::text[])").format(a, sql.Literal(inputs))
            lvl2.append(sql.SQL("case when {k} then {m} end as {i}, "
                                "({a} is not null and not {k}) as {f}")
                        .format(k=known, m=mapped, a=a, i=ident, f=sql.Identifier(flag)))
            checks.append(_Check(col.name, flag, f"unknown code (not on the {cl.name} list)"))
        elif col.type in ("id", "number"):
            lvl1.append(sql.SQL("nullif(btrim({}), '') as {}").format(c, ident))
            if col.type == "number":
                lvl2.append(sql.SQL("a.{i} as {i}, (a.{i} !~ {re}) is true as {f}").format(
                    i=ident, re=sql.Literal(NUMBER_RE), f=sql.Identifier(flag)))
                checks.append(_Check(col.name, flag, "not a number"))
            else:
                lvl2.append(sql.SQL("a.{0} as {0}").format(ident))
        else:
            lvl1.append(sql.SQL("nullif({}, '') as {}").format(c, ident))
            lvl2.append(sql.SQL("a.{0} as {0}").format(ident))
    extra = [c for c in header if c not in table.column_names]
    extra_expr = (
        sql.SQL("jsonb_build_object({})").format(sql.SQL(", ").join(
            sql.SQL("{}, l.{}").format(sql.Literal(c), sql.Identifier(c)) for c in extra))
        if extra else sql.SQL("null::jsonb"))
    lvl1.append(sql.SQL("{} as _extra, d.n as _dup_n").format(extra_expr))
    lvl2.append(sql.SQL("a._extra, a._dup_n"))
    flags = [sql.SQL("b.{}").format(sql.Identifier(ch.flag)) for ch in checks]
    ok = sql.SQL("b.{k} is not null and b._dup_n is null{rest}").format(
        k=sql.Identifier(key),
        rest=sql.SQL("").join(sql.SQL(" and not {}").format(f) for f in flags))
    kl = sql.SQL("l.{}").format(sql.Identifier(key))
    query = sql.SQL(
        "select b.*, {ok} as _ok from (select {lvl2} from (select {lvl1} from _load l "
        "left join (select btrim({kc}) as v, count(*) as n from _load group by 1 "
        "having count(*) > 1) d on d.v = btrim({kl}) offset 0) a offset 0) b"
    ).format(ok=ok, lvl2=sql.SQL(", ").join(lvl2), lvl1=sql.SQL(", ").join(lvl1),
             kc=sql.Identifier(key), kl=kl)
    return query, checks


def _reject_rows(table: Table, checks: list[_Check]) -> sql.Composable:
    """(_row_number, column_name, value, reason) of every fault of the rows of ``_clean``
    that are not ``_ok`` (few: only they are expanded, with the original text from
    ``_load``)."""
    key = table.key.name
    values = [sql.SQL(
        "({kn}, l.{k}, case when c.{k} is null then 'missing key' when c._dup_n is not null "
        "then 'duplicate key (' || c._dup_n || ' rows share it)' end)").format(
        kn=sql.Literal(key), k=sql.Identifier(key))]
    values += [sql.SQL("({}, l.{}, case when c.{} then {} end)").format(
        sql.Literal(ch.column), sql.Identifier(ch.column), sql.Identifier(ch.flag),
        sql.Literal(ch.reason)) for ch in checks]
    return sql.SQL(
        "select c._row_number, x.col, x.val, x.reason from _clean c "
        "join _load l on l._row_number = c._row_number "
        "cross join lateral (values {}) x(col, val, reason) "
        "where not c._ok and x.reason is not null"
    ).format(sql.SQL(", ").join(values))


@dataclass
class Staged:
    """What sits in the temp table ``_load`` for one contract table: rows mapped from
    SSDA903 files, each with its ``_src_file``, ``_src_sha`` and ``_src_row`` (one raw row
    may be derived from rows of several files)."""

    header: list[str]
    rows_in_file: int
    uk: bool = False


class RawLoader:
    """Transaction, quarantine, insert, history, retention and bookkeeping of one drop."""

    fmt = "ssd"

    def __init__(self, url: str, settings: Settings, progress: Progress | None = None,
                 history: bool = True) -> None:
        self.url = url
        #: apply raw.record_history after the load commits (its own transaction)
        self.history = history
        self.settings = settings
        self.progress = progress or (lambda _msg: None)
        self.contract = load_contract()
        self._timings_lock = threading.Lock()
        #: seconds per phase of the last load (inspect, copy, checks, insert, history, ...)
        self.timings: dict[str, float] = {}

    @contextmanager
    def _phase(self, name: str) -> Iterator[None]:
        t0 = time.perf_counter()
        try:
            yield
        finally:
            with self._timings_lock:  # the SSD loader's worker threads time phases too
                self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - t0

    def _load_batch(self, drop: Drop, batch_id: str, ignored: list[str],
                    archive: Callable[[], str],
                    load_in_transaction: Callable[[object, str], LoadReport]) -> LoadReport:
        """The frame of every load: skip a batch already loaded; else archive the files and
        load in one transaction; on a file-level rejection roll back and record it."""
        conn = connect(self.url)
        try:
            if self._already_loaded(conn, batch_id):
                self.progress(f"{self.fmt} drop {drop.drop_date} already loaded as batch "
                              f"{batch_id}")
                report = self._report_from_db(conn, batch_id, drop.drop_date, ignored)
                conn.rollback()
            else:
                report = self._load_new_batch(conn, drop, batch_id, archive,
                                              load_in_transaction)
            with self._phase("retention"):  # (also on a re-run: a postponed one happens)
                self._retention(conn, batch_id)
        finally:
            conn.close()
        if self.history:  # (a no-op when the night is already in history)
            with self._phase("history"):
                note = record_history(self.url, batch_id)
            self.progress(f"record history: {note}")
        return report

    def _load_new_batch(self, conn, drop: Drop, batch_id: str, archive: Callable[[], str],
                        load_in_transaction: Callable[[object, str], LoadReport]
                        ) -> LoadReport:
        archive_path = archive()
        try:
            return load_in_transaction(conn, archive_path)
        except DropError as e:
            conn.rollback()
            self._record_rejection(conn, drop, batch_id, archive_path, str(e))
            raise
        except psycopg2.Error:
            conn.rollback()
            raise

    # --- batch bookkeeping -------------------------------------------------------------
    def _already_loaded(self, conn, batch_id: str) -> bool:
        with conn.cursor() as cur:
            cur.execute(
                "select status, raw_pruned_at from raw.load_batches where batch_id = %s",
                (batch_id,),
            )
            row = cur.fetchone()
        if row and row[0] == "loaded" and row[1] is None:
            return True
        if row and row[0] == "loaded":
            self.progress(f"batch {batch_id} was loaded before but its raw rows were removed "
                          "by the retention: loading it again")
        return False

    def _record_rejection(self, conn, drop: Drop, batch_id: str, archive: str, msg: str) -> None:
        with conn.cursor() as cur:
            cur.execute(
                """insert into raw.load_batches (batch_id, drop_date, source_format, drop_path,
                       archive_path, status, message, finished_at)
                   values (%s, %s, %s, %s, %s, 'rejected', %s, now())
                   on conflict (batch_id) do update set status = 'rejected',
                       message = excluded.message, finished_at = now()""",
                (batch_id, drop.drop_date, self.fmt, str(drop.path), archive, msg),
            )
        conn.commit()

    def _previous_rows(self, cur, drop_date: dt.date) -> dict[str, int]:
        cur.execute(
            """select f.table_name, f.rows_in_file from raw.load_files f
               where f.status = 'loaded' and f.batch_id = (
                   select batch_id from raw.load_batches
                   where status = 'loaded' and drop_date < %s
                   order by drop_date desc, finished_at desc limit 1)""",
            (drop_date,),
        )
        return dict(cur.fetchall())

    def _begin(self, cur, drop: Drop, batch_id: str, archive_path: str) -> dict[str, int]:
        """Lock, supersede the night's earlier batch, clear its raw rows and rejects.
        Returns the row counts of the previous night (for the empty-file guard)."""
        cur.execute("select pg_advisory_xact_lock(hashtext('cscw_load'))")
        # session settings of the load (the connection is the loader's own): temporary
        # tables stay in memory, no JIT compilation of the wide per-row expressions (it
        # costs more than it saves here), ISO date output (the date check's round trip)
        cur.execute("set temp_buffers = '512MB'; set local jit = off; "
                    "set local work_mem = '256MB'; set local datestyle = 'ISO, YMD'")
        cur.execute(
            """update raw.load_batches set status = 'superseded'
               where drop_date = %s and status = 'loaded' and batch_id <> %s""",
            (drop.drop_date, batch_id),
        )
        cur.execute(
            """insert into raw.load_batches (batch_id, drop_date, source_format, drop_path,
                   archive_path, status)
               values (%s, %s, %s, %s, %s, 'loading')
               on conflict (batch_id) do update set status = 'loading', message = null,
                   started_at = now(), finished_at = null, raw_pruned_at = null,
                   drop_path = excluded.drop_path, archive_path = excluded.archive_path""",
            (batch_id, drop.drop_date, self.fmt, str(drop.path), archive_path),
        )
        cur.execute("delete from raw.load_files where batch_id = %s", (batch_id,))
        cur.execute("delete from raw.load_source_files where batch_id = %s", (batch_id,))
        cur.execute("delete from raw.rejects where drop_date = %s", (drop.drop_date,))
        cur.execute("select batch_id from raw.load_batches where drop_date = %s",
                    (drop.drop_date,))
        same_night = [r[0] for r in cur.fetchall()]
        drop_batches(cur, list(self.contract.tables), same_night)
        return self._previous_rows(cur, drop.drop_date)

    def _guard_empty(self, name: str, t: TableLoad, previous: dict[str, int]) -> None:
        if t.rows_in_file == 0 and previous.get(name, 0) > 0 and not self.settings.may_be_empty(
            name
        ):
            raise DropError(
                f"{t.source_file}: empty, but the table had {previous[name]} rows last night "
                "(a broken export?); the drop is rejected. If the table can legitimately be "
                f"empty, add {name} to CSCW_ALLOW_EMPTY_TABLES"
            )

    def _record_table(self, cur, batch_id: str, t: TableLoad) -> None:
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

    def _finish(self, cur, drop: Drop, batch_id: str, tables: dict[str, TableLoad]) -> None:
        loaded = sum(t.rows_loaded for t in tables.values())
        rejected = sum(t.rows_rejected for t in tables.values())
        cur.execute(
            """update raw.load_batches set status = 'loaded', finished_at = now(),
                   message = %s
               where batch_id = %s""",
            (f"{loaded} rows loaded, {rejected} quarantined", batch_id),
        )

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
        select, checks = _clean_select(table, header, uk, ["_src_file", "_src_sha", "_src_row"])
        with self._phase("checks"):
            cur.execute("drop table if exists _clean")
            cur.execute(sql.SQL("create temp table _clean on commit drop as {}").format(select))
            cur.execute(
                sql.SQL(
                    "create temp table _rej on commit drop as "
                    "select * from ({}) r(_row_number, column_name, value, reason)"
                ).format(_reject_rows(table, checks))
            )
            cur.execute(
                """insert into raw.rejects (batch_id, drop_date, table_name, source_file,
                       row_number, column_name, value, reason)
                   select %s, %s, %s, l._src_file, l._src_row, r.column_name, r.value,
                          r.reason
                   from _rej r join _load l using (_row_number)""",
                (batch_id, drop_date, table.name),
            )
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

    # --- retention -----------------------------------------------------------------------
    #: how long the retention waits for readers of raw.<table> (dropping a partition locks
    #: its parent against them) before it leaves the old nights to the next load
    retention_lock_timeout = "10s"

    def _retention(self, conn, batch_id: str) -> None:
        """The retention, in its own transaction after the night is in: a reader holding a
        raw table (an analyst's long query) postpones it instead of holding up the load."""
        try:
            with conn.cursor() as cur:
                cur.execute("set local lock_timeout = %s", (self.retention_lock_timeout,))
                self._prune(cur, batch_id)
            conn.commit()
        except psycopg2.errors.LockNotAvailable:
            conn.rollback()
            self.progress("retention postponed: a raw table is in use; the next load "
                          "removes the older nights")

    def _prune(self, cur, batch_id: str) -> None:
        """Keep the last CSCW_RAW_KEEP_BATCHES loaded nights (and this one) in raw.<table>."""
        cur.execute(
            """select batch_id from raw.load_batches
               where raw_pruned_at is null and status in ('loaded', 'superseded')
                 and history_applied is not null
                 and batch_id <> %s
                 and batch_id not in (select batch_id from raw.load_batches
                                      where status = 'loaded'
                                      order by drop_date desc, finished_at desc
                                      limit %s)""",
            (batch_id, self.settings.raw_keep_batches),
        )
        old = [r[0] for r in cur.fetchall()]
        if not old:
            return
        self.progress(f"retention: removing {len(old)} older batch(es) from raw tables")
        drop_batches(cur, list(self.contract.tables), old)
        cur.execute("update raw.load_batches set raw_pruned_at = now() where batch_id = any(%s)",
                    (old,))

    def _report_from_db(self, conn, batch_id, drop_date, ignored) -> LoadReport:
        with conn.cursor() as cur:
            cur.execute(
                """select table_name, status, source_file, encoding, rows_in_file, rows_loaded,
                          rows_rejected, coalesce(extra_columns, '{}'),
                          coalesce(columns_present, '{}'), file_sha256
                   from raw.load_files where batch_id = %s""",
                (batch_id,),
            )
            tables = {}
            for name, status, src, enc, rin, rl, rr, extra, present, sha in cur.fetchall():
                tables[name] = TableLoad(name, status, src, enc, rin or 0, rl or 0, rr or 0,
                                         list(extra), list(present), sha)
        return LoadReport(batch_id, drop_date, True, tables, ignored)


class SsdLoader(RawLoader):
    """The SSD loader: COPY each file once, check it in place, attach the night whole.

    ``CSCW_LOAD_CONNECTIONS`` connections share the work: each file is COPYed into
    ``raw_incoming.<table>`` (a fresh table per file, FREEZE, row numbers from a sequence)
    and committed, then checked there by whichever connection is free: duplicated keys,
    then one scan with the cheap canonical predicates (``load/canonical.py``). Only the rows
    that fail them go through the full normalisation and checks (``_clean_select``): they
    are normalised in place or quarantined. The batch columns are added as constant
    defaults (no rewrite). Nothing is visible in ``raw`` until one short transaction has
    recorded the batch and attached every table as the night's partition: the drop is
    still all or nothing, and a rejected or interrupted drop leaves only ``raw_incoming``
    tables, which are dropped.
    """

    fmt = "ssd"

    # ---------------------------------------------------------------------------------------
    def check(self, drop: Drop, count_rows: bool = True) -> tuple[dict[str, CsvFileInfo],
                                                                     list[str]]:
        """File-level checks that need no database: manifest, encoding, CSV-ness, required
        columns. Returns the inspected files by table and the names of ignored files.

        count_rows=False: the manifest's row counts are left to the load (compared with the
        rows COPY read)."""
        check_manifest_files_present(drop)
        infos: dict[str, CsvFileInfo] = {}
        ignored: list[str] = []
        for path in sorted(p for p in drop.path.iterdir() if p.is_file()):
            if path.suffix.lower() != ".csv" and path.stem.lower() in self.contract.tables:
                raise DropError(f"{path.name}: not a CSV file (a contract table must be "
                                f"delivered as {path.stem.lower()}.csv)")
        for path in drop.csv_files:
            name = path.stem.lower()
            if name not in self.contract.tables:
                ignored.append(path.name)
                continue
            info = inspect_csv(path, file_encoding(drop, path.name, self.settings))
            verify_manifest_file(drop, path.name, info.sha256, count_rows=count_rows)
            table = self.contract.tables[name]
            missing = [c for c in table.required_columns if c not in info.header]
            if missing:
                raise DropError(
                    f"{path.name}: missing required column"
                    f"{'s' if len(missing) > 1 else ''} {', '.join(missing)}"
                )
            infos[name] = info
        loaded = {i.path.name for i in infos.values()}
        for name in (drop.manifest or {}).get("files") or {}:
            if name not in loaded:  # not loaded: no COPY counts its rows
                verify_manifest_file(drop, name)
        if not infos:
            raise DropError(f"{drop.path}: no file of the extract contract in the drop")
        return infos, ignored

    def load(self, drop: Drop) -> LoadReport:
        self.timings = {}
        with self._phase("inspect"):
            infos, ignored = self.check(drop, count_rows=False)
        batch_id = _batch_id(drop, infos, "ssd")
        return self._load_batch(
            drop, batch_id, ignored,
            archive=lambda: _archive(self.settings, drop, infos),
            load_in_transaction=lambda conn, archive_path: self._load_pipelined(
                conn, drop, infos, ignored, batch_id, archive_path),
        )

    # --- the pipeline ------------------------------------------------------------------------
    def _load_pipelined(self, conn, drop: Drop, infos: dict[str, CsvFileInfo],
                        ignored: list[str], batch_id: str, archive_path: str) -> LoadReport:
        with conn.cursor() as cur:
            cur.execute("select pg_advisory_lock(hashtext('cscw_load'))")
        try:
            with conn.cursor() as cur:
                clear_incoming(cur)
                parent_columns = self._raw_columns(cur)
            conn.commit()
            try:
                with self._phase("copy + checks (overlapped)"):
                    checked = self._copy_and_check(drop, infos, batch_id, parent_columns)
                with self._phase("attach"), conn.cursor() as cur:
                    report = self._attach_night(cur, drop, infos, ignored, batch_id,
                                                archive_path, checked)
                conn.commit()
                return report
            except BaseException:
                conn.rollback()
                try:
                    with conn.cursor() as cur:
                        clear_incoming(cur)
                    conn.commit()
                except psycopg2.Error:  # the original error matters more; the next load
                    conn.rollback()     # drops what is left
                raise
        finally:
            conn.rollback()
            with conn.cursor() as cur:
                cur.execute("select pg_advisory_unlock(hashtext('cscw_load'))")
            conn.commit()

    def _raw_columns(self, cur) -> dict[str, list[str]]:
        """The data columns of each raw.<table> as the warehouse has them: the contract's,
        plus any an older contract had (a partition must carry every column of its parent;
        they stay NULL)."""
        cur.execute(
            """select table_name, column_name from information_schema.columns
               where table_schema = 'raw' and table_name = any(%s)
               order by table_name, ordinal_position""",
            (list(self.contract.tables),))
        meta = {name for name, _ in RAW_METADATA_COLUMNS} | {"_row_number"}
        out: dict[str, list[str]] = {}
        for table, column in cur.fetchall():
            if column not in meta and not column.startswith("_"):
                out.setdefault(table, []).append(column)
        return out

    def _copy_and_check(self, drop: Drop, infos: dict[str, CsvFileInfo], batch_id: str,
                        parent_columns: dict[str, list[str]]) -> dict[str, _Checked]:
        """COPY and check every file on ``CSCW_LOAD_CONNECTIONS`` connections (a thread
        each). Whenever a connection is free it checks the largest file already COPYed, else
        COPYs the largest file not yet COPYed: the cores stay busy and the night ends with
        the small files. Returns each file's report and reject rows. The first failure
        cancels what the other connections are doing and is raised here."""
        loaded_at = dt.datetime.now(dt.UTC)
        to_copy = sorted(infos, key=lambda n: -infos[n].size)
        to_check: list[tuple[str, int]] = []  # (table, rows COPYed), largest file first
        copying = 0
        checked: dict[str, _Checked] = {}
        failure: list[BaseException] = []
        conns: list = []
        cond = threading.Condition()

        def fail(e: BaseException) -> None:
            with cond:
                failure.append(e)
                cond.notify_all()
                busy = list(conns)
            for c in busy:  # stop the other connections' COPY or scan now
                with suppress(psycopg2.Error):
                    c.cancel()

        def next_task() -> tuple[str, str, int] | None:
            nonlocal copying
            with cond:
                while not failure:
                    if to_check:
                        name, rows = to_check.pop(0)
                        return "check", name, rows
                    if to_copy:
                        copying += 1
                        return "copy", to_copy.pop(0), 0
                    if not copying:
                        return None  # nothing left, nothing coming
                    cond.wait()
                return None

        def work() -> None:
            nonlocal copying
            try:
                with closing(connect(self.url)) as conn:
                    with cond:
                        conns.append(conn)
                    with conn.cursor() as cur:
                        cur.execute("set datestyle = 'ISO, YMD'; set jit = off; "
                                    "set work_mem = '256MB'; set temp_buffers = '512MB'")
                    conn.commit()
                    while (task := next_task()) is not None:
                        kind, name, rows = task
                        table = self.contract.tables[name]
                        if kind == "copy":
                            self.progress(f"loading {infos[name].path.name}")
                            with self._phase("copy"):
                                rows = self._copy_file(conn, table, infos[name],
                                                       parent_columns.get(name, []))
                            with cond:
                                copying -= 1
                                to_check.append((name, rows))
                                to_check.sort(key=lambda t: -infos[t[0]].size)
                                cond.notify_all()
                        else:
                            with self._phase("checks"):
                                result = self._check_incoming(conn, drop, table, infos[name],
                                                              rows, batch_id, loaded_at)
                            with cond:
                                checked[name] = result
                                cond.notify_all()
                    with cond:
                        conns.remove(conn)
            except BaseException as e:  # noqa: BLE001 - re-raised by the calling thread
                fail(e)

        workers = [threading.Thread(target=work, name=f"cscw-load-{i}", daemon=True)
                   for i in range(max(1, min(self.settings.load_connections, len(infos))))]
        try:
            for w in workers:
                w.start()
            for w in workers:
                w.join()
        except BaseException as e:  # interrupted here (a task timeout, Ctrl-C): stop them
            fail(e)
            for w in workers:
                w.join()
            raise
        if failure:
            raise failure[0]
        return checked

    def _copy_file(self, conn, table: Table, info: CsvFileInfo, raw_columns: list[str]) -> int:
        """COPY one file into a new ``raw_incoming.<table>``; returns the data rows read."""
        inc = sql.Identifier(INCOMING, table.name)
        extra = [c for c in info.header if c not in table.column_names]
        legacy = [c for c in raw_columns if c not in table.column_names]
        cols = [*table.column_names, *legacy, *(_extra_name(i) for i in range(len(extra)))]
        in_file = _incoming_names(table, info.header)
        # an empty field of a contract column is NULL, quoted or not; columns outside the
        # contract keep their text as delivered (they go to _extra as they are)
        force_null = [c for c in info.header if c in table.column_names]
        with conn.cursor() as cur:
            # row numbers as in the file (the header is row 1) from an identity column: its
            # cached sequence costs next to nothing per row
            cur.execute(
                sql.SQL("create table {} ({}, _row_number bigint not null generated always "
                        "as identity (start with 2 cache 100000))")
                .format(inc, sql.SQL(", ").join(sql.SQL("{} text").format(sql.Identifier(c))
                                                for c in cols)))
            quoted = sql.SQL(", ").join(sql.Identifier(c) for c in in_file)
            copy = sql.SQL(
                "copy {} ({}) from stdin with (format csv, header true, encoding {}, "
                "force_null ({}), freeze)"
            ).format(inc, quoted, sql.Literal(info.encoding),
                     sql.SQL(", ").join(sql.Identifier(c) for c in force_null))
            try:
                with info.path.open("rb") as f:
                    cur.copy_expert(copy.as_string(cur), f, size=1 << 20)
            except psycopg2.errors.QueryCanceled:
                conn.rollback()
                raise
            except psycopg2.Error as e:
                conn.rollback()

                def named(text: str) -> str:  # the file's own names, not the work table's
                    return re.sub(r"_extra_(\d+)", lambda m: extra[int(m.group(1))], text)

                detail = e.diag.message_primary or (e.pgerror or str(e)).strip().splitlines()[0]
                context = re.sub(r"^COPY [^,]+, ", "", e.diag.context or "")
                raise DropError(
                    f"{info.path.name}: not a well-formed CSV file: {named(detail)}"
                    f"{' (' + named(context) + ')' if context else ''}"
                ) from None
            rows = cur.rowcount
        conn.commit()
        return rows

    def _check_incoming(self, conn, drop: Drop, table: Table, info: CsvFileInfo,
                        rows_in_file: int, batch_id: str,
                        loaded_at: dt.datetime) -> _Checked:
        """Row-level checks of one COPYed file, in place; then its batch columns."""
        check_manifest_rows(drop, info.path.name, rows_in_file)
        inc = sql.Identifier(INCOMING, table.name)
        key = sql.Identifier(table.key.name)
        header = info.header
        extra = [c for c in header if c not in table.column_names]
        present = [c for c in header if c in table.column_names]
        uk = _date_format_uk(drop, info.path.name)
        rejects: list[tuple] = []
        rows_rejected = 0
        with conn.cursor() as cur:
            # keys held by more than one row exactly; keys equal only once trimmed are found
            # below (a key with blanks is never canonical)
            with self._phase("checks: duplicate keys"):
                cur.execute(sql.SQL("select {k} from {t} where {k} is not null "
                                    "group by 1 having count(*) > 1").format(k=key, t=inc))
                dups = [r[0] for r in cur.fetchall()]
            in_incoming = _incoming_names(table, header)
            as_header = sql.SQL(", ").join(
                sql.SQL("{} as {}").format(sql.Identifier(i), sql.Identifier(c))
                for i, c in zip(in_incoming, header, strict=True))

            def suspects(optimistic: bool) -> sql.Composable:
                canonical = row_predicate(table, present, self.contract, conn.server_version,
                                          optimistic)
                where = sql.SQL("not ({})").format(canonical)
                if dups:
                    where = sql.SQL("{} or {} = any({})").format(where, key, sql.Literal(dups))
                return sql.SQL("create temp table _load on commit drop as select {}, "
                               "_row_number from {} where {}").format(as_header, inc, where)

            # every row that is not canonical (or shares its key) goes to the full checks;
            # the optimistic date test raises on an impossible date: then the safe one
            with self._phase("checks: canonical scan"):
                cur.execute("savepoint suspects")
                try:
                    cur.execute(suspects(optimistic=True))
                except psycopg2.DataError:  # class 22: any value the cast refuses
                    cur.execute("rollback to savepoint suspects")
                    cur.execute(suspects(optimistic=False))
            # a key with blanks may equal a canonical key once trimmed: bring those rows in
            cur.execute(sql.SQL("select count(*), count(*) filter (where {k} <> btrim({k})) "
                                "from _load").format(k=key))
            n_suspects, n_blank_keys = cur.fetchone()
            if n_blank_keys:
                incoming_cols = sql.SQL(", ").join(
                    sql.SQL("t.{}").format(sql.Identifier(i)) for i in in_incoming)
                cur.execute(sql.SQL(
                    "insert into _load select {h}, t._row_number from {t} t "
                    "where t.{k} in (select btrim(l.{k}) from _load l "
                    "where l.{k} <> btrim(l.{k})) "
                    "and t._row_number not in (select _row_number from _load)"
                ).format(h=incoming_cols, t=inc, k=key))
                n_suspects += cur.rowcount
            if n_suspects:
                with self._phase("checks: full checks of the suspects"):
                    select, checks = _clean_select(table, header, uk, [])
                    cur.execute(sql.SQL("create temp table _clean on commit drop as {}")
                                .format(select))
                    cur.execute(_reject_rows(table, checks))
                    found = cur.fetchall()
                    rows_rejected = len({r[0] for r in found})
                    rejects = [(batch_id, drop.drop_date, table.name, info.path.name, *r)
                               for r in found]
                    self._check_threshold(info.path.name, rows_in_file, found)
                    cur.execute(sql.SQL("delete from {} t using _clean c where not c._ok "
                                        "and t._row_number = c._row_number").format(inc))
                    if present:
                        cur.execute(sql.SQL(
                            "update {} t set ({}) = (select {}) from _clean c "
                            "where c._ok and t._row_number = c._row_number").format(
                            inc, sql.SQL(", ").join(sql.Identifier(c) for c in present),
                            sql.SQL(", ").join(sql.SQL("c.{}").format(sql.Identifier(c))
                                               for c in present)))
            self._finish_incoming(cur, drop, table, info, extra, batch_id, loaded_at)
        conn.commit()
        return _Checked(
            TableLoad(table=table.name, status="loaded", source_file=info.path.name,
                      encoding=info.encoding, rows_in_file=rows_in_file,
                      rows_loaded=rows_in_file - rows_rejected, rows_rejected=rows_rejected,
                      extra_columns=extra, columns_present=present,
                      file_sha256=info.sha256),
            rejects)

    def _finish_incoming(self, cur, drop: Drop, table: Table, info: CsvFileInfo,
                         extra: list[str], batch_id: str, loaded_at: dt.datetime) -> None:
        """Fold the columns outside the contract into ``_extra``; add the batch columns."""
        inc = sql.Identifier(INCOMING, table.name)
        with self._phase("checks: batch columns"):
            cur.execute(sql.SQL("alter table {} add column _extra jsonb").format(inc))
            if extra:
                cur.execute(sql.SQL("update {} set _extra = jsonb_build_object({})").format(
                    inc, sql.SQL(", ").join(
                        sql.SQL("{}, {}").format(sql.Literal(c),
                                                 sql.Identifier(_extra_name(i)))
                        for i, c in enumerate(extra))))
                cur.execute(sql.SQL("alter table {} {}").format(inc, sql.SQL(", ").join(
                    sql.SQL("drop column {}").format(sql.Identifier(_extra_name(i)))
                    for i in range(len(extra)))))
            # the batch columns: constant defaults, stored once in the catalog (no rewrite);
            # the CHECK lets the attach skip its validation scan
            cur.execute(sql.SQL(
                "alter table {t} alter column _row_number drop identity, "
                "add column _batch_id text not null default {b} check (_batch_id = {b}), "
                "add column _drop_date date not null default {d}, "
                "add column _source_file text not null default {f}, "
                "add column _file_sha256 text not null default {h}, "
                "add column _loaded_at timestamptz not null default {at}").format(
                t=inc, b=sql.Literal(batch_id), d=sql.Literal(drop.drop_date.isoformat()),
                f=sql.Literal(info.path.name), h=sql.Literal(info.sha256),
                at=sql.Literal(loaded_at.isoformat())))

    def _check_threshold(self, source_file: str, rows_in_file: int,
                         found: list[tuple]) -> None:
        """Too many rejected rows in one file reject the whole drop."""
        threshold = self.settings.reject_threshold
        rejected = len({r[0] for r in found})
        if threshold is None or not rows_in_file or rejected <= threshold * rows_in_file:
            return
        reasons = collections.Counter(r[3] for r in found).most_common(3)
        first_row, first_col = min((r[0], r[1]) for r in found)
        raise DropError(
            f"{source_file}: {rejected} of {rows_in_file} rows fail row-level checks "
            f"({rejected / rows_in_file:.1%}, over the {threshold:.0%} threshold): "
            f"{'; '.join(f'{r} x{n}' for r, n in reasons)}; first at row {first_row}, "
            f"column {first_col}"
        )

    def _attach_night(self, cur, drop: Drop, infos: dict[str, CsvFileInfo],
                      ignored: list[str], batch_id: str, archive_path: str,
                      checked: dict[str, _Checked]) -> LoadReport:
        """The one transaction that makes the night visible: bookkeeping, attach, rejects."""
        previous = self._begin(cur, drop, batch_id, archive_path)
        tables: dict[str, TableLoad] = {}
        for name in self.contract.tables:
            if name not in checked:
                tables[name] = TableLoad(table=name, status="absent")
                self._record_table(cur, batch_id, tables[name])
                continue
            t = tables[name] = checked[name].load
            self._guard_empty(name, t, previous)
            attach_incoming(cur, name, batch_id)
            if checked[name].rejects:
                execute_values(
                    cur,
                    "insert into raw.rejects (batch_id, drop_date, table_name, source_file, "
                    "row_number, column_name, value, reason) values %s",
                    checked[name].rejects, page_size=1000)
            cur.execute(
                """insert into raw.load_source_files (batch_id, source_file, file_sha256,
                       encoding, role, rows_in_file, rows_rejected, status)
                   values (%s, %s, %s, %s, %s, %s, %s, 'loaded')""",
                (batch_id, t.source_file, t.file_sha256, t.encoding, name, t.rows_in_file,
                 t.rows_rejected),
            )
            self._record_table(cur, batch_id, t)
        self._finish(cur, drop, batch_id, tables)
        return LoadReport(batch_id, drop.drop_date, False, tables, ignored)


@dataclass
class _Checked:
    """One file, COPYed and checked in ``raw_incoming``: its report and its reject rows."""

    load: TableLoad
    rejects: list[tuple]


def _incoming_names(table: Table, header: list[str]) -> list[str]:
    """Each file column's name in ``raw_incoming.<table>``: its own for a contract column,
    ``_extra_<n>`` for the n-th column outside the contract."""
    extra = [c for c in header if c not in table.column_names]
    return [c if c in table.column_names else _extra_name(extra.index(c)) for c in header]


def _extra_name(i: int) -> str:
    """Where a column outside the contract waits in ``raw_incoming`` (its own name could
    clash with a batch column) until it is folded into ``_extra``."""
    return f"_extra_{i}"
