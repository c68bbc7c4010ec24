"""Configuration: the one module that reads the environment.

CSCW_HOME            state folder (embedded data dir, Airflow home, logs, landing, archive,
                     secrets, reports). Default ./.cscw (git-ignored).
CSCW_WAREHOUSE_URL   libpq URL of an existing PostgreSQL to use instead of the embedded one.
CSCW_PG_PORT         TCP port of the embedded warehouse on 127.0.0.1 (default 54329).
CSCW_PSEUDONYM_KEY   secret for child_key (HMAC); for the embedded default one is generated
                     and kept under CSCW_HOME/secrets.
CSCW_VERBOSE         cscw run/demo: show Airflow's and dbt's own output (default: a log file
                     and one line per task).
CSCW_AIRFLOW_LOG_LEVEL  Airflow's log level under cscw run (default WARNING).
CSCW_BI_PASSWORD, CSCW_CASEWORK_PASSWORD   passwords of the roles BI tools and caseworkers
                     log in with (no login is granted when unset).
CSCW_DBT_TASKS       how the DAG renders dbt: per-node (default; one Airflow task per model,
                     via a Cosmos DbtTaskGroup) or single (one Cosmos task running the
                     whole build; faster where Airflow's per-task overhead dominates).
CSCW_DBT_TARGET_PATH dbt's target folder (default CSCW_HOME/dbt-target; the Docker image
                     builds its manifest into dbt_project/target).
CSCW_REJECT_THRESHOLD  share of a table's rows that may be quarantined before the whole
                     file is rejected (default 0.01).
CSCW_REJECT_THRESHOLD_903  the same for SSDA903 return files (default 0.05: 903 returns
                     carry rows the DfE validator flags, and one bad episode also
                     quarantines what is derived from it). Rejections are always counted
                     in raw.load_files/raw.load_source_files and listed in raw.rejects.
CSCW_ALLOW_EMPTY_TABLES  comma-separated contract tables (e.g. "ssd_missing,ext_plan_actions")
                     whose file may be empty although it had rows last night; for any other
                     table such a file rejects the drop (a broken export). "*" allows all.
CSCW_RAW_KEEP_BATCHES  how many loaded batches (nights) raw.<table> keeps in full (default
                     3, minimum 1); older nights live on in raw.record_history (SCD2).
CSCW_LOAD_CONNECTIONS  connections the SSD loader COPYs and checks files on, side by side
                     (default: the number of CPUs, at least 2, at most 4).
CSCW_SUPERSET_PORT   port `cscw bi up` serves Superset on, on 127.0.0.1 (default 8088).
CSCW_SUPERSET_ADMIN_PASSWORD  the Superset admin's password (`cscw bi up` sets or resets it);
                     unset: a password is generated and printed once, when the admin is made.
CSCW_CSV_ENCODING    auto (default: UTF-8 with or without BOM, else Windows-1252), utf8 or
                     cp1252 - forces the encoding of every CSV in a drop.
CSCW_RUN_LOCK_WAIT   seconds a night waits for another run on the same warehouse to finish
                     before it refuses, naming the holder (default 600; 0 = refuse at once).
CSCW_TEST_PAUSE_AT   TEST ONLY (docs/reliability.md): "<point>:<seconds>" sleeps at a named
                     point of the night (load-copy, dbt, publish) so a test can kill it there.
CSCW_TIMEOUT_<TASK>  seconds a DAG task may run (its Airflow execution_timeout), e.g.
                     CSCW_TIMEOUT_VALIDATE=7200; defaults in STEP_TIMEOUTS.
CSCW_STATEMENT_TIMEOUT_<TASK>  seconds one database statement of that task may run
                     (PostgreSQL statement_timeout); defaults in STEP_TIMEOUTS.
CSCW_STOP_GRACE      seconds a stopped run (SIGINT/SIGTERM) has to unwind after its
                     statements are cancelled before it ends itself (default 8).
CSCW_TEST_SLOW_STEP  TEST ONLY (tests/test_stop.py): load, dbt or validate makes that step
                     run `select pg_sleep(CSCW_TEST_SLOW_SECONDS)` first; inert when unset.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_PG_PORT = 54329
DEFAULT_REJECT_THRESHOLD = 0.01
DEFAULT_REJECT_THRESHOLD_903 = 0.05
DEFAULT_RAW_KEEP_BATCHES = 3
DEFAULT_SUPERSET_PORT = 8088
DEFAULT_RUN_LOCK_WAIT = 600
#: files and folders under CSCW_HOME are private to the user running the warehouse
#: (extracts hold personal data): created under this umask, existing ones tightened
PRIVATE_UMASK = 0o077
#: no usage data leaves the machine: set by `cscw run`, docker-compose.yml, the Dockerfile
#: and scripts/native_stack.sh (tests/test_reliability_faults.py compares them with this)
TELEMETRY_OPT_OUT = {
    "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",  # Cosmos' Scarf usage metrics
    "DO_NOT_TRACK": "1",  # Cosmos, and the dbt profiles Cosmos renders
    "SCARF_NO_ANALYTICS": "true",  # Cosmos' (and other Scarf clients') opt-out
    "SCARF_ANALYTICS": "false",
    "GX_ANALYTICS_ENABLED": "False",  # Great Expectations
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",  # dbt
}
#: the database roles readers log in as, and the variable holding each one's password
ROLE_PASSWORD_VARIABLES = {"cscw_bi": "CSCW_BI_PASSWORD", "cscw_casework": "CSCW_CASEWORK_PASSWORD"}
#: the nightly DAG's id, and the tasks every successful night runs (besides dbt's)
DAG_ID = "cscw_nightly"
PIPELINE_TASKS = ("find_drop", "check_drop", "load_raw", "record_history", "validate",
                  "publish", "report", "summary")
#: the Airflow connection the DAG's dbt tasks reach the warehouse through (Cosmos's
#: PostgresUserPasswordProfileMapping); ``cscw run`` writes it into its own Airflow
#: metadata, docker-compose gives it as AIRFLOW_CONN_CSCW_WAREHOUSE
WAREHOUSE_CONN_ID = "cscw_warehouse"
#: retries of a failed DAG task (every task is idempotent; a rejected drop or a critical
#: validation failure is never retried), with exponential backoff from the delay
TASK_RETRIES = 2
TASK_RETRY_DELAY = dt.timedelta(minutes=1)
TASK_MAX_RETRY_DELAY = dt.timedelta(minutes=10)
#: per task: (seconds the task may run: its execution_timeout, seconds one statement may
#: run: statement_timeout); CSCW_TIMEOUT_<TASK> / CSCW_STATEMENT_TIMEOUT_<TASK> override
STEP_TIMEOUTS: dict[str, tuple[int, int]] = {
    "find_drop": (600, 60),
    "check_drop": (3600, 60),
    "load_raw": (4 * 3600, 2 * 3600),
    "record_history": (2 * 3600, 3600),
    "dbt_build": (6 * 3600, 2 * 3600),
    "validate": (4 * 3600, 2 * 3600),
    "publish": (3600, 600),
    "report": (3600, 600),
    "summary": (600, 60),
}
DEFAULT_STOP_GRACE = 8.0
#: the CSCW_TEST_SLOW_STEP values and the task each one slows down (test only)
TEST_SLOW_STEPS = {"load": "load_raw", "dbt": "dbt_build", "validate": "validate"}
#: Project root (the checkout): dbt_project/, expectations/ and dags/ live here.
PROJECT_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Settings:
    home: Path
    warehouse_url: str | None  # None = embedded default
    pg_port: int
    reject_threshold: float
    dbt_tasks: str = "per-node"  # per-node | single
    project_root: Path = PROJECT_ROOT
    reject_threshold_903: float = DEFAULT_REJECT_THRESHOLD_903
    allow_empty_tables: frozenset[str] = frozenset()
    raw_keep_batches: int = DEFAULT_RAW_KEEP_BATCHES
    csv_encoding: str = "auto"
    #: secrets: kept out of repr() so they never reach a log
    pseudonym_key: str | None = field(default=None, repr=False)
    role_passwords: dict[str, str] = field(default_factory=dict, repr=False)
    #: cscw run: show Airflow's and dbt's own output instead of one line per task
    verbose: bool = False
    airflow_log_level: str = "WARNING"
    load_connections: int = field(default_factory=lambda: default_load_connections())
    superset_port: int = DEFAULT_SUPERSET_PORT
    superset_admin_password: str | None = field(default=None, repr=False)
    run_lock_wait: float = DEFAULT_RUN_LOCK_WAIT
    #: per task: seconds it may run, seconds one statement may run (STEP_TIMEOUTS)
    task_timeouts: dict[str, int] = field(
        default_factory=lambda: {k: v[0] for k, v in STEP_TIMEOUTS.items()})
    statement_timeouts: dict[str, int] = field(
        default_factory=lambda: {k: v[1] for k, v in STEP_TIMEOUTS.items()})
    stop_grace: float = DEFAULT_STOP_GRACE
    #: test only: the task that sleeps first, and for how long (CSCW_TEST_SLOW_STEP)
    test_slow_task: str | None = None
    test_slow_seconds: int = 300

    def may_be_empty(self, table: str) -> bool:
        """CSCW_ALLOW_EMPTY_TABLES: may this table's file be empty after a night with rows?"""
        return "*" in self.allow_empty_tables or table in self.allow_empty_tables

    # --- folders under CSCW_HOME -------------------------------------------------------
    @property
    def pgdata(self) -> Path:
        return self.home / "pgdata"

    @property
    def airflow_home(self) -> Path:
        return self.home / "airflow"

    @property
    def landing(self) -> Path:
        return self.home / "landing"

    @property
    def archive(self) -> Path:
        return self.home / "archive"

    @property
    def logs(self) -> Path:
        return self.home / "logs"

    @property
    def secrets(self) -> Path:
        return self.home / "secrets"

    @property
    def reports(self) -> Path:
        return self.home / "reports"

    @property
    def superset_home(self) -> Path:
        """Superset's metadata (SQLite), pid file and data folder (`cscw bi up`)."""
        return self.home / "superset"

    @property
    def gx_docs(self) -> Path:
        return self.reports / "data-docs"

    @property
    def dbt_target(self) -> Path:
        """dbt's target folder (manifest.json for Cosmos): CSCW_DBT_TARGET_PATH, else under
        CSCW_HOME so that two state folders never share compiled files."""
        override = os.environ.get("CSCW_DBT_TARGET_PATH")
        return Path(override) if override else self.home / "dbt-target"

    # --- project folders -----------------------------------------------------------------
    @property
    def dbt_project_dir(self) -> Path:
        return self.project_root / "dbt_project"

    @property
    def expectations_dir(self) -> Path:
        return self.project_root / "expectations"

    @property
    def dags_dir(self) -> Path:
        return self.project_root / "dags"

    @property
    def embedded(self) -> bool:
        return self.warehouse_url is None

    def ensure_dirs(self) -> None:
        """Create CSCW_HOME's folders, private (see :func:`make_private`)."""
        make_private(self.home)
        for d in (self.home, self.landing, self.archive, self.logs, self.secrets, self.reports):
            d.mkdir(parents=True, exist_ok=True)
        self.secrets.chmod(0o700)


def make_private(home: Path) -> None:
    """Set the process umask to PRIVATE_UMASK (everything this process and the Airflow,
    dbt and GX code it runs writes is then readable by its user only) and tighten what an
    earlier version left group/world-readable under ``home``.

    Leaves alone: the embedded server's data folder (PostgreSQL keeps it 0700 itself and,
    as root, it belongs to another user), read-only mounts (compose's landing/) and the
    folders under landing/ (the files in them, when ours, are tightened). A
    folder keeps others' x bit (traverse, no listing): as root the embedded server runs as
    another user and reaches its data and log file through CSCW_HOME and logs/."""
    os.umask(PRIVATE_UMASK)
    home.mkdir(parents=True, exist_ok=True)
    landing = home / "landing"
    for root, dirs, files in os.walk(home):
        here = Path(root)
        dirs[:] = [d for d in dirs if not (here == home and d == "pgdata")]
        # landing/'s folders keep their mode: another account may deliver the drops there
        folder = [] if here == landing or landing in here.parents else [here]
        for p in [*folder, *(here / f for f in files)]:
            try:
                st = p.lstat()
                keep = 0o7711 if p.is_dir() else 0o7700
                if not p.is_symlink() and st.st_uid == os.geteuid() and st.st_mode & ~keep:
                    p.chmod(st.st_mode & keep)
            except OSError:  # read-only mount, vanished file: nothing to tighten
                continue


def test_pause(point: str) -> None:
    """TEST ONLY: CSCW_TEST_PAUSE_AT=<point>:<seconds> sleeps here, so that a test can kill
    the run at a known point (tests/test_reliability_faults.py). Points: load-copy (inside
    the load's transaction, after the COPY), publish (inside the publish transaction, after
    the swap). Unset in production: nothing happens."""
    spec = os.environ.get("CSCW_TEST_PAUSE_AT", "")
    name, _, seconds = spec.partition(":")
    if name == point:
        print(f"CSCW_TEST_PAUSE_AT: pausing at {point}", file=sys.stderr, flush=True)
        time.sleep(float(seconds or 60))


def default_load_connections() -> int:
    """One loader connection per CPU, at least 2 (COPY one file, check another), at most 4."""
    return max(2, min(4, os.cpu_count() or 2))


def application_name(default: str = "csc-warehouse") -> str:
    """The application_name of the warehouse connections this process opens: a stoppable
    run's tag (PGAPPNAME, set by warehouse/cancel.py), else ``default``."""
    return os.environ.get("PGAPPNAME") or default


def _timeouts(prefix: str, index: int) -> dict[str, int]:
    out = {}
    for task, defaults in STEP_TIMEOUTS.items():
        raw = os.environ.get(f"{prefix}{task.upper()}")
        value = int(raw) if raw else defaults[index]
        if value <= 0:
            raise ValueError(f"{prefix}{task.upper()}={raw!r}: give a number of seconds > 0")
        out[task] = value
    return out


def get_settings() -> Settings:
    """Read the environment now (not cached: tests change it)."""
    home = Path(os.environ.get("CSCW_HOME", ".cscw")).expanduser().resolve()
    url = os.environ.get("CSCW_WAREHOUSE_URL") or None
    port = int(os.environ.get("CSCW_PG_PORT", DEFAULT_PG_PORT))
    threshold = float(os.environ.get("CSCW_REJECT_THRESHOLD", DEFAULT_REJECT_THRESHOLD))
    threshold_903 = float(
        os.environ.get("CSCW_REJECT_THRESHOLD_903", DEFAULT_REJECT_THRESHOLD_903)
    )
    allow_empty = frozenset(
        t.strip().lower() for t in os.environ.get("CSCW_ALLOW_EMPTY_TABLES", "").split(",")
        if t.strip()
    )
    keep = max(1, int(os.environ.get("CSCW_RAW_KEEP_BATCHES", DEFAULT_RAW_KEEP_BATCHES)))
    encoding = os.environ.get("CSCW_CSV_ENCODING", "auto").strip().lower() or "auto"
    if encoding not in ("auto", "utf8", "cp1252"):
        raise ValueError(f"CSCW_CSV_ENCODING={encoding!r}: use auto, utf8 or cp1252")
    dbt_tasks = os.environ.get("CSCW_DBT_TASKS", "per-node")
    if dbt_tasks not in ("per-node", "single"):
        raise ValueError(f"CSCW_DBT_TASKS={dbt_tasks!r}: use per-node or single")
    slow = os.environ.get("CSCW_TEST_SLOW_STEP", "").strip().lower()
    if slow and slow not in TEST_SLOW_STEPS:
        raise ValueError(f"CSCW_TEST_SLOW_STEP={slow!r}: use {', '.join(TEST_SLOW_STEPS)}")
    return Settings(home=home, warehouse_url=url, pg_port=port, reject_threshold=threshold,
                    reject_threshold_903=threshold_903, allow_empty_tables=allow_empty,
                    raw_keep_batches=keep, csv_encoding=encoding, dbt_tasks=dbt_tasks,
                    pseudonym_key=os.environ.get("CSCW_PSEUDONYM_KEY") or None,
                    role_passwords={
                        role: os.environ[var] for role, var in ROLE_PASSWORD_VARIABLES.items()
                        if os.environ.get(var)
                    },
                    verbose=bool(os.environ.get("CSCW_VERBOSE")),
                    airflow_log_level=os.environ.get("CSCW_AIRFLOW_LOG_LEVEL", "WARNING"),
                    load_connections=max(1, int(os.environ.get(
                        "CSCW_LOAD_CONNECTIONS", default_load_connections()))),
                    superset_port=int(os.environ.get("CSCW_SUPERSET_PORT",
                                                     DEFAULT_SUPERSET_PORT)),
                    superset_admin_password=os.environ.get(
                        "CSCW_SUPERSET_ADMIN_PASSWORD") or None,
                    run_lock_wait=max(0.0, float(os.environ.get(
                        "CSCW_RUN_LOCK_WAIT", DEFAULT_RUN_LOCK_WAIT))),
                    task_timeouts=_timeouts("CSCW_TIMEOUT_", 0),
                    statement_timeouts=_timeouts("CSCW_STATEMENT_TIMEOUT_", 1),
                    stop_grace=float(os.environ.get("CSCW_STOP_GRACE", DEFAULT_STOP_GRACE)),
                    test_slow_task=TEST_SLOW_STEPS.get(slow),
                    test_slow_seconds=int(os.environ.get("CSCW_TEST_SLOW_SECONDS", 300)))
