"""The SSD loader: COPY each file of a drop once into ``raw_incoming``, check it there, attach
the night whole.

Each file is COPYed into ``raw_incoming.<table>`` and checked there, in place, on other
connections while the next file is COPYed: rows whose every value is already canonical
(``load/canonical.py``) are left as they are; only the others go through the full
normalisation and checks (``load/row_checks.py``: missing or duplicated key, unparseable
date, unknown code, non-numeric number) and are normalised in place or quarantined in
``raw.rejects``. One short transaction then attaches every file as the night's partition of
``raw.<table>`` with the bookkeeping: a file-level rejection anywhere leaves ``raw`` exactly
as it was. The frame (batch, retention, history) is ``load/frame.py``.
"""

from __future__ import annotations

import collections
import datetime as dt
import re
import threading
from contextlib import closing, suppress
from dataclasses import dataclass

import psycopg2
import psycopg2.errors
from psycopg2 import sql

from csc_warehouse.config import Settings, test_pause
from csc_warehouse.contract import Table, load_contract
from csc_warehouse.drop import (
    Drop,
    DropError,
    check_manifest_files_present,
    check_manifest_rows,
    verify_manifest_file,
)
from csc_warehouse.load.batch import archive_files, batch_id_for, date_format_uk, file_encoding
from csc_warehouse.load.canonical import row_predicate
from csc_warehouse.load.csv_files import (
    BlankLinesSkipped,
    CsvFileInfo,
    check_required_columns,
    inspect_csv,
)
from csc_warehouse.load.frame import RawLoader
from csc_warehouse.load.records import (
    RejectRow,
    check_reject_threshold,
    record_source_file,
    record_table,
    write_rejects,
)
from csc_warehouse.load.report import LoadReport, TableLoad
from csc_warehouse.load.row_checks import clean_select, reject_rows
from csc_warehouse.warehouse.db import connect
from csc_warehouse.warehouse.raw_partitions import INCOMING, attach_incoming, clear_incoming
from csc_warehouse.warehouse.schemas import RAW_METADATA_COLUMNS


def check_ssd_drop(drop: Drop, settings: Settings,
                   count_rows: bool = True) -> tuple[dict[str, CsvFileInfo], list[str]]:
    """File-level checks of an SSD drop that need no database: manifest, encoding, CSV-ness,
    required columns. Returns the inspected files by table and the names of ignored files.

    count_rows=False: the manifest's row counts are left to the load (compared with the
    rows COPY read)."""
    tables = load_contract().tables
    check_manifest_files_present(drop)
    infos: dict[str, CsvFileInfo] = {}
    ignored: list[str] = []
    for path in sorted(p for p in drop.path.iterdir() if p.is_file()):
        if path.suffix.lower() != ".csv" and path.stem.lower() in tables:
            raise DropError(f"{path.name}: not a CSV file (a contract table must be "
                            f"delivered as {path.stem.lower()}.csv)")
    for path in drop.csv_files:
        name = path.stem.lower()
        if name not in tables:
            ignored.append(path.name)
            continue
        info = inspect_csv(path, file_encoding(drop, path.name, settings))
        verify_manifest_file(drop, path.name, info.sha256, count_rows=count_rows)
        check_required_columns(path.name, info.header, tables[name].required_columns)
        infos[name] = info
    loaded = {i.path.name for i in infos.values()}
    for name in (drop.manifest or {}).get("files") or {}:
        if name not in loaded:  # not loaded: no COPY counts its rows
            verify_manifest_file(drop, name)
    if not infos:
        raise DropError(f"{drop.path}: no file of the extract contract in the drop")
    return infos, ignored


class SsdLoader(RawLoader):
    """The SSD loader: COPY each file once, check it in place, attach the night whole.

    ``CSCW_LOAD_CONNECTIONS`` connections share the work: each file is COPYed into
    ``raw_incoming.<table>`` (a fresh table per file, FREEZE, row numbers from a sequence)
    and committed, then checked there by whichever connection is free: duplicated keys,
    then one scan with the cheap canonical predicates (``load/canonical.py``). Only the rows
    that fail them go through the full normalisation and checks (``load/row_checks.py``): they
    are normalised in place or quarantined. The batch columns are added as constant
    defaults (no rewrite). Nothing is visible in ``raw`` until one short transaction has
    recorded the batch and attached every table as the night's partition: the drop is
    still all or nothing, and a rejected or interrupted drop leaves only ``raw_incoming``
    tables, which are dropped.
    """

    fmt = "ssd"

    def load(self, drop: Drop) -> LoadReport:
        self.timings = {}
        self.blank_lines: dict[str, int] = {}
        with self._phase("inspect"):
            infos, ignored = check_ssd_drop(drop, self.settings, count_rows=False)
        batch_id = batch_id_for(drop, {i.path.name: i.sha256 for i in infos.values()}, "ssd")
        report = self._load_batch(
            drop, batch_id, ignored,
            archive=lambda: archive_files(self.settings, drop, list(infos.values())),
            load_in_transaction=lambda conn, archive_path: self._load_pipelined(
                conn, drop, infos, ignored, batch_id, archive_path),
        )
        for name, n in self.blank_lines.items():
            report.tables[name].blank_lines_skipped = n
        return report

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
                    lines = BlankLinesSkipped(f)
                    cur.copy_expert(copy.as_string(cur), lines, size=1 << 20)
                if lines.skipped:
                    self.blank_lines[table.name] = lines.skipped
                    self.progress(f"{info.path.name}: skipped {lines.skipped} blank line(s)")
                test_pause("load-copy")
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
        uk = date_format_uk(drop, info.path.name)
        rejects: list[RejectRow] = []
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
                    select, checks = clean_select(table, header, uk, [])
                    cur.execute(sql.SQL("create temp table _clean on commit drop as {}")
                                .format(select))
                    cur.execute(reject_rows(table, checks))
                    found = cur.fetchall()
                    rows_rejected = len({r[0] for r in found})
                    rejects = [(table.name, info.path.name, *r) for r in found]
                    check_reject_threshold(
                        info.path.name, rows_in_file, rows_rejected,
                        collections.Counter(r[3] for r in found).most_common(3),
                        self.settings.reject_threshold,
                        first=min((r[0], r[1]) for r in found) if found else None)
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

    def _attach_night(self, cur, drop: Drop, infos: dict[str, CsvFileInfo],
                      ignored: list[str], batch_id: str, archive_path: str,
                      checked: dict[str, _Checked]) -> LoadReport:
        """The one transaction that makes the night visible: bookkeeping, attach, rejects."""
        previous = self._begin(cur, drop, batch_id, archive_path)
        tables: dict[str, TableLoad] = {}
        for name in self.contract.tables:
            if name not in checked:
                tables[name] = self._record_absent(cur, batch_id, name)
                continue
            t = tables[name] = checked[name].load
            self._guard_empty(name, t, previous)
            attach_incoming(cur, name, batch_id)
            write_rejects(cur, batch_id, drop.drop_date, checked[name].rejects)
            record_source_file(cur, batch_id, t.source_file or "", t.file_sha256, t.encoding,
                               name, t.rows_in_file, t.rows_rejected)
            record_table(cur, batch_id, t)
        self._finish(cur, drop, batch_id, tables)
        return LoadReport(batch_id, drop.drop_date, False, tables, ignored)


@dataclass
class _Checked:
    """One file, COPYed and checked in ``raw_incoming``: its report and its reject rows."""

    load: TableLoad
    rejects: list[RejectRow]


def _incoming_names(table: Table, header: list[str]) -> list[str]:
    """Each file column's name in ``raw_incoming.<table>``: its own for a contract column,
    ``_extra_<n>`` for the n-th column outside the contract."""
    extra = [c for c in header if c not in table.column_names]
    return [c if c in table.column_names else _extra_name(extra.index(c)) for c in header]


def _extra_name(i: int) -> str:
    """Where a column outside the contract waits in ``raw_incoming`` (its own name could
    clash with a batch column) until it is folded into ``_extra``."""
    return f"_extra_{i}"
