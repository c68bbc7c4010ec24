"""Bulk load of an SSD drop into ``raw``: COPY, set-based checks, quarantine, one transaction.

Per file: COPY into a temporary text table (row numbers assigned in file order), find the
row-level faults with SQL (missing or duplicated key, unparseable date, unknown code,
non-numeric number) and quarantine them in ``raw.rejects``, then insert the rest into
``raw.<table>`` with dates normalised to ISO and codes upper-cased and mapped. The whole drop
is one transaction: a file-level rejection anywhere leaves ``raw`` exactly as it was.

In the same transaction, set-based:

- ``raw.record_history`` (SCD2) is brought up to date from the new snapshot: versions whose
  record changed or disappeared are closed at this drop date, new versions are opened.
- the retention keeps the last ``CSCW_RAW_KEEP_BATCHES`` nights in ``raw.<table>``; older
  nights are deleted there (their records live on in ``raw.record_history``).

``RawLoader`` holds the machinery shared with the SSDA903 loader (``load/ssda903.py``), which
stages its mapped rows in the same temporary table and reuses the checks, the insert, the
history and the bookkeeping.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import psycopg2
from psycopg2 import sql

from csc_warehouse.config import Settings
from csc_warehouse.contract import Table, load_contract
from csc_warehouse.drop import Drop, DropError, verify_manifest
from csc_warehouse.load.csv_files import CsvFileInfo, inspect_csv
from csc_warehouse.warehouse.db import connect

Progress = Callable[[str], None]

#: raw metadata columns that are not part of a record's content (history ignores them)
_META_NOT_CONTENT = ("_batch_id", "_drop_date", "_source_file", "_file_sha256", "_row_number",
                     "_loaded_at", "_row_hash")

HISTORY_UPDATED = "history updated"


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


def _code_inputs(code_list: str) -> tuple[list[str], dict[str, str]]:
    """(accepted upper-cased inputs, input -> code where they differ) of a code list."""
    cl = load_contract().code_lists[code_list]
    mapping = {v.upper(): v for v in cl.values if v.upper() != v}
    mapping.update({a.upper(): c for a, c in cl.aliases.items() if a.upper() != c})
    inputs = sorted({v.upper() for v in cl.values} | {a.upper() for a in cl.aliases})
    return inputs, mapping


_NUMBER_RE = "^-?[0-9]+(\\.[0-9]+)?$"
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
            inputs, mapping = _code_inputs(cl.name)
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
                    i=ident, re=sql.Literal(_NUMBER_RE), f=sql.Identifier(flag)))
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
    """What sits in the temp table ``_load`` for one contract table.

    ``source`` = (file name, sha256) when every row comes from one file (SSD); None when
    ``_load`` carries per-row ``_src_file``, ``_src_sha`` and ``_src_row`` (SSDA903, where
    one raw row is derived from rows of several files).
    """

    header: list[str]
    rows_in_file: int
    uk: bool = False
    source: tuple[str, str] | None = None


class RawLoader:
    """Transaction, quarantine, insert, history, retention and bookkeeping of one drop."""

    fmt = "ssd"

    def __init__(self, url: str, settings: Settings, progress: Progress | None = None) -> None:
        self.url = url
        self.settings = settings
        self.progress = progress or (lambda _msg: None)
        self.contract = load_contract()
        #: seconds per phase of the last load (inspect, copy, checks, insert, history, ...)
        self.timings: dict[str, float] = {}

    @contextmanager
    def _phase(self, name: str) -> Iterator[None]:
        t0 = time.perf_counter()
        try:
            yield
        finally:
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
                return self._report_from_db(conn, batch_id, drop.drop_date, ignored)
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
        finally:
            conn.close()

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
        # session settings of the load (the connection is the loader's own): temp tables
        # stay in memory, no JIT compilation of the wide per-row expressions
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
        for name in self.contract.tables:
            cur.execute(
                sql.SQL("delete from {} where _batch_id = any(%s)").format(
                    sql.Identifier("raw", name)
                ),
                (same_night,),
            )
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
        with self._phase("history"):
            history = self._apply_history(cur, drop.drop_date, batch_id, tables)
        loaded = sum(t.rows_loaded for t in tables.values())
        rejected = sum(t.rows_rejected for t in tables.values())
        cur.execute(
            """update raw.load_batches set status = 'loaded', finished_at = now(),
                   message = %s,
                   history_applied = case when %s then true else history_applied end
               where batch_id = %s""",
            (f"{loaded} rows loaded, {rejected} quarantined; {history}",
             history == HISTORY_UPDATED, batch_id),
        )
        with self._phase("retention"):
            self._prune(cur, batch_id)

    # --- quarantine + insert -------------------------------------------------------------
    def _quarantine_and_insert(self, cur, table: Table, staged: Staged, batch_id: str,
                               drop_date: dt.date, threshold: float | None) -> TableLoad:
        """Row-level checks on ``_load``, rejects into raw.rejects, good rows into raw.

        One scan of ``_load`` builds ``_clean`` (each value normalised once, fault flags);
        the rejects are the few rows of ``_clean`` that are not ``_ok``; the insert copies
        the ``_ok`` rows with their row hash."""
        header, uk = staged.header, staged.uk
        rows_in_file = staged.rows_in_file
        provenance = [] if staged.source else ["_src_file", "_src_sha", "_src_row"]
        select, checks = _clean_select(table, header, uk, provenance)
        with self._phase("checks"):
            cur.execute("drop table if exists _clean")
            cur.execute(sql.SQL("create temp table _clean on commit drop as {}").format(select))
            cur.execute(
                sql.SQL(
                    "create temp table _rej on commit drop as "
                    "select * from ({}) r(_row_number, column_name, value, reason)"
                ).format(_reject_rows(table, checks))
            )
            if staged.source:
                cur.execute(
                    """insert into raw.rejects (batch_id, drop_date, table_name, source_file,
                           row_number, column_name, value, reason)
                       select %s, %s, %s, %s, _row_number, column_name, value, reason
                       from _rej""",
                    (batch_id, drop_date, table.name, staged.source[0]),
                )
            else:
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
        if threshold is not None and rows_in_file and rows_rejected > threshold * rows_in_file:
            cur.execute(
                "select reason, count(*) from _rej group by reason order by 2 desc limit 3"
            )
            reasons = "; ".join(f"{r} x{n}" for r, n in cur.fetchall())
            cur.execute("select _row_number, column_name from _rej order by 1 limit 1")
            first_row, first_col = cur.fetchone()
            name = staged.source[0] if staged.source else table.name
            raise DropError(
                f"{name}: {rows_rejected} of {rows_in_file} rows fail row-level "
                f"checks ({rows_rejected / rows_in_file:.1%}, over the "
                f"{threshold:.0%} threshold): {reasons}; first at row {first_row}, "
                f"column {first_col}"
            )
        extra = [c for c in header if c not in table.column_names]
        cols = table.column_names
        if staged.source:
            provenance_sql = sql.SQL("{}::text, {}::text, c._row_number").format(
                sql.Literal(staged.source[0]), sql.Literal(staged.source[1]))
        else:
            provenance_sql = sql.SQL("c._src_file, c._src_sha, c._src_row")
        targets = sql.SQL(", ").join(sql.Identifier(c) for c in [
            *cols, "_extra", "_source_file", "_file_sha256", "_row_number", "_batch_id",
            "_drop_date", "_loaded_at", "_row_hash"])
        content = sql.SQL(", ").join(sql.SQL("c.{}").format(sql.Identifier(c))
                                     for c in [*cols, "_extra"])
        with self._phase("insert"):
            cur.execute(
                sql.SQL(
                    "insert into {tbl} ({targets}) "
                    "select {content}, {prov}, %s, %s, now(), md5(row({content})::text)::uuid "
                    "from _clean c where c._ok"
                ).format(
                    tbl=sql.Identifier("raw", table.name),
                    targets=targets,
                    content=content,
                    prov=provenance_sql,
                ),
                (batch_id, drop_date),
            )
            rows_loaded = cur.rowcount
        cur.execute("drop table _load; drop table _clean; drop table _rej")
        return TableLoad(
            table=table.name, status="loaded",
            source_file=staged.source[0] if staged.source else None,
            file_sha256=staged.source[1] if staged.source else None,
            rows_in_file=rows_in_file, rows_loaded=rows_loaded,
            rows_rejected=rows_rejected, extra_columns=extra,
            columns_present=[c for c in header if c in table.column_names],
        )

    # --- history (SCD2) ------------------------------------------------------------------
    def _apply_history(self, cur, drop_date: dt.date, batch_id: str,
                       tables: dict[str, TableLoad]) -> str:
        """Bring raw.record_history up to this snapshot, set-based. Returns a status note.

        Drops are applied in date order. Re-loading the latest night (a corrected drop for
        the same date) first undoes that night's changes; loading a night older than the
        latest one in history (a late re-run) leaves history as it is.
        """
        cur.execute(
            """select max(drop_date) from raw.load_batches
               where history_applied and batch_id <> %s
                 and status in ('loaded', 'superseded')""",
            (batch_id,),
        )
        latest = cur.fetchone()[0]
        if latest is not None and latest > drop_date:
            return f"history kept (a later night, {latest}, is already in it)"
        if latest is not None and latest == drop_date:
            cur.execute("delete from raw.record_history where valid_from_drop = %s",
                        (drop_date,))
            cur.execute(
                """update raw.record_history set valid_to_drop = null, valid_to_batch = null
                   where valid_to_drop = %s""",
                (drop_date,),
            )
            cur.execute(
                """update raw.load_batches set history_applied = false
                   where drop_date = %s and batch_id <> %s""",
                (drop_date, batch_id),
            )
        # the raw rows were just inserted (no statistics yet): without this the planner
        # picks a nested loop per history row; the comparisons are whole-table hash joins
        cur.execute("set local enable_nestloop = off")
        for name, t in tables.items():
            if t.status != "loaded":
                continue  # an absent table says nothing about its records
            table = self.contract.tables[name]
            tbl = sql.Identifier("raw", name)
            key = sql.Identifier(table.key.name)
            # the record: contract columns and _extra, nulls stripped (built explicitly:
            # cheaper than to_jsonb(row) minus the metadata keys, and the same value)
            record = sql.SQL("jsonb_strip_nulls(jsonb_build_object({}))").format(
                sql.SQL(", ").join(sql.SQL("{}, r.{}").format(sql.Literal(c), sql.Identifier(c))
                                   for c in [*table.column_names, "_extra"]))
            cur.execute("select exists (select 1 from raw.record_history "
                        "where table_name = %s and valid_to_drop is null)", (name,))
            if not cur.fetchone()[0]:
                # nothing open (the table's first night, or all its records were gone):
                # every record opens a version, no comparison needed
                cur.execute(
                    sql.SQL(
                        "insert into raw.record_history (table_name, record_key, row_hash, "
                        "valid_from_drop, valid_from_batch, record) "
                        "select %s, r.{key}, r._row_hash, %s, %s, {record} from {tbl} r "
                        "where r._batch_id = %s"
                    ).format(tbl=tbl, key=key, record=record),
                    (name, drop_date, batch_id, batch_id),
                )
                continue
            cur.execute(
                sql.SQL(
                    "update raw.record_history h set valid_to_drop = %s, valid_to_batch = %s "
                    "where h.table_name = %s and h.valid_to_drop is null "
                    "and not exists (select 1 from {tbl} r where r._batch_id = %s "
                    "and r.{key} = h.record_key and r._row_hash = h.row_hash)"
                ).format(tbl=tbl, key=key),
                (drop_date, batch_id, name, batch_id),
            )
            cur.execute(
                sql.SQL(
                    "insert into raw.record_history (table_name, record_key, row_hash, "
                    "valid_from_drop, valid_from_batch, record) "
                    "select %s, r.{key}, r._row_hash, %s, %s, {record} from {tbl} r "
                    "where r._batch_id = %s and not exists (select 1 from raw.record_history h "
                    "where h.table_name = %s and h.valid_to_drop is null "
                    "and h.record_key = r.{key})"
                ).format(tbl=tbl, key=key, record=record),
                (name, drop_date, batch_id, batch_id, name),
            )
        cur.execute("set local enable_nestloop = on")
        return HISTORY_UPDATED

    # --- retention -----------------------------------------------------------------------
    def _prune(self, cur, batch_id: str) -> None:
        """Keep the last CSCW_RAW_KEEP_BATCHES loaded nights (and this one) in raw.<table>."""
        cur.execute(
            """select batch_id from raw.load_batches
               where raw_pruned_at is null and status in ('loaded', 'superseded')
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
        for name in self.contract.tables:
            cur.execute(
                sql.SQL("delete from {} where _batch_id = any(%s)").format(
                    sql.Identifier("raw", name)),
                (old,),
            )
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
    fmt = "ssd"

    # ---------------------------------------------------------------------------------------
    def check(self, drop: Drop) -> tuple[dict[str, CsvFileInfo], list[str]]:
        """File-level checks that need no database: manifest, encoding, CSV-ness, required
        columns. Returns the inspected files by table and the names of ignored files."""
        verify_manifest(drop)
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
        self.timings = {}
        with self._phase("inspect"):
            infos, ignored = self.check(drop)
        batch_id = _batch_id(drop, infos, "ssd")
        return self._load_batch(
            drop, batch_id, ignored,
            archive=lambda: _archive(self.settings, drop, infos),
            load_in_transaction=lambda conn, archive_path: self._load_in_transaction(
                conn, drop, infos, ignored, batch_id, archive_path),
        )

    def _load_in_transaction(self, conn, drop, infos, ignored, batch_id, archive_path):
        tables: dict[str, TableLoad] = {}
        with conn.cursor() as cur:
            previous = self._begin(cur, drop, batch_id, archive_path)
            for name, table in self.contract.tables.items():
                info = infos.get(name)
                if info is None:
                    tables[name] = TableLoad(table=name, status="absent")
                else:
                    self.progress(f"loading {info.path.name}")
                    tables[name] = self._load_table(cur, drop, table, info, batch_id)
                    self._guard_empty(name, tables[name], previous)
                    cur.execute(
                        """insert into raw.load_source_files (batch_id, source_file,
                               file_sha256, encoding, role, rows_in_file, rows_rejected,
                               status)
                           values (%s, %s, %s, %s, %s, %s, %s, 'loaded')""",
                        (batch_id, info.path.name, info.sha256, info.encoding, name,
                         tables[name].rows_in_file, tables[name].rows_rejected),
                    )
                self._record_table(cur, batch_id, tables[name])
            self._finish(cur, drop, batch_id, tables)
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
            with info.path.open("rb") as f, self._phase("copy"):
                cur.copy_expert(copy.as_string(cur), f, size=1 << 20)
        except psycopg2.Error as e:
            detail = e.diag.message_primary or (e.pgerror or str(e)).strip().splitlines()[0]
            context = (e.diag.context or "").replace("COPY _load, ", "")
            raise DropError(
                f"{info.path.name}: not a well-formed CSV file: {detail}"
                f"{' (' + context + ')' if context else ''}"
            ) from None
        rows_in_file = cur.rowcount
        if rows_in_file is None or rows_in_file < 0:
            cur.execute("select count(*) from _load")
            rows_in_file = cur.fetchone()[0]
        staged = Staged(header=header, rows_in_file=rows_in_file, uk=uk,
                        source=(info.path.name, info.sha256))
        t = self._quarantine_and_insert(cur, table, staged, batch_id, drop.drop_date,
                                        self.settings.reject_threshold)
        t.encoding = info.encoding
        return t
