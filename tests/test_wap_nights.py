"""Write-audit-publish over three nights of the real DAG (``cscw run``).

Night 1 (2026-10-06): warning faults only (missing postcodes, unauthorised step-downs):
  published; warnings recorded, worklists filled.
Night 2 (2026-10-07): every critical fault that reaches GX (the loader quarantines
  duplicate keys and bad values): orphan foreign keys, spans ending before they start,
  overlapping placements. Nothing is published; the run fails naming the checks.
Night 3 (2026-10-08): clean: published normally.

The nights run once per test session (:func:`nights`, cached), and are shared with
tests/test_validate_worklists.py and tests/test_roles_access.py: three full runs in all.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
import textwrap
import threading
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2
import pytest

REPO = Path(__file__).resolve().parents[1]

NO_FAULTS = {
    "missing_postcode": 0, "blank_rc9_authorisation": 0, "unknown_code": 0,
    "end_before_start": 0, "overlapping_placement": 0, "orphan_row": 0, "duplicate_key": 0,
}
CHILDREN = 300
SEED = 11
# dates no other test module uses, so results and runs can be looked up by as_of
NIGHT1, NIGHT2, NIGHT3 = dt.date(2026, 10, 6), dt.date(2026, 10, 7), dt.date(2026, 10, 8)
WARNING_FAULTS = {**NO_FAULTS, "missing_postcode": 0.4, "blank_rc9_authorisation": 0.4}
CRITICAL_FAULTS = {**NO_FAULTS, "orphan_row": 0.05, "end_before_start": 0.1,
                   "overlapping_placement": 0.3}

#: the critical check each injected fault must fail: (fault kind, contract table) -> check
CRITICAL_CHECKS = {
    ("orphan_row", "ssd_contacts"): "contacts: person exists",
    ("orphan_row", "ssd_missing"): "missing_episodes: person exists",
    ("orphan_row", "ssd_involvements"): "involvements: person exists",
    ("end_before_start", "ssd_cin_plans"): "cin_plans: ends on or after start",
    ("end_before_start", "ssd_cp_plans"): "cp_plans: ends on or after start",
    ("end_before_start", "ssd_missing"): "missing_episodes: ends on or after start",
    ("end_before_start", "ssd_early_help_episodes"):
        "early_help_episodes: ends on or after start",
    ("overlapping_placement", "ssd_cla_placement"):
        "placement_overlaps: no overlapping placements",
}


@dataclass
class Night:
    date: dt.date
    drop: Path
    injected: list[dict]
    proc: subprocess.CompletedProcess
    marts: dict[str, str]  # relation -> digest of its contents, right after the run
    caseload_as_of: list[tuple]  # marts.mart_caseload_summary's as_of, right after the run
    worklists: dict[str, list[dict]]  # analytics.wl_* rows, right after the run
    child_keys: set[str]  # every child_key in the published marts, right after the run
    run_id: str | None = None
    #: analytics.wl_* -> can cscw_casework select it, right after the run (before any test
    #: re-applies grants)
    worklist_grants: dict[str, bool] = field(default_factory=dict)


@dataclass
class Nights:
    cscw: object
    nights: dict[str, Night] = field(default_factory=dict)
    before_night1: dict[str, str] = field(default_factory=dict)


_CACHE: dict[str, Nights] = {}


def marts_digest(query) -> dict[str, str]:
    """relation -> sha256 of its rows (sorted), for every relation in schema marts."""
    rels = [r[0] for r in query(
        "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
        "where n.nspname = 'marts' and c.relkind in ('r', 'v', 'm') order by 1")]
    out = {}
    for rel in rels:
        rows = query(f'select t::text from marts."{rel}" as t order by 1')
        out[rel] = hashlib.sha256("\n".join(r[0] for r in rows).encode()).hexdigest()
    return out


def _run_night(cscw, tmp: Path, date: dt.date, profile: str, faults: dict) -> Night:
    from csc_warehouse.generate import generate_drop

    res = generate_drop(tmp / date.isoformat(), children=CHILDREN, seed=SEED, as_of=date,
                        profile=profile, faults=faults if profile == "faulty" else None)
    injected = json.loads(res.injected.read_text())["faults"] if res.injected else []
    proc = cscw.run("run", "--drop", str(res.path), check=False, timeout=900)
    run = cscw.query("select run_id from dq.validation_results where as_of = %s "
                     "order by validated_at desc limit 1", (date,))
    return Night(date=date, drop=res.path, injected=injected, proc=proc,
                 marts=marts_digest(cscw.query),
                 caseload_as_of=cscw.query(
                     "select distinct as_of from marts.mart_caseload_summary order by 1"),
                 worklists=_worklists(cscw.query), child_keys=_child_keys(cscw.query),
                 run_id=run[0][0] if run else None,
                 worklist_grants=dict(cscw.query(
                     "select c.relname, has_table_privilege('cscw_casework', c.oid, 'select') "
                     "from pg_class c join pg_namespace n on n.oid = c.relnamespace "
                     "where n.nspname = 'analytics' and c.relname like 'wl\\_%' "
                     "and exists (select 1 from pg_roles where rolname = 'cscw_casework')")))


def _worklists(query) -> dict[str, list[dict]]:
    names = [r[0] for r in query(
        "select table_name from information_schema.tables where table_schema = 'analytics' "
        "and table_name like 'wl\\_%' order by 1")]
    return {n: [r[0] for r in query(f"select to_jsonb(t) from analytics.{n} as t")]
            for n in names}


def _child_keys(query) -> set[str]:
    keys: set[str] = set()
    for (table,) in query("select table_name from information_schema.columns where "
                          "table_schema = 'marts' and column_name = 'child_key'"):
        keys |= {r[0] for r in query(f"select distinct child_key from marts.{table} "
                                     "where child_key is not null")}
    return keys


def execute(url: str, sql: str, params: tuple | None = None) -> None:
    """Run a statement and commit it."""
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
        conn.commit()
    finally:
        conn.close()


def nights(cscw, tmp_path_factory) -> Nights:
    """Run the three nights once per session."""
    if "n" not in _CACHE:
        tmp = tmp_path_factory.mktemp("quality_drops")
        n = Nights(cscw=cscw)
        n.before_night1 = marts_digest(cscw.query)
        n.nights["warnings"] = _run_night(cscw, tmp, NIGHT1, "faulty", WARNING_FAULTS)
        n.nights["critical"] = _run_night(cscw, tmp, NIGHT2, "faulty", CRITICAL_FAULTS)
        n.nights["good"] = _run_night(cscw, tmp, NIGHT3, "clean", {})
        _CACHE["n"] = n
    return _CACHE["n"]


@pytest.fixture(scope="module")
def three(cscw, tmp_path_factory) -> Nights:
    return nights(cscw, tmp_path_factory)


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
