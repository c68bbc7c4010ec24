"""Progress for ``cscw run`` / ``cscw demo``: the DAG's own output goes to a log file, and
the terminal gets one line per finished task, read from Airflow's metadata DB as the run
goes."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path


@contextlib.contextmanager
def output_to_file(log_path: Path) -> Iterator[int]:
    """Send fds 1 and 2 (Airflow's, dbt's and GX's output) to ``log_path``; yields a dup of
    the original stderr for the caller's own progress lines."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved_out, saved_err = os.dup(1), os.dup(2)
    terminal = os.dup(2)
    with open(log_path, "ab") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield terminal
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved_out, 1)
            os.dup2(saved_err, 2)
            os.close(saved_out)
            os.close(saved_err)


class TaskWatcher(threading.Thread):
    """Polls the SQLite metadata DB and reports each task of the newest run once it ends."""

    def __init__(self, db_path: Path, dag_id: str, report: Callable[[str, str, float], None],
                 interval: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.db_path, self.dag_id, self.report, self.interval = db_path, dag_id, report, interval
        self.seen: set[str] = set()
        self.started_at = time.time()
        self._stop_event = threading.Event()

    def _poll(self) -> None:
        if not self.db_path.exists():
            return
        try:
            conn = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=1)
        except sqlite3.Error:
            return
        try:
            rows = conn.execute(
                """select ti.task_id, ti.state,
                          (julianday(ti.end_date) - julianday(ti.start_date)) * 86400
                   from task_instance ti
                   where ti.dag_id = ? and ti.run_id = (
                       select run_id from dag_run where dag_id = ?
                       order by id desc limit 1)
                     and ti.state in ('success', 'failed', 'upstream_failed', 'skipped')
                     and ti.start_date >= ?""",
                (self.dag_id, self.dag_id,
                 time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(self.started_at - 5))),
            ).fetchall()
        except sqlite3.Error:
            return
        finally:
            conn.close()
        for task_id, state, seconds in rows:
            if task_id not in self.seen:
                self.seen.add(task_id)
                self.report(task_id, state, seconds or 0.0)

    def run(self) -> None:
        while not self._stop_event.is_set():
            self._poll()
            self._stop_event.wait(self.interval)
        self._poll()

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=5)
