"""Trends over nights (issue 12, docs/measures/teams-and-trends.md#trends): each published
night's headline figures are kept, one row per night, never rewritten, surviving the
write-audit-publish swap; a night that fails adds no row; and the monthly series is the
same on two nights for the months whose figures are final when the data did not change.

Reuses the three nights of tests/test_wap_nights.py (warnings: published; critical: not
published; clean: published) and adds a fourth: night 3's very files again, one day later
(the data did not change), run twice (the second publish must not rewrite the row)."""

from __future__ import annotations

import datetime as dt
import json
import shutil

import pytest

from test_wap_nights import NIGHT1, NIGHT2, NIGHT3, nights

NIGHT4 = NIGHT3 + dt.timedelta(days=1)
MONTHLY = ("mart_threshold_kpis_monthly", "mart_practice_kpis_monthly",
           "mart_step_down_approval_kpis", "mart_cla_stability_monthly")
#: the longest window a monthly figure waits on (step back up within 3 months): a month
#: ending more than this before both nights is final
FINAL_AFTER_MONTHS = 4


def _series(query, mart: str, before: dt.date) -> list[tuple]:
    return query(f"""select measure, team, period_start, numerator, denominator, rate
                     from marts.{mart} where is_complete_period and period_end < %s
                     order by 1, 2, 3""", (before,))


@pytest.fixture(scope="module")
def four(cscw, tmp_path_factory):
    n = nights(cscw, tmp_path_factory)
    first = {m: _series(cscw.query, m, dt.date(2026, 6, 1)) for m in MONTHLY}
    history_before = cscw.query(
        "select as_of, run_id, published_at, headlines from dq.kpi_headlines_nightly "
        "where as_of in (%s, %s, %s) order by 1", (NIGHT1, NIGHT2, NIGHT3))
    # night 4: night 3's files again, one day later
    src = n.nights["good"].drop
    drop = tmp_path_factory.mktemp("teams_night4") / NIGHT4.isoformat()
    shutil.copytree(src, drop)
    manifest = drop / "manifest.json"
    if manifest.exists():
        m = json.loads(manifest.read_text())
        m["drop_date"] = NIGHT4.isoformat()
        manifest.write_text(json.dumps(m))
    proc = cscw.run("run", "--drop", str(drop), check=False, timeout=900)
    second = {m: _series(cscw.query, m, dt.date(2026, 6, 1)) for m in MONTHLY}
    row4 = cscw.query("select run_id, published_at, headlines from dq.kpi_headlines_nightly "
                      "where as_of = %s", (NIGHT4,))
    headlines4 = cscw.query("select count(*) from marts.mart_kpi_headlines")[0][0]
    again = cscw.run("run", "--drop", str(drop), check=False, timeout=900)
    return {"nights": n, "first": first, "second": second, "proc": proc, "again": again,
            "history_before": history_before, "row4": row4, "headlines4": headlines4}


def test_one_history_row_per_published_night(cscw, four):
    assert four["proc"].returncode == 0, (four["proc"].stdout + four["proc"].stderr)[-3000:]
    rows = cscw.query("select as_of, run_id from dq.kpi_headlines_nightly "
                      "where as_of between %s and %s order by 1", (NIGHT1, NIGHT4))
    assert [r[0] for r in rows] == [NIGHT1, NIGHT3, NIGHT4]  # the failed night 2: none
    runs = dict(cscw.query("select run_id, status from dq.pipeline_runs where as_of between "
                           "%s and %s", (NIGHT1, NIGHT4)))
    assert all(runs[r[1]] == "published" for r in rows)
    n = four["nights"].nights
    assert rows[0][1] == n["warnings"].run_id and rows[1][1] == n["good"].run_id
    assert n["critical"].proc.returncode != 0


def test_history_is_never_rewritten(cscw, four):
    before = four["history_before"]
    after = cscw.query(
        "select as_of, run_id, published_at, headlines from dq.kpi_headlines_nightly "
        "where as_of in (%s, %s, %s) order by 1", (NIGHT1, NIGHT2, NIGHT3))
    assert after == before and len(before) == 2
    # night 4 published twice: the first row stays
    assert four["again"].returncode == 0
    assert cscw.query("select run_id, published_at, headlines from dq.kpi_headlines_nightly "
                      "where as_of = %s", (NIGHT4,)) == four["row4"]
    # the row holds the night's headline mart, one entry per headline figure
    assert len(four["row4"][0][2]) == four["headlines4"] > 0


def test_history_is_published_to_bi(cscw, four):
    rows = cscw.query("""select night, count(*) from marts.mart_kpi_headlines_nightly
                         where night between %s and %s group by 1 order by 1""",
                      (NIGHT1, NIGHT4))
    assert [r[0] for r in rows] == [NIGHT1, NIGHT3, NIGHT4]
    assert all(r[1] == four["headlines4"] for r in rows[1:])


def test_monthly_series_is_the_same_for_final_months(four):
    for mart in MONTHLY:
        first, second = four["first"][mart], four["second"][mart]
        assert len(first) > 20 * 3, mart  # years of months, several measures
        assert first == second, mart
    # three years of stability months on the first nights already
    months = {r[2] for r in four["second"]["mart_cla_stability_monthly"]}
    assert len(months) >= 36 - FINAL_AFTER_MONTHS - 1
