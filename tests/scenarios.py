"""The test scenarios that run the real nightly DAG, shared by several test modules through
the fixtures of tests/conftest.py (each scenario on its own database).

The write-audit-publish nights (``nights`` fixture):

Night 1 (2026-10-06): warning faults only (missing postcodes, unauthorised step-downs):
  published; warnings recorded, worklists filled.
Night 2 (2026-10-07): every critical fault that reaches GX (the loader quarantines
  duplicate keys and bad values): orphan foreign keys, spans ending before they start,
  overlapping placements. Nothing is published; the run fails naming the checks.
Night 3 (2026-10-08): clean: published normally.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2

from csc_warehouse.generate import generate_drop

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


def run_three_nights(cscw, tmp: Path) -> Nights:
    """The three nights, run in order on the scenario's own warehouse."""
    n = Nights(cscw=cscw)
    n.before_night1 = marts_digest(cscw.query)
    n.nights["warnings"] = _run_night(cscw, tmp, NIGHT1, "faulty", WARNING_FAULTS)
    n.nights["critical"] = _run_night(cscw, tmp, NIGHT2, "faulty", CRITICAL_FAULTS)
    n.nights["good"] = _run_night(cscw, tmp, NIGHT3, "clean", {})
    return n
