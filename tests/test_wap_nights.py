"""Write-audit-publish over three nights of the real DAG (``cscw run``).

Night 1 has warning faults only (published), night 2 every critical fault (nothing
published), night 3 is clean (published): tests/scenarios.py describes them.

The nights run once per test session, on their own database (the ``nights`` fixture of
tests/conftest.py, from tests/scenarios.py), and are shared with
tests/test_validate_worklists.py, tests/test_roles_pseudonymisation.py and
tests/test_roles_access.py: three full runs in all.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import psycopg2
import pytest

from scenarios import (
    CRITICAL_CHECKS,
    NIGHT1,
    NIGHT3,
    Night,
    Nights,
    execute,
    marts_digest,
)

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.dag


@pytest.fixture(scope="module")
def three(nights) -> Nights:
    return nights


def _out(night: Night) -> str:
    return night.proc.stdout + night.proc.stderr


# --- night 1: warnings do not block ------------------------------------------------------
def test_a_night_with_only_warnings_publishes(three):
    n1 = three.nights["warnings"]
    assert n1.proc.returncode == 0, _out(n1)[-3000:]
    assert "published" in _out(n1)
    status = three.cscw.query("select status from dq.pipeline_runs where run_id = %s",
                              (n1.run_id,))
    assert status == [("published",)]
    failed_warnings = three.cscw.query(
        "select expectation from dq.validation_results where run_id = %s "
        "and severity = 'warning' and not success", (n1.run_id,))
    assert failed_warnings, "the warning faults should fail at least one warning"
    assert three.cscw.query(
        "select count(*) from dq.validation_results where run_id = %s "
        "and severity = 'critical' and not success", (n1.run_id,)) == [(0,)]
    assert n1.caseload_as_of == [(NIGHT1,)]


def test_data_docs_are_built_and_linked(three):
    n1 = three.nights["warnings"]
    index = three.cscw.home / "reports" / "data-docs" / "index.html"
    assert index.exists()
    assert f"data docs: {index}" in " ".join(_out(n1).split())


# --- night 2: critical faults publish nothing --------------------------------------------
def test_a_critical_night_fails_and_publishes_nothing(three):
    n1, n2 = three.nights["warnings"], three.nights["critical"]
    assert n2.proc.returncode == 1, _out(n2)[-3000:]
    out = " ".join(_out(n2).split())
    assert "the nightly run failed" in out
    assert "critical checks failed, nothing published" in out
    # the marts BI reads are exactly as after the last good night
    assert n2.marts == n1.marts
    assert three.cscw.query("select status from dq.pipeline_runs where run_id = %s",
                            (n2.run_id,)) == [("failed",)]
    # its results are kept in dq, but not shown in the published completeness mart
    assert three.cscw.query("select count(*) from dq.validation_results where run_id = %s",
                            (n2.run_id,))[0][0] > 0


@pytest.mark.parametrize("fault", sorted({k for k, _ in CRITICAL_CHECKS}))
def test_each_critical_fault_is_named_and_counted(three, fault):
    n2 = three.nights["critical"]
    out = " ".join(_out(n2).split())
    injected: dict[str, int] = {}
    for f in n2.injected:
        if f["kind"] == fault:
            check = CRITICAL_CHECKS[(fault, f["table"])]
            injected[check] = injected.get(check, 0) + 1
    assert injected, f"the generator injected no {fault}"
    for check, count in injected.items():
        assert check in out, f"{check} not named in the run's output"
        rows = three.cscw.query(
            "select success, unexpected_count from dq.validation_results "
            "where run_id = %s and expectation = %s", (n2.run_id, check))
        assert rows == [(False, count)], (check, rows, count)


# --- night 3: the next good night publishes ----------------------------------------------
def test_the_next_good_night_publishes(three):
    n1, n3 = three.nights["warnings"], three.nights["good"]
    assert n3.proc.returncode == 0, _out(n3)[-3000:]
    assert n3.marts != n1.marts
    assert n3.caseload_as_of == [(NIGHT3,)]


def test_data_completeness_shows_published_nights_only(three):
    n1, n2, n3 = (three.nights[k] for k in ("warnings", "critical", "good"))
    rows = three.cscw.query(
        "select as_of, run_id, count(*) from marts.data_completeness "
        "where as_of between %s and %s group by 1, 2 order by 1", (NIGHT1, NIGHT3))
    assert [(r[0], r[1]) for r in rows] == [(NIGHT1, n1.run_id), (NIGHT3, n3.run_id)]
    expected = three.cscw.query(
        "select count(*) from dq.validation_results where run_id = %s", (n3.run_id,))[0][0]
    assert rows[-1][2] == expected
    # the headline chart: % of looked-after children with a known current location
    (pct, checked, failing), = three.cscw.query(
        "select percent_passing, records_checked, records_failing from marts.data_completeness"
        " where as_of = %s and check_name = 'current_location: current location known'",
        (NIGHT1,))
    # the counts, worked out independently: looked-after children from the drop's files,
    # failing ones = the worklist's rows
    night = NIGHT1.isoformat()
    with (n1.drop / "ssd_cla_episodes.csv").open(newline="") as f:
        looked_after = {r["clae_person_id"] for r in csv.DictReader(f)
                        if r["clae_cla_episode_start_date"] <= night
                        and (not r["clae_cla_episode_ceased_date"]
                             or night < r["clae_cla_episode_ceased_date"])}
    assert checked == len(looked_after) > 0
    assert failing == len(n1.worklists["wl_current_location_unknown"]) > 0
    assert float(pct) == pytest.approx(round(100 * (checked - failing) / checked, 2))


# --- atomic publish: a BI transaction never sees a mix -----------------------------------
def test_a_bi_transaction_sees_one_night_during_publish(three):
    """Hold a transaction that has read one mart while publish swaps (back and forth):
    publish waits for it; its second read comes from the same night."""
    from csc_warehouse.publish import publish

    url = three.cscw.url
    marts = [r[0] for r in three.cscw.query(
        "select table_name from information_schema.columns where table_schema = 'marts' "
        "and column_name = 'as_of' and table_name like 'mart%' group by 1 order by 1")]
    assert len(marts) >= 2
    a, b = marts[0], marts[-1]
    # marts_audit holds the previously published night: a swap changes every as_of
    audit_as_of = three.cscw.query(f"select max(as_of) from marts_audit.{a}")[0][0]
    before = three.cscw.query(f"select max(as_of) from marts.{a}")[0][0]
    assert audit_as_of != before
    start = marts_digest(three.cscw.query)

    reader = psycopg2.connect(url)
    errors: list[BaseException] = []
    try:
        with reader.cursor() as cur:
            cur.execute(f"select max(as_of) from marts.{a}")
            seen_a = cur.fetchone()[0]
            done = threading.Event()

            def swap():
                try:
                    publish(url, "test-wap-concurrency", before, None)
                except BaseException as exc:  # noqa: BLE001 - reported below
                    errors.append(exc)
                finally:
                    done.set()

            t = threading.Thread(target=swap)
            t.start()
            # publish must wait for this open transaction
            assert not done.wait(2.0), "publish did not wait for the open BI transaction"
            cur.execute(f"select max(as_of) from marts.{b}")
            seen_b = cur.fetchone()[0]
        reader.commit()
        t.join(60)
    finally:
        reader.close()
    assert not errors, errors
    assert seen_a == seen_b == before
    # after the publish a new query sees the other night, everywhere
    after = three.cscw.query(f"select (select max(as_of) from marts.{a}), "
                             f"(select max(as_of) from marts.{b})")[0]
    assert after == (audit_as_of, audit_as_of)
    # swap back, and forget the test run
    publish(url, "test-wap-concurrency", before, None)
    execute(url, "delete from dq.pipeline_runs where run_id = 'test-wap-concurrency'")
    assert three.cscw.query(f"select max(as_of) from marts.{a}")[0][0] == before
    assert marts_digest(three.cscw.query) == start


def test_a_reader_loop_never_sees_a_mix(three):
    """Readers in a loop (a transaction of two statements each) while publish swaps."""
    from csc_warehouse.publish import publish

    url = three.cscw.url
    marts = [r[0] for r in three.cscw.query(
        "select table_name from information_schema.columns where table_schema = 'marts' "
        "and column_name = 'as_of' and table_name like 'mart%' group by 1 order by 1")]
    a, b = marts[0], marts[-1]
    assert three.cscw.query(f"select max(as_of) from marts_audit.{a}") != three.cscw.query(
        f"select max(as_of) from marts.{a}"), "marts and marts_audit hold the same night"
    start = marts_digest(three.cscw.query)
    stop = threading.Event()
    mixes: list[tuple] = []
    reads = [0]

    def loop():
        conn = psycopg2.connect(url)
        try:
            while not stop.is_set():
                with conn.cursor() as cur:
                    cur.execute(f"select max(as_of) from marts.{a}")
                    x = cur.fetchone()[0]
                    cur.execute(f"select max(as_of) from marts.{b}")
                    y = cur.fetchone()[0]
                conn.commit()
                reads[0] += 1
                if x != y:
                    mixes.append((x, y))
        finally:
            conn.close()

    t = threading.Thread(target=loop)
    t.start()
    try:
        for _ in range(4):  # an even number of swaps: ends as it started
            publish(url, "test-wap-loop", NIGHT3, None)
    finally:
        stop.set()
        t.join(60)
        execute(url, "delete from dq.pipeline_runs where run_id = 'test-wap-loop'")
    assert reads[0] > 0
    assert mixes == []
    # the swaps had something to mix: marts and marts_audit hold different nights
    assert marts_digest(three.cscw.query) == start


# --- Airflow Assets: only publish emits them ----------------------------------------------
def test_only_the_publish_task_emits_assets(tmp_path):
    code = """
        import json
        from csc_warehouse.config import get_settings
        from csc_warehouse import airflow_runner, dbt_runner
        s = get_settings()
        airflow_runner.configure(s)
        dbt_runner.ensure_manifest("postgresql://nobody@127.0.0.1:1/none", s)
        from csc_warehouse.dag_factory import build_nightly_dag
        dag = build_nightly_dag()
        print(json.dumps({t.task_id: [str(getattr(o, "uri", o)) for o in t.outlets]
                          for t in dag.tasks}))
    """
    env = dict(os.environ, CSCW_HOME=str(tmp_path / "home"))
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env,
                          capture_output=True, text=True, timeout=300, cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-3000:]
    outlets = json.loads(proc.stdout.strip().splitlines()[-1])
    emitting = {t: o for t, o in outlets.items() if o}
    assert emitting == {"publish": ["cscw://warehouse/marts"]}
