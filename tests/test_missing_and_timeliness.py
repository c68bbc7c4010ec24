"""Missing from care and timeliness (docs/measures/missing-and-timeliness.md) on generated
drops, end to end through ``cscw run``.

The session's clean night (``built_warehouse``) is checked against the drop's own files with
an independent count of working days (a plain loop over the England & Wales bank holidays,
not the dbt macros), and against the generator's ICPC target dates (the 15th working day
after the strategy discussion, the start day being day 0). A night on the module's own
database drops ssd_cin_assessments and ssd_initial_cp_conference and delivers ssd_missing
without the return home interview columns: those measures are published as null, never 0.
"""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from functools import cache
from pathlib import Path

import pytest

from csc_warehouse.generate.calendar import bank_holidays

NIGHT = dt.date(2026, 11, 27)
ABSENT_NIGHT = dt.date(2026, 11, 28)
ASSESSMENT_WD = 45  # dbt var assessment_working_days (default)
ICPC_WD = 15  # dbt var icpc_working_days (default)


@cache
def _holidays() -> frozenset[dt.date]:
    return frozenset(d for y in range(2000, 2036) for d in bank_holidays(y))


def working_days_after(start: dt.date, end: dt.date) -> int:
    """Working days in (start, end]: the start day is day 0."""
    n, d = 0, start
    while d < end:
        d += dt.timedelta(days=1)
        if d.weekday() < 5 and d not in _holidays():
            n += 1
    return n


def _rows(drop: Path, table: str) -> list[dict[str, str]]:
    with (drop / f"{table}.csv").open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _date(s: str) -> dt.date | None:
    return dt.date.fromisoformat(s) if s else None


@pytest.fixture(scope="module")
def night(built_warehouse):
    assert built_warehouse["night"] == NIGHT
    return built_warehouse


def test_assessment_working_days_agree_with_an_independent_count(night):
    cscw = night["cscw"]
    drop = night["drop"]
    expected = {}
    for r in _rows(drop, "ssd_cin_assessments"):
        start, auth = _date(r["cina_assessment_start_date"]), _date(r["cina_assessment_auth_date"])
        if start is None or start > NIGHT:
            continue
        if auth is not None and auth <= NIGHT:
            wd = working_days_after(start, auth)
            expected[r["cina_assessment_id"]] = (wd, wd <= ASSESSMENT_WD, False)
        else:
            late = working_days_after(start, NIGHT) > ASSESSMENT_WD
            expected[r["cina_assessment_id"]] = (None, False if late else None, late)
    got = {a: (wd, within, overdue) for a, wd, within, overdue in cscw.query(
        "select assessment_id, working_days_to_auth, authorised_within_45wd, overdue_on_as_of "
        "from analytics.fct_assessment_timeliness")}
    assert got == expected
    # the drop exercises both sides of the 45-day line
    assert {w for _, w, _ in expected.values()} >= {True, False}


def test_icpc_timed_from_the_s47_start_agrees_with_the_target_date(night):
    """The generator writes icpc_icpc_target_date as the SSD defines it (15 working days
    after the strategy discussion): counting the start day as day 0 makes "within 15
    working days" the same as "held on or before the target date", conference by
    conference."""
    cscw = night["cscw"]
    rows = cscw.query(
        "select icpc_id, s47_start_date, icpc_date, working_days_to_icpc, within_15wd, "
        "target_date, timed_from from analytics.fct_icpc_timeliness")
    assert rows and {r[6] for r in rows} == {"s47_start"}
    for icpc_id, s47_start, icpc_date, wd, within, target, _ in rows:
        assert wd == working_days_after(s47_start, icpc_date), icpc_id
        assert within == (icpc_date <= target) == (wd <= ICPC_WD), icpc_id
    assert {r[4] for r in rows} >= {True, False}
    # s47 -> ICPC: exactly the enquiries an ICPC of the drop names
    named = {r["icpc_s47_enquiry_id"] for r in _rows(night["drop"], "ssd_initial_cp_conference")}
    led = {s for (s,) in cscw.query(
        "select s47_enquiry_id from analytics.fct_s47_enquiries where led_to_icpc")}
    assert led == named


def test_currently_missing_children_join_the_location_worklist(night):
    cscw = night["cscw"]
    drop = night["drop"]

    def open_on(start: str, end: str) -> bool:
        return start <= NIGHT.isoformat() and (not end or NIGHT.isoformat() < end)

    looked_after = {r["clae_person_id"] for r in _rows(drop, "ssd_cla_episodes")
                    if open_on(r["clae_cla_episode_start_date"],
                               r["clae_cla_episode_ceased_date"])}
    missing_rows = _rows(drop, "ssd_missing")
    missing_now = {r["miss_person_id"] for r in missing_rows
                   if open_on(r["miss_missing_episode_start_date"],
                              r["miss_missing_episode_end_date"])}
    listed = {p for (p,) in cscw.query(
        "select person_id from analytics.wl_current_location_unknown where reason = 'missing'")}
    assert listed == looked_after & missing_now
    assert cscw.query("select count(*) from analytics.fct_missing_episodes")[0][0] == sum(
        1 for r in missing_rows if r["miss_missing_episode_start_date"] <= NIGHT.isoformat())
    # the GX warning counts exactly the worklist's rows (missing children included)
    (unexpected,) = cscw.query(
        "select unexpected_count from dq.validation_results where as_of = %s "
        "and expectation = 'current_location: current location known' "
        "order by validated_at desc limit 1", (NIGHT,))[0]
    assert unexpected == cscw.query(
        "select count(*) from analytics.wl_current_location_unknown")[0][0]


def test_published_kpis_add_up_from_the_facts(night):
    cscw = night["cscw"]
    measures = {m for (m,) in cscw.query("select distinct measure from marts.mart_timeliness_kpis")}
    assert {"assessment_within_45wd", "icpc_within_15wd", "s47_to_icpc", "icpc_to_cp_plan",
            "cla_missing_or_away", "rhi_offered", "rhi_accepted"} <= measures
    (num, den), = cscw.query(
        "select sum(numerator), sum(denominator) from marts.mart_timeliness_kpis "
        "where measure = 'assessment_within_45wd'")
    (within, authorised), = cscw.query(
        "select count(*) filter (where authorised_within_45wd), count(auth_date) "
        "from analytics.fct_assessment_timeliness")
    assert (num, den) == (within, authorised) and den > 0


def test_absent_tables_and_columns_publish_null_not_zero(night, cscw, tmp_path):
    """A night without ssd_cin_assessments and ssd_initial_cp_conference, whose ssd_missing
    has no return home interview columns (on this module's own database)."""
    drop = tmp_path / ABSENT_NIGHT.isoformat()
    shutil.copytree(night["drop"], drop)
    (drop / "manifest.json").unlink()
    for table in ("ssd_cin_assessments", "ssd_initial_cp_conference"):
        (drop / f"{table}.csv").unlink()
    rows = _rows(drop, "ssd_missing")
    keep = [c for c in rows[0] if not c.startswith("miss_missing_rhi_")]
    with (drop / "ssd_missing.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=keep, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    proc = cscw.run("run", "--drop", str(drop), check=False)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]

    got = {m: (n, d, r, nn) for m, n, d, r, nn in cscw.query(
        "select measure, count(numerator), count(denominator), count(rate), count(*) "
        "from marts.mart_timeliness_kpis where as_of = %s group by measure", (ABSENT_NIGHT,))}
    for m in ("assessment_within_45wd", "assessment_open_overdue", "icpc_within_15wd",
              "s47_to_icpc", "icpc_to_cp_plan", "rhi_offered", "rhi_accepted"):
        n, d, r, rows_ = got[m]
        assert rows_ > 0 and (n, d, r) == (0, 0, 0), m  # every figure null
    # missing episodes themselves were delivered: counted, not null
    n, d, _, rows_ = got["cla_missing_or_away"]
    assert n == d == rows_ > 0
    delivered = sum(
        1 for r in rows if r["miss_missing_episode_start_date"] <= ABSENT_NIGHT.isoformat())
    assert cscw.query(
        "select count(*), count(rhi_offered), count(rhi_accepted) "
        "from analytics.fct_missing_episodes")[0] == (delivered, 0, 0)
