"""A run that stops when it is told to (docs/reliability.md, "Stopping a run").

Every warehouse connection of a run carries the run's tag as its ``application_name``
(``PGAPPNAME``: libpq reads it, so psycopg2, GX's SQLAlchemy engine and dbt-postgres, whose
profile sets ``application_name`` from it, all carry it) and a ``statement_timeout`` per
step (``PGOPTIONS``).

A signal's Python handler only runs when the main thread is back in Python; while it waits
inside libpq for a long statement, nothing happens. So :func:`install` also gives the
signals a wakeup fd (``signal.set_wakeup_fd``: the C-level handler writes the signal's
number there at once) and a daemon thread reads it:

- SIGINT/SIGTERM: the run is stopped. The thread cancels every active statement carrying
  the run's tag (``pg_cancel_backend``), again every half second (so nothing new starts),
  the blocked statement returns with QueryCanceled and the main thread unwinds (the Python
  handler raises :class:`RunInterrupted`). If the process has not ended after
  ``CSCW_STOP_GRACE`` seconds, it terminates the tagged backends and ends the process
  with 130 (SIGINT) / 143 (SIGTERM).
- SIGALRM (Airflow's ``execution_timeout``): the tagged statements are cancelled once, so
  Airflow's timeout is raised now, not when the statement ends.

Publishing is one transaction, so a stopped run publishes nothing; the next run converges
as after a crash.
"""

from __future__ import annotations

import _thread
import contextlib
import logging
import os
import signal
import threading
import time
from collections.abc import Iterator

import psycopg2

from csc_warehouse.config import Settings
from csc_warehouse.warehouse.db import connect

log = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
#: statements carrying this comment are the stop's own bookkeeping: never cancelled
KEEP_MARK = "/* cscw:stop-bookkeeping */"


class RunInterrupted(KeyboardInterrupt):
    """The run was told to stop (SIGINT/SIGTERM)."""

    def __init__(self, signum: int, step: str | None) -> None:
        self.signum = signum
        self.step = step
        super().__init__(f"interrupted by {signal.Signals(signum).name} during "
                         f"{step or 'the run'}")

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


class StatementTimeout(RuntimeError):
    """A statement ran longer than its step's CSCW_STATEMENT_TIMEOUT_<TASK>."""


def exit_code(signum: int) -> int:
    return 128 + signum


def signal_name(signum: int) -> str:
    return signal.Signals(signum).name


class _Stopper:
    """The process's one watcher (see the module's docstring)."""

    def __init__(self, url: str, tag: str, grace: float) -> None:
        self.url = url
        self.tag = tag
        self.grace = grace
        self.signum: int | None = None
        #: the task running now (inside :func:`stoppable`), and the one the stop came in
        self.step: str | None = None
        self.stopped_in: str | None = None
        self.message = ""
        self._lock = threading.Lock()
        self._read, self._write = os.pipe()
        os.set_blocking(self._write, False)
        # the terminal as it is now (cscw run later sends fds 1/2 to its log file)
        self._terminal = os.dup(2)
        threading.Thread(target=self._watch, name="cscw-stop", daemon=True).start()

    # --- signals ---------------------------------------------------------------------
    def arm(self) -> None:
        """(Main thread) the wakeup fd and the stop handlers, again if someone replaced
        them."""
        if threading.current_thread() is not threading.main_thread():
            return
        if signal.set_wakeup_fd(self._write, warn_on_full_buffer=False) != self._write:
            log.debug("stop watcher armed (tag %s)", self.tag)
        for signum in STOP_SIGNALS:
            signal.signal(signum, self._handler)

    def _handler(self, signum: int, frame) -> None:
        self.stopped(signum)
        raise RunInterrupted(signum, self.stopped_in)

    def stopped(self, signum: int) -> bool:
        """Record the stop (the first signal wins); True the first time."""
        with self._lock:
            if self.signum is not None:
                return False
            self.signum = signum
            self.stopped_in = self.step
            return True

    def check(self) -> None:
        """Raise RunInterrupted when the run has been told to stop."""
        if self.signum is not None:
            raise RunInterrupted(self.signum, self.stopped_in or self.step)

    # --- the watcher thread ----------------------------------------------------------
    def _watch(self) -> None:
        while True:
            try:
                data = os.read(self._read, 64)
            except InterruptedError:
                continue
            for signum in data:
                if signum in STOP_SIGNALS:
                    if self.stopped(signum) or self.message == "":
                        self._on_stop(signum)
                elif signum == signal.SIGALRM:
                    self.cancel()

    def _on_stop(self, signum: int) -> None:
        self.message = (f"interrupted by {signal_name(signum)} during "
                        f"{self.stopped_in or 'the run'}")
        log.warning("%s: cancelling the run's statements", self.message)
        start = time.monotonic()
        while time.monotonic() < start + self.grace:
            self.cancel()
            if self.step is not None and time.monotonic() - start >= 1:
                # still inside the task after a second (dbt or Cosmos caught the first
                # KeyboardInterrupt and went on): raise RunInterrupted there again
                _thread.interrupt_main(signum)
            time.sleep(0.5)
        self.cancel("pg_terminate_backend")
        with contextlib.suppress(OSError):
            os.write(self._terminal, (
                f"{self.message}: the run did not end within CSCW_STOP_GRACE="
                f"{self.grace:g}s, ended it; nothing was published; re-run to converge\n"
            ).encode())
        os._exit(exit_code(signum))

    def cancel(self, how: str = "pg_cancel_backend") -> int:
        """Cancel (or terminate) the active statements carrying the run's tag; how many."""
        try:
            conn = psycopg2.connect(self.url, application_name=f"{self.tag} stop",
                                    connect_timeout=5)
        except psycopg2.Error as exc:
            log.warning("could not reach the warehouse to cancel the run: %s", exc)
            return 0
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(
                    f"select {how}(pid) from pg_stat_activity "  # noqa: S608 (fixed names)
                    "where application_name = %s and pid <> pg_backend_pid() "
                    "and (state <> 'idle' or %s) and position(%s in query) = 0",
                    (self.tag, how == "pg_terminate_backend", KEEP_MARK),
                )
                return cur.rowcount
        except psycopg2.Error as exc:
            log.warning("could not cancel the run's statements: %s", exc)
            return 0
        finally:
            conn.close()


_stopper: _Stopper | None = None


def run_tag() -> str:
    """This process's tag: the application_name of every connection of its run."""
    return f"csc-warehouse run {os.getpid()}"


def install(url: str, settings: Settings) -> _Stopper:
    """Tag this process's connections and watch for SIGINT/SIGTERM/SIGALRM (idempotent;
    the signal part only from the main thread)."""
    global _stopper
    if _stopper is None or _stopper.url != url or _stopper.tag != run_tag():
        os.environ["PGAPPNAME"] = run_tag()
        _stopper = _Stopper(url, run_tag(), settings.stop_grace)
    _stopper.arm()
    return _stopper


def current() -> _Stopper | None:
    return _stopper


def _is_statement_timeout(exc: BaseException | None) -> bool:
    seen = 0
    while exc is not None and seen < 10:
        if "canceling statement due to statement timeout" in str(exc):
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


def set_statement_timeout(seconds: int) -> None:
    """Every libpq connection this process opens from now on gets this statement_timeout."""
    old = os.environ.get("PGOPTIONS")
    # libpq's PGOPTIONS: the last -c of a setting wins
    os.environ["PGOPTIONS"] = f"{old or ''} -c statement_timeout={seconds * 1000}".strip()


@contextlib.contextmanager
def _statement_timeout(seconds: int) -> Iterator[None]:
    old = os.environ.get("PGOPTIONS")
    set_statement_timeout(seconds)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("PGOPTIONS", None)
        else:
            os.environ["PGOPTIONS"] = old


def _slow_down_for_tests(url: str, settings: Settings, step: str) -> None:
    """CSCW_TEST_SLOW_STEP (test only): a long tagged statement at the start of the step."""
    if settings.test_slow_task != step or step == "dbt_build":  # dbt: an on-run-start hook
        return
    conn = connect(url, autocommit=True)
    try:
        with conn.cursor() as cur:
            cur.execute("select pg_sleep(%s)", (settings.test_slow_seconds,))
    finally:
        conn.close()


@contextlib.contextmanager
def stoppable(step: str, url: str, settings: Settings) -> Iterator[_Stopper]:
    """Around a task's body: its connections are tagged and get the step's statement
    timeout; SIGINT/SIGTERM cancel its statements and raise :class:`RunInterrupted`; a
    statement timeout becomes a :class:`StatementTimeout` naming the step and setting."""
    stopper = install(url, settings)
    stopper.check()
    seconds = settings.statement_timeouts.get(step)
    outer, stopper.step = stopper.step, step
    with contextlib.ExitStack() as stack:
        stack.callback(setattr, stopper, "step", outer)
        if seconds:
            stack.enter_context(_statement_timeout(seconds))
        try:
            _slow_down_for_tests(url, settings, step)
            yield stopper
        except BaseException as exc:
            if stopper.signum is not None:
                if isinstance(exc, RunInterrupted):
                    raise
                raise RunInterrupted(stopper.signum, step) from exc
            if seconds and _is_statement_timeout(exc):
                raise StatementTimeout(
                    f"{step}: a statement ran longer than {seconds}s and was cancelled "
                    f"(CSCW_STATEMENT_TIMEOUT_{step.upper()}); raise it if the night needs "
                    "longer"
                ) from exc
            raise
    stopper.check()
