"""The fault catalogue (docs/reliability.md, issue #17): each fault a nightly warehouse must
survive, run against a fresh warehouse, with the exact outcome and message asserted.

The runs of the real DAG (night ordering, the kill test) use warehouses of their own (a
fresh CSCW_HOME with its own embedded server, or a fresh database on CSCW_WAREHOUSE_URL's
server), so the session's warehouse and its published night are left alone.
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import io
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg2
import psycopg2.errors
import pytest
import yaml

from conftest import REPO, CscwSession, _create_database, _free_port, q
from csc_warehouse import night_lock
from csc_warehouse.airflow_runner import airflow_env
from csc_warehouse.cli import completeness_line
from csc_warehouse.config import TELEMETRY_OPT_OUT, get_settings
from csc_warehouse.drop import DropError, open_drop
from csc_warehouse.faults import DiskFull, is_transient
from csc_warehouse.generate import generate_drop
from csc_warehouse.load.csv_files import BlankLinesSkipped
from csc_warehouse.load.ssd import SsdLoader
from csc_warehouse.night_lock import RunLocked
from csc_warehouse.pipeline import CriticalValidationError
from csc_warehouse.warehouse.db import WarehouseUnreachable

NEWER, OLDER = dt.date(2026, 4, 1), dt.date(2026, 3, 31)
CHILDREN = 40


# --- helpers ---------------------------------------------------------------------------
@contextmanager
def scratch(prefix: str) -> Iterator[Path]:
    """A folder outside pytest's basetemp: other pytest sessions on the machine tighten
    /tmp/pytest-of-<user> and delete old basetemps, which would pull a running server's
    data (or, as root, its access to it) from under it (as conftest's home)."""
    root = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def fresh_warehouse(server: CscwSession, root: Path) -> Iterator[CscwSession]:
    """A warehouse nobody else uses, with a CSCW_HOME of its own (under ``root``: its own
    Airflow metadata and dbt target, which the kill test leaves half-written): its own
    embedded server, or (when the session runs on CSCW_WAREHOUSE_URL's server) a fresh
    database on that server."""
    env = {k: v for k, v in server.env.items() if k not in ("CSCW_RUN_LOCK_HELD",)}
    env["CSCW_HOME"] = str(root / "home")
    drop_database = None
    if env.get("CSCW_WAREHOUSE_URL"):
        url, drop_database = _create_database(server, "cscw_rel")
        env["CSCW_WAREHOUSE_URL"] = url
    else:
        env["CSCW_PG_PORT"] = str(_free_port())
        url = ""
    session = CscwSession(home=root / "home", env=env, url=url)
    try:
        if not url:
            session.run("warehouse", "start")
            session.url = session.run("warehouse", "url").stdout.strip().splitlines()[-1]
        yield session
    finally:
        if drop_database is not None:
            drop_database()
        else:
            session.run("warehouse", "stop", check=False)


def generate(root: Path, night: dt.date) -> Path:
    return generate_drop(root / night.isoformat(), children=CHILDREN, years=2, as_of=night,
                         seed=17).path


def marts_digest(query) -> dict[str, str]:
    """relation -> sha256 of its rows (sorted) for every relation BI reads in ``marts``,
    leaving out which run published them (run_id, published_at of data_completeness)."""
    rels = [r[0] for r in query(
        "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
        "where n.nspname = 'marts' and c.relkind in ('r', 'v', 'm') order by 1")]
    return {rel: hashlib.sha256("\n".join(
        r[0] for r in query(f"select (to_jsonb(t) - 'run_id' - 'published_at')::text "
                            f'from marts."{rel}" as t order by 1')).encode()).hexdigest()
            for rel in rels}


def published_as_of(wh: CscwSession) -> list[tuple]:
    return wh.query("select distinct as_of from marts.mart_caseload_summary order by 1")


def no_traceback(proc: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr


def one_line(text: str) -> str:
    """Rich wraps long lines at the terminal width: compare messages unwrapped."""
    return re.sub(r"\s+", " ", text)


# --- 1. night ordering, and the kill test's uninterrupted baseline -----------------------
@pytest.fixture(scope="module")
def drops() -> Iterator[dict[dt.date, Path]]:
    with scratch("cscw-rel-drops-") as root:
        yield {night: generate(root, night) for night in (NEWER, OLDER)}


@pytest.fixture(scope="module")
def ordered(server, drops) -> Iterator[dict]:
    """NEWER, then OLDER (held back), then OLDER --republish, then NEWER again."""
    with scratch("cscw-rel-order-") as root, fresh_warehouse(server, root) as wh:
        out: dict = {"wh": wh}
        out["newer"] = wh.run("run", "--drop", str(drops[NEWER]))
        out["baseline"] = marts_digest(wh.query)
        out["after_newer"] = published_as_of(wh)
        out["older"] = wh.run("run", "--drop", str(drops[OLDER]), check=False)
        out["after_older"] = published_as_of(wh)
        out["digest_after_older"] = marts_digest(wh.query)
        out["runs_after_older"] = wh.query(
            "select as_of, status, message from dq.pipeline_runs order by started_at")
        out["republish"] = wh.run("run", "--drop", str(drops[OLDER]), "--republish")
        out["after_republish"] = published_as_of(wh)
        out["newer_again"] = wh.run("run", "--drop", str(drops[NEWER]))
        out["after_newer_again"] = published_as_of(wh)
        out["home"] = wh.home
        yield out


def test_an_older_night_is_built_but_does_not_replace_newer_marts(ordered):
    assert ordered["after_newer"] == [(NEWER,)]
    older = ordered["older"]
    assert older.returncode == 0, older.stderr
    assert (f"not published: night {OLDER} is older than the published night {NEWER}: "
            f"loaded, built and validated, NOT published (the marts still show {NEWER}); "
            "`cscw run --republish` publishes it on purpose") in one_line(older.stderr)
    assert ordered["after_older"] == [(NEWER,)]
    assert ordered["digest_after_older"] == ordered["baseline"]  # BI sees nothing change
    # loaded and validated: its run is recorded, held back, with the reason
    assert [(r[0], r[1]) for r in ordered["runs_after_older"]] == [
        (NEWER, "published"), (OLDER, "held back")]


def test_republish_publishes_an_older_night_on_purpose(ordered):
    assert "published" in ordered["republish"].stderr.splitlines()[-1]
    assert ordered["after_republish"] == [(OLDER,)]


def test_a_backfill_ends_with_the_latest_night_published(ordered):
    # OLDER then NEWER, as a backfill of the range runs them: the latest is published
    assert ordered["newer_again"].stderr.strip().splitlines()[-1] == "published"
    assert ordered["after_newer_again"] == [(NEWER,)]


# --- 4. private by default ---------------------------------------------------------------
def test_everything_the_night_writes_under_cscw_home_is_private(ordered):
    home: Path = ordered["home"]
    written = [p for sub in ("archive", "reports", "logs", "airflow", "dbt-target", "secrets")
               for p in (home / sub).rglob("*")]
    assert any(p.suffix == ".csv" for p in written)  # the extracts are among them
    readable = [str(p) for p in [home, *written]
                if not p.is_symlink() and p.stat().st_uid == os.geteuid()
                and p.stat().st_mode & (0o066 if p.is_dir() else 0o077)]
    assert readable == []


def test_an_existing_home_is_tightened_on_start(tmp_path, monkeypatch):
    home = tmp_path / "home"
    (home / "archive" / "2026-01-01").mkdir(parents=True)
    old = home / "archive" / "2026-01-01" / "ssd_person.csv"
    old.write_text("x")
    old.chmod(0o644)
    (home / "archive").chmod(0o755)
    monkeypatch.setenv("CSCW_HOME", str(home))
    before = os.umask(0o022)
    try:
        get_settings().ensure_dirs()
        new = home / "reports" / "new.json"
        new.write_text("{}")
        assert stat.S_IMODE(new.stat().st_mode) == 0o600  # written under umask 077
    finally:
        os.umask(before)
    assert stat.S_IMODE(old.stat().st_mode) == 0o600
    assert stat.S_IMODE((home / "archive").stat().st_mode) == 0o711  # traverse only
    assert stat.S_IMODE((home / "reports").stat().st_mode) == 0o700


# --- 2. one run at a time per warehouse, and the kill test -----------------------------
def _start_run(wh: CscwSession, drop: Path, pause: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "csc_warehouse.cli", "run", "--drop", str(drop)],
        env={**wh.env, "CSCW_TEST_PAUSE_AT": pause}, cwd=REPO, stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def _wait_for(run: subprocess.Popen, predicate, what: str, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert run.poll() is None, f"the run ended (exit {run.returncode}) before {what}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.5)


def _kill(run: subprocess.Popen) -> None:
    os.killpg(run.pid, signal.SIGKILL)
    run.wait(timeout=60)


def _pausing_at(wh: CscwSession, night: dt.date, point: str):
    """The run's log says it pauses at ``point`` (CSCW_TEST_PAUSE_AT, config.test_pause)."""
    log = wh.home / "logs" / f"run-{night.isoformat()}.log"
    line = f"CSCW_TEST_PAUSE_AT: pausing at {point}"
    return lambda: log.exists() and line in log.read_text(errors="replace")


def test_kill_9_at_load_dbt_and_publish_then_a_rerun_converges(server, drops, ordered):
    drop = drops[NEWER]
    with scratch("cscw-rel-kill-") as root, fresh_warehouse(server, root) as wh:
        wh.env["CSCW_RUN_LOCK_WAIT"] = "0"  # refuse at once: a dead holder must not block
        # 1. during the load's COPY (paused inside a file's COPY transaction)
        run = _start_run(wh, drop, "load-copy:900")
        _wait_for(run, _pausing_at(wh, NEWER, "load-copy"), "the load's COPY")
        # meanwhile a second run on the same warehouse refuses, naming the holder
        second = wh.run("run", "--drop", str(drops[OLDER]), check=False, timeout=600)
        assert second.returncode == 2, second.stderr
        no_traceback(second)
        msg = one_line(second.stderr)
        assert re.search(
            rf"error: the warehouse is busy: the run of night {NEWER} on host "
            rf"{re.escape(socket.gethostname())}, pid {run.pid}, since \d{{4}}-\d\d-\d\d "
            r"\d\d:\d\d:\d\d UTC holds it \(waited 0s, CSCW_RUN_LOCK_WAIT\); nothing was "
            r"done for this night", msg), msg
        _kill(run)
        assert wh.query("select count(*) from raw.load_batches where status = 'loaded'") \
            == [(0,)]
        # 2. during publish (paused inside the swap's transaction, after the renames)
        run = _start_run(wh, drop, "publish:900")
        _wait_for(run, _pausing_at(wh, NEWER, "publish"), "publish")
        _kill(run)
        assert wh.query("select count(*) from dq.pipeline_runs where status = 'published'") \
            == [(0,)]
        # 3. during dbt: a table dbt rebuilds is locked by the test, so dbt waits on it
        blocker = psycopg2.connect(wh.url)
        try:
            with blocker.cursor() as cur:
                cur.execute("select c.relname from pg_class c join pg_namespace n on "
                            "n.oid = c.relnamespace where n.nspname = 'analytics' and "
                            "c.relkind = 'r' and c.relname not like 'wl%' order by 1 limit 1")
                table = cur.fetchone()[0]
                cur.execute(f'lock table analytics."{table}" in access exclusive mode')
            run = _start_run(wh, drop, "")
            # every connection of the run, dbt's too, carries the run's tag
            # (warehouse/cancel.py run_tag): wait until one of them waits on the lock
            tag = f"csc-warehouse run {run.pid}"
            _wait_for(run, lambda: wh.query(
                "select 1 from pg_stat_activity where datname = current_database() and "
                "application_name = %s and wait_event_type = 'Lock'", (tag,)), "dbt")
            _kill(run)
        finally:
            blocker.close()
        # the holder died with its session: the re-run starts at once and converges
        final = wh.run("run", "--drop", str(drop))
        assert final.stderr.strip().splitlines()[-1] == "published"
        assert marts_digest(wh.query) == ordered["baseline"]


def test_a_second_run_waits_for_the_first_with_a_visible_message(cscw, tmp_path):
    """The waiting side of the lock (the refusing side is in the kill test)."""
    holder_code = (
        "import sys, time, datetime as dt\n"
        "from csc_warehouse import night_lock\n"
        "with night_lock.hold(sys.argv[1], dt.date(2026, 4, 1), 0):\n"
        "    print('held', flush=True); time.sleep(float(sys.argv[2]))\n")
    env = {k: v for k, v in os.environ.items() if k != night_lock.HELD_VARIABLE}
    holder = subprocess.Popen([sys.executable, "-c", holder_code, cscw.url, "4"], env=env,
                              stdout=subprocess.PIPE, text=True, cwd=REPO)
    assert holder.stdout.readline().strip() == "held"
    said: list[str] = []
    t0 = time.monotonic()
    os.environ.pop(night_lock.HELD_VARIABLE, None)
    with night_lock.hold(cscw.url, dt.date(2026, 4, 2), 60, said.append):
        waited = time.monotonic() - t0
        assert q(cscw.url, "select night from dq.run_lock") == [(dt.date(2026, 4, 2),)]
    holder.wait(timeout=30)
    assert 1 < waited < 30
    assert len(said) == 1
    assert re.fullmatch(
        r"waiting up to 60s \(CSCW_RUN_LOCK_WAIT\) for the run of night 2026-04-01 on host "
        rf"{re.escape(socket.gethostname())}, pid {holder.pid}, since .* UTC to finish",
        said[0])


# --- 3. blank lines ----------------------------------------------------------------------
def test_blank_lines_are_skipped_except_inside_quoted_fields():
    raw = (b'a,b\r\n1,"x\r\n\r\ny"\r\n\r\n   \r\n2,\r\n,\r\n\r\n\n\n')
    stream = BlankLinesSkipped(io.BytesIO(raw))
    assert stream.read(1 << 20) + stream.read(1 << 20) == b'a,b\r\n1,"x\r\n\r\ny"\r\n2,\r\n,\r\n'
    assert stream.skipped == 5


def test_trailing_and_inner_blank_lines_load_and_are_counted(db, tmp_path):
    url, settings = db
    drop = tmp_path / "2026-01-05"
    drop.mkdir()
    (drop / "ssd_person.csv").write_text(
        "pers_person_id,pers_sex,pers_ethnicity,pers_dob,pers_forename\r\n"
        "P1,M,WBRI,2010-01-02,Al\r\n\r\nP2,F,WBRI,2011-02-03,Bo\r\n\r\n\r\n")
    report = SsdLoader(url, settings).load(open_drop(drop))
    person = report.tables["ssd_person"]
    assert (person.status, person.rows_loaded, person.rows_rejected,
            person.blank_lines_skipped) == ("loaded", 2, 0, 3)
    assert q(url, "select pers_person_id, _row_number from raw.ssd_person order by 1") == [
        ("P1", 2), ("P2", 3)]


# --- disk full during the load -----------------------------------------------------------
def test_a_full_disk_rejects_the_night_names_the_folder_and_keeps_nothing(db, tmp_path,
                                                                         monkeypatch):
    url, settings = db
    drop = tmp_path / "2026-01-05"
    drop.mkdir()
    header = "pers_person_id,pers_sex,pers_ethnicity,pers_dob,pers_forename\n"
    (drop / "ssd_person.csv").write_text(header + "P1,M,WBRI,2010-01-02,Al\n")
    (drop / "ssd_professionals.csv").write_text(
        "prof_professional_id,prof_agency_worker_flag\n" + "W1,N\n" * 40_000)
    archive = settings.home / "archive"
    archive.mkdir(parents=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=128k", "tmpfs",
                              str(archive)], capture_output=True).returncode == 0
    if not mounted:  # no tmpfs for this user: the same ENOSPC, injected
        real = shutil.copyfile

        def full(src, dst, **kw):
            if Path(src).name == "ssd_professionals.csv":
                Path(dst).write_bytes(b"partial")
                raise OSError(errno.ENOSPC, "No space left on device", str(dst))
            return real(src, dst, **kw)

        monkeypatch.setattr(shutil, "copyfile", full)
    try:
        with pytest.raises(DiskFull) as err:
            SsdLoader(url, settings).load(open_drop(drop))
        assert str(err.value) == (
            f"no space left on the device of {archive} (No space left on device): the night "
            "was rejected and nothing of it was kept; free space there (or move CSCW_HOME) "
            "and run the night again")
        assert [p for p in archive.rglob("*") if p.is_file()] == []
        assert q(url, "select count(*) from raw.ssd_person") == [(0,)]
        assert q(url, "select count(*) from raw.load_batches where status = 'loaded'") \
            == [(0,)]
    finally:
        if mounted:
            subprocess.run(["umount", str(archive)], check=True)


def test_transient_errors_are_retried_and_rejections_are_not():
    def pg(code: str) -> psycopg2.Error:
        return psycopg2.errors.lookup(code)("x")

    for transient in (WarehouseUnreachable("reset"), psycopg2.OperationalError("closed"),
                      psycopg2.InterfaceError("connection already closed"), pg("40001"),
                      pg("40P01"), pg("55P03"), pg("57P01"), pg("57P03")):
        assert is_transient(transient), transient
    for rejection in (DropError("bad file"), CriticalValidationError("critical"),
                      RunLocked("busy"), DiskFull("full"), pg("22P02"), pg("23505"),
                      pg("57014"), pg("53100"), ValueError("x")):
        assert not is_transient(rejection), rejection


# --- 5. port in use; warehouse unreachable ------------------------------------------------
def test_port_in_use_names_the_port_the_process_and_the_variable(cscw, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**cscw.env, "CSCW_HOME": str(tmp_path / "home"), "CSCW_PG_PORT": str(port)}
        env.pop("CSCW_WAREHOUSE_URL", None)
        proc = subprocess.run([sys.executable, "-m", "csc_warehouse.cli", "warehouse",
                               "start"], env=env, capture_output=True, text=True, cwd=REPO,
                              timeout=300)
    assert proc.returncode == 2
    no_traceback(proc)
    msg = one_line(proc.stderr)
    assert re.search(rf"error: port {port} on 127.0.0.1 is already in use by pid "
                     rf"{os.getpid()} \(.*python.*\): set CSCW_PG_PORT to a free port for "
                     rf"the embedded warehouse of CSCW_HOME={tmp_path / 'home'}", msg), msg


def test_unreachable_warehouse_names_the_url_without_the_password(cscw, tmp_path, drops):
    url = f"postgresql://cscw:s3cret-pw@127.0.0.1:{_free_port()}/warehouse"
    env = {**cscw.env, "CSCW_HOME": str(tmp_path / "home"), "CSCW_WAREHOUSE_URL": url}
    proc = subprocess.run([sys.executable, "-m", "csc_warehouse.cli", "run", "--drop",
                           str(drops[NEWER])], env=env, capture_output=True, text=True,
                          cwd=REPO, timeout=300)
    assert proc.returncode == 2
    no_traceback(proc)
    out = one_line(proc.stdout + proc.stderr)
    assert "s3cret" not in out
    assert (f"error: cannot reach the warehouse at {url.replace('s3cret-pw', '***')}: "
            "connection to server at \"127.0.0.1\"") in out


# --- 6. what the completeness numbers mean ------------------------------------------------
def test_completeness_lines_say_known_of_all_and_how_many_to_fix():
    assert completeness_line({
        "check": "current location known", "unexpected": 1, "of": 4, "success": False,
        "worklist": "analytics.wl_current_location_unknown"}) == (
        "current location known: 3 of 4 known "
        "(1 to fix -> analytics.wl_current_location_unknown)")


# --- 7. nothing phones home ----------------------------------------------------------------
def _dockerfile_env() -> dict[str, str]:
    text = (REPO / "Dockerfile").read_text().replace("\\\n", " ")
    out: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("ENV "):
            out.update(dict(re.findall(r"([A-Z_][A-Z0-9_]*)=(\S+)", line)))
    return out


def _native_exports() -> dict[str, str]:
    text = (REPO / "scripts" / "native_stack.sh").read_text()
    return dict(re.findall(r"^export ([A-Z_][A-Z0-9_]*)=(\S+)$", text, re.M))


def test_compose_the_image_and_the_native_stack_opt_out_of_usage_data():
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    compose_env = compose["x-airflow-common"]["environment"]
    for where, env in (("docker-compose.yml", compose_env), ("Dockerfile", _dockerfile_env()),
                       ("scripts/native_stack.sh", _native_exports()),
                       ("cscw run", airflow_env(get_settings()))):
        missing = {k: v for k, v in TELEMETRY_OPT_OUT.items() if str(env.get(k)) != v}
        assert missing == {}, f"{where} does not set {missing}"


def test_cosmos_emits_no_usage_metrics_under_the_opt_out():
    code = "from cosmos import telemetry; print(telemetry.should_emit())"
    env = {k: v for k, v in os.environ.items() if k not in TELEMETRY_OPT_OUT}
    on = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                        text=True, check=True)
    off = subprocess.run([sys.executable, "-c", code], env={**env, **TELEMETRY_OPT_OUT},
                         capture_output=True, text=True, check=True)
    assert (on.stdout.split()[-1], off.stdout.split()[-1]) == ("True", "False")


# --- 8. `cscw warehouse stop` never pretends ----------------------------------------------
def test_warehouse_stop_fails_when_it_stops_nothing_it_was_asked_to(cscw, tmp_path):
    url = "postgresql://cscw:pw@127.0.0.1:5999/warehouse"
    env = {**cscw.env, "CSCW_HOME": str(tmp_path / "home"), "CSCW_WAREHOUSE_URL": url}
    proc = subprocess.run([sys.executable, "-m", "csc_warehouse.cli", "warehouse", "stop"],
                          env=env, capture_output=True, text=True, cwd=REPO, timeout=120)
    assert proc.returncode == 1
    assert one_line(proc.stderr).strip() == (
        "nothing stopped: CSCW_WAREHOUSE_URL is set (postgresql://cscw:***@127.0.0.1:5999/"
        "warehouse), a server cscw does not manage; unset CSCW_WAREHOUSE_URL to stop the "
        f"embedded warehouse of CSCW_HOME={tmp_path / 'home'}")


def test_native_stack_stops_its_own_server_and_keeps_its_data_if_it_is_still_running():
    text = (REPO / "scripts" / "native_stack.sh").read_text()
    teardown = text[text.index("teardown() {"):text.index("trap teardown EXIT")]
    stop = teardown[teardown.index('if [[ -n "$WH_SERVER_HOME" ]]'):]
    assert re.search(r"env -u CSCW_WAREHOUSE_URL CSCW_HOME=\"\$WH_SERVER_HOME\" "
                     r"CSCW_PG_PORT=\"\$WH_SERVER_PORT\" \\\n\s+\"\$VENV/bin/cscw\" warehouse "
                     r"stop", stop)
    assert "warehouse status" in stop  # it checks the server is gone ...
    assert stop.index("warehouse status") < stop.index('rm -rf "$WH_SERVER_HOME/pgdata"')
    assert 'elif [[ $wh_stopped -eq 1 ]]; then\n            rm -rf' in stop  # ... first


def test_native_stack_script_parses():
    subprocess.run(["bash", "-n", str(REPO / "scripts" / "native_stack.sh")], check=True)


# --- 9. how to log in ---------------------------------------------------------------------
def test_native_stack_and_deployment_guide_say_how_to_log_in():
    text = (REPO / "scripts" / "native_stack.sh").read_text()
    assert 'say "Airflow UI: http://127.0.0.1:$API_PORT/ - log in as $LOGIN"' in text
    assert ("user admin, password in $AIRFLOW_HOME/simple_auth_manager_passwords.json"
            ".generated (simple auth manager)") in text
    assert "user admin, password admin (FAB, created by airflow users create)" in text
    guide = (REPO / "docs" / "deployment.md").read_text()
    section = guide[guide.index("## Logging in"):]
    section = section[:section.index("\n## ", 3)]
    for needle in ("http://localhost:8080", "AIRFLOW_ADMIN_USERNAME", "AIRFLOW_ADMIN_PASSWORD",
                   "simple_auth_manager_passwords.json.generated"):
        assert needle in section, needle
