"""A run that stops when it is told to (issue #18, docs/reliability.md "Stopping a run").

``cscw run`` runs as a subprocess on a tiny generated drop, made slow on purpose with the
test-only ``CSCW_TEST_SLOW_STEP`` (the step first waits in a long ``pg_sleep`` on one of the
run's tagged connections; dbt's in an on-run-start hook of its own). Once
``pg_stat_activity`` shows that statement, the run gets SIGTERM (or SIGINT): it must end
within 10 s with 143 (130) and say so, leave no statement of its own running, publish
nothing, record the night as interrupted, and the next run must succeed.
"""

from __future__ import annotations

import datetime as dt
import signal
import subprocess
import sys
import time

import pytest

from conftest import REPO
from csc_warehouse.generate import generate_drop

pytestmark = [pytest.mark.integration, pytest.mark.dag]

NIGHT = dt.date(2026, 11, 27)


def _marts_digest(cscw) -> dict[str, str]:
    tables = [r[0] for r in cscw.query(
        "select table_name from information_schema.tables where table_schema = 'marts' "
        "and table_type = 'BASE TABLE' order by 1")]
    return {t: cscw.query(
        f"select md5(coalesce(string_agg(t::text, '|' order by t::text), '')) "
        f"from marts.{t} t")[0][0] for t in tables}


@pytest.fixture(scope="module")
def published(cscw, tmp_path_factory):
    """A first night, published: what every stopped run must leave as it was."""
    drop = tmp_path_factory.mktemp("stop_landing") / NIGHT.isoformat()
    generate_drop(drop, children=30, years=2, as_of=NIGHT, seed=18)
    cscw.run("run", "--drop", str(drop))
    digest = _marts_digest(cscw)
    assert digest, "the first night published no marts"
    return {"drop": drop, "digest": digest}


def _tagged(cscw, pid: int, active_only: bool = True) -> list[tuple]:
    return cscw.query(
        "select pid, state, query from pg_stat_activity where application_name = %s"
        + (" and state <> 'idle'" if active_only else ""),
        (f"csc-warehouse run {pid}",))


def _stop_during(cscw, drop, slow: str, sig: signal.Signals) -> tuple[int, str, float, int]:
    env = {**cscw.env, "CSCW_TEST_SLOW_STEP": slow, "CSCW_TEST_SLOW_SECONDS": "600"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "csc_warehouse.cli", "run", "--drop", str(drop)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO,
    )
    try:
        deadline = time.monotonic() + 600
        while not any("pg_sleep" in q for _, state, q in _tagged(cscw, proc.pid)
                      if state == "active"):
            assert proc.poll() is None, f"the run ended before {slow}: {proc.stdout.read()}"
            assert time.monotonic() < deadline, f"{slow} never started its slow statement"
            time.sleep(0.5)
        sent = time.monotonic()
        proc.send_signal(sig)
        out, _ = proc.communicate(timeout=10)
        elapsed = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, " ".join(out.split()), elapsed, proc.pid


STEPS = {"load": "load_raw", "dbt": "dbt_build", "validate": "validate"}


@pytest.mark.parametrize(("slow", "sig"), [
    ("load", signal.SIGTERM),
    ("dbt", signal.SIGTERM),
    ("validate", signal.SIGTERM),
    ("dbt", signal.SIGINT),
])
def test_a_run_told_to_stop_stops_cancels_and_publishes_nothing(cscw, published, slow, sig):
    before = cscw.query("select count(*) from dq.pipeline_runs where status = 'interrupted'")
    code, out, elapsed, pid = _stop_during(cscw, published["drop"], slow, sig)

    assert code == 128 + sig, out[-3000:]
    assert elapsed < 10, f"took {elapsed:.1f}s to stop"
    assert (f"interrupted by {sig.name} during {STEPS[slow]}: night {NIGHT} not published; "
            "re-run to converge") in out, out[-3000:]
    # no statement of the run is left running in the warehouse
    deadline = time.monotonic() + 3
    while _tagged(cscw, pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _tagged(cscw, pid) == []
    # nothing published; the night is recorded as interrupted
    assert _marts_digest(cscw) == published["digest"]
    after = cscw.query("select count(*) from dq.pipeline_runs where status = 'interrupted'")
    assert after[0][0] == before[0][0] + 1
    (message,) = cscw.query("select message from dq.pipeline_runs where status = "
                            "'interrupted' order by finished_at desc limit 1")[0]
    assert f"{sig.name} during {STEPS[slow]}" in message


def test_a_statement_past_its_timeout_fails_the_step_and_names_the_setting(cscw, published):
    proc = subprocess.run(
        [sys.executable, "-m", "csc_warehouse.cli", "run", "--drop", str(published["drop"])],
        env={**cscw.env, "CSCW_TEST_SLOW_STEP": "validate",
             "CSCW_STATEMENT_TIMEOUT_VALIDATE": "1"},
        capture_output=True, text=True, cwd=REPO, timeout=600,
    )
    out = " ".join((proc.stdout + proc.stderr).split())
    assert proc.returncode == 1, out[-3000:]
    assert ("validate: a statement ran longer than 1s and was cancelled "
            "(CSCW_STATEMENT_TIMEOUT_VALIDATE)") in out, out[-3000:]
    assert _marts_digest(cscw) == published["digest"]


def test_the_next_run_converges(cscw, published):
    """After the stopped runs (this module's tests before this one), the night re-runs and
    publishes as after a crash."""
    proc = cscw.run("run", "--drop", str(published["drop"]))
    assert "published" in proc.stdout + proc.stderr
    (status,) = cscw.query("select status from dq.pipeline_runs order by finished_at desc "
                           "limit 1")[0]
    assert status == "published"
    assert _marts_digest(cscw).keys() == published["digest"].keys()
