"""Trends over nights (issue 12, docs/measures/teams-and-trends.md#trends): each published
night's headline figures are kept, one row per night, never rewritten, surviving the
write-audit-publish swap; a night that fails adds no row; and the monthly series is the
same on two nights for the months whose figures are final when the data did not change.

The nights of tests/scenarios.py on this module's own warehouse (the shared `nights`
scenario is left alone): night 1 (warning faults: published), night 2 (critical faults:
not published), night 3 = night 1's very files one day later (the data did not change:
published), run twice (the second publish must not rewrite the night's row)."""

from __future__ import annotations

import datetime as dt
import json
import shutil

import pytest

from scenarios import CRITICAL_FAULTS, NIGHT1, NIGHT2, WARNING_FAULTS, _run_night

NIGHT3 = NIGHT2 + dt.timedelta(days=1)
MONTHLY = ("mart_threshold_kpis_monthly", "mart_practice_kpis_monthly",
           "mart_step_down_approval_kpis", "mart_cla_stability_monthly")
#: a month's figures are final once its longest window (a step-down's 3 months) has closed:
#: compare the months ending before this, on both nights
FINAL_BEFORE = dt.date(2026, 6, 1)


def _series(query, mart: str) -> list[tuple]:
    return query(f"""select measure, team, period_start, numerator, denominator, rate
                     from marts.{mart} where is_complete_period and period_end < %s
                     order by 1, 2, 3""", (FINAL_BEFORE,))


def _history(query, *nights: dt.date) -> list[tuple]:
    return query("select as_of, run_id, published_at, headlines from dq.kpi_headlines_nightly "
                 "where as_of = any(%s) order by 1", (list(nights),))


@pytest.fixture(scope="module")
def nights(cscw, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("teams_nights")
    n1 = _run_night(cscw, tmp, NIGHT1, "faulty", WARNING_FAULTS)
    first = {m: _series(cscw.query, m) for m in MONTHLY}
    n2 = _run_night(cscw, tmp, NIGHT2, "faulty", CRITICAL_FAULTS)
    history_before = _history(cscw.query, NIGHT1, NIGHT2)
    # night 3: night 1's files again, one day later
    drop = tmp / NIGHT3.isoformat()
    shutil.copytree(n1.drop, drop)
    manifest = drop / "manifest.json"
    if manifest.exists():
        m = json.loads(manifest.read_text())
        m["drop_date"] = NIGHT3.isoformat()
        manifest.write_text(json.dumps(m))
    n3 = cscw.run("run", "--drop", str(drop), check=False, timeout=900)
    second = {m: _series(cscw.query, m) for m in MONTHLY}
    row3 = _history(cscw.query, NIGHT3)
    headlines3 = cscw.query("select count(*) from marts.mart_kpi_headlines")[0][0]
    again = cscw.run("run", "--drop", str(drop), check=False, timeout=900)
    return {"n1": n1, "n2": n2, "n3": n3, "again": again, "first": first, "second": second,
            "history_before": history_before, "row3": row3, "headlines3": headlines3}


def test_one_history_row_per_published_night(cscw, nights):
    assert nights["n1"].proc.returncode == 0, nights["n1"].proc.stdout[-3000:]
    assert nights["n2"].proc.returncode != 0  # the critical night is not published
    assert nights["n3"].returncode == 0, (nights["n3"].stdout + nights["n3"].stderr)[-3000:]
    rows = _history(cscw.query, NIGHT1, NIGHT2, NIGHT3)
    assert [r[0] for r in rows] == [NIGHT1, NIGHT3]  # the failed night 2: none
    assert rows[0][1] == nights["n1"].run_id
    runs = dict(cscw.query("select run_id, status from dq.pipeline_runs"))
    assert all(runs[r[1]] == "published" for r in rows)


def test_history_is_never_rewritten(cscw, nights):
    # the later nights left night 1's row as it was
    assert _history(cscw.query, NIGHT1, NIGHT2) == nights["history_before"]
    assert len(nights["history_before"]) == 1
    # night 3 published twice: the first row stays
    assert nights["again"].returncode == 0
    assert _history(cscw.query, NIGHT3) == nights["row3"]
    # the row holds the night's headline mart, one entry per headline figure
    assert len(nights["row3"][0][3]) == nights["headlines3"] > 0


def test_history_is_published_to_bi(cscw, nights):
    rows = cscw.query("select night, count(*) from marts.mart_kpi_headlines_nightly "
                      "group by 1 order by 1")
    assert rows == [(NIGHT1, rows[0][1]), (NIGHT3, nights["headlines3"])]


def test_monthly_series_is_the_same_for_final_months(nights):
    for mart in MONTHLY:
        first, second = nights["first"][mart], nights["second"][mart]
        assert len(first) > 20 * 3, mart  # years of months, several measures
        assert first == second, mart
    # the stability series has its 36 months on the first night
    months = {r[2] for r in nights["first"]["mart_cla_stability_monthly"]}
    assert len(months) >= 36 - 5
