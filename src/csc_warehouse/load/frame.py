"""The frame every load runs in, whatever the format: skip a batch already loaded; else
archive the files and load in one transaction (lock, supersede the night's earlier batch,
bookkeeping in ``raw.load_batches``); on a file-level rejection roll back and record it;
then the retention and (optionally) the history. ``SsdLoader`` (``load/ssd.py``) and
``Ssda903Loader`` (``load/ssda903/loader.py``) fill in the loading itself."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psycopg2

from csc_warehouse.config import Settings
from csc_warehouse.contract import load_contract
from csc_warehouse.drop import Drop, DropError
from csc_warehouse.load import retention
from csc_warehouse.load.history import record_history
from csc_warehouse.load.records import record_table
from csc_warehouse.load.report import LoadReport, TableLoad
from csc_warehouse.warehouse.db import connect
from csc_warehouse.warehouse.raw_partitions import analyze_batch, drop_batches

Progress = Callable[[str], None]


class RawLoader:
    """Transaction, bookkeeping, history and retention of one drop."""

    fmt = "ssd"
    #: how long the retention waits for readers of raw.<table> (``load/retention.py``)
    retention_lock_timeout = retention.LOCK_TIMEOUT

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
                retention.apply_retention(conn, batch_id, list(self.contract.tables),
                                          self.settings.raw_keep_batches, self.progress,
                                          self.retention_lock_timeout)
            with self._phase("analyze"), conn.cursor() as cur:
                analyze_batch(cur, list(self.contract.tables), batch_id)
            conn.commit()
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

    def _record_absent(self, cur, batch_id: str, name: str) -> TableLoad:
        t = TableLoad(table=name, status="absent")
        record_table(cur, batch_id, t)
        return t

    def _finish(self, cur, drop: Drop, batch_id: str, tables: dict[str, TableLoad]) -> None:
        loaded = sum(t.rows_loaded for t in tables.values())
        rejected = sum(t.rows_rejected for t in tables.values())
        cur.execute(
            """update raw.load_batches set status = 'loaded', finished_at = now(),
                   message = %s
               where batch_id = %s""",
            (f"{loaded} rows loaded, {rejected} quarantined", batch_id),
        )

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
