"""Teams, workers and trends on a generated authority (issue 12, docs/measures/
teams-and-trends.md): the by-team marts add up to the authority, every fact and worklist
carries its team and worker, small numbers are suppressed in the marts for wider
circulation, and the letter's two questions can be answered from the marts alone."""

from __future__ import annotations

import datetime as dt

import pytest

THRESHOLD = 5  # dbt_project.yml var small_number_threshold (default)

#: "How many children did each team step down to early help without a manager's approval
#: last quarter, and how many came back within three months?"
QUESTION_STEP_DOWNS = """
select t.team_label as team,
       sum(k.numerator) filter (where k.measure = 'eh_step_downs_without_approval')
           as stepped_down_without_approval,
       sum(k.numerator) filter (where k.measure = 'eh_stepped_back_up_without_approval')
           as came_back_within_3_months,
       sum(k.denominator) filter (where k.measure = 'eh_stepped_back_up_without_approval')
           as whose_3_months_have_passed
from marts.mart_step_down_approval_kpis k
join marts.dim_month m on m.month_start = k.period_start
join marts.dim_team t on t.team = k.team
where m.is_latest_complete_quarter
  and k.measure in ('eh_step_downs_without_approval', 'eh_stepped_back_up_without_approval')
group by t.team_label, t.sort_order
order by t.sort_order
"""

#: "Is placement stability improving since the spring?"
QUESTION_STABILITY = """
select m.month_label as month, k.numerator as three_plus_placements,
       k.denominator as looked_after, k.rate
from marts.mart_cla_stability_monthly k
join marts.dim_month m on m.month_start = k.period_start
where k.measure = 'three_plus_placements_12m' and k.team = 'all'
  and m.month_start >= make_date(extract(year from m.as_of)::int, 3, 1)
order by m.month_start
"""


@pytest.fixture(scope="module")
def wh(built_warehouse):
    """The built scenario's CLI session (a generated authority, published)."""
    return built_warehouse["cscw"]


def _by_team_marts(query) -> list[str]:
    """Published KPI marts (team, numerator) split by team (rows other than `all`)."""
    marts = [r[0] for r in query(
        "select table_name from information_schema.columns where table_schema = 'marts' "
        "and column_name in ('team', 'numerator') and table_name not like '%%suppressed' "
        "and table_name not like 'mart_kpi_headlines%%' "
        "group by table_name having count(*) = 2 order by 1")]
    return [m for m in marts
            if query(f"select exists (select 1 from marts.{m} where team <> 'all')")[0][0]]


def test_summing_teams_gives_the_authority(wh):
    marts = _by_team_marts(wh.query)
    busy = {"mart_threshold_kpis_monthly", "mart_practice_kpis_monthly",
            "mart_step_down_approval_kpis", "mart_cla_stability_monthly",
            "mart_placement_kpis"}
    assert busy | {"mart_camhs_kpis"} <= set(marts)
    for mart in marts:
        rows = wh.query(f"""
            select measure, period_start,
                   sum(numerator) filter (where team <> 'all'),
                   sum(denominator) filter (where team <> 'all'),
                   max(numerator) filter (where team = 'all'),
                   max(denominator) filter (where team = 'all'),
                   count(*) filter (where team <> 'all' and numerator > 0)
            from marts.{mart} group by 1, 2""")
        assert rows, mart
        bad = [r for r in rows if (r[2], r[3]) != (r[4], r[5])]
        assert not bad, f"{mart}: teams do not add up to the authority: {bad[:5]}"
        # non-trivial: some measure-months are split over several teams (in the marts whose
        # events are many every month; the night's CAMHS referrals are a handful)
        assert mart not in busy or max(r[6] for r in rows) >= 2, mart
    sizes = wh.query("""
        select worklist, sum(list_rows) filter (where team <> 'all'),
               max(list_rows) filter (where team = 'all')
        from marts.mart_worklist_sizes group by 1""")
    assert sizes and all(r[1] == r[2] for r in sizes), sizes


def test_facts_carry_team_and_worker_and_worklists_current(wh):
    facts = [r[0] for r in wh.query(
        "select table_name from information_schema.columns where table_schema = 'analytics' "
        "and column_name = 'worker_id' order by 1")]
    assert {"fct_threshold_transitions", "fct_referrals", "fct_cp_plans", "fct_cla_reviews",
            "fct_placements", "fct_periods_of_care", "fct_significant_changes"} <= set(facts)
    for fact in facts:
        assert wh.query(f"select count(*) from analytics.{fact} "
                          "where team is null or worker_id is null") == [(0,)], fact
    # teams are real teams: several, and most transitions are allocated
    teams = wh.query("select count(distinct team), avg((worker_id <> 'unallocated')::int) "
                       "from analytics.fct_referrals")
    assert teams[0][0] >= 3 and teams[0][1] > 0.5, teams
    worklists = [r[0] for r in wh.query(
        "select table_name from information_schema.tables where table_schema = 'analytics' "
        "and table_name like 'wl\\_%%' order by 1")]
    assert worklists
    for wl in worklists:
        assert wh.query(f"select count(*) from analytics.{wl} "
                          "where current_team is null or current_worker_id is null") == [(0,)]
    # worker ids never reach the published marts
    leaked = wh.query("select table_name, column_name from information_schema.columns "
                        "where table_schema = 'marts' and column_name like '%%worker%%id'")
    assert leaked == []


def test_allocation_matches_the_involvements(wh):
    """Hand check on the data: on each allocated span's first day the worker is an open
    allocated-social-worker involvement of the child (never the IRO)."""
    rows = wh.query("""
        select count(*), count(*) filter (where not exists (
            select 1 from staging.stg_ssd__involvements i
            where i.person_id = a.person_id and i.professional_id = a.worker_id
              and i.professional_role = 'Allocated social worker'
              and i.start_date <= a.valid_from
              and (i.end_date is null or a.valid_from < i.end_date)))
        from intermediate.int_allocations_dated a where a.is_allocated""")
    assert rows[0][0] > 100 and rows[0][1] == 0, rows
    iro = wh.query("""
        select count(*) from intermediate.int_allocations_dated a
        join staging.stg_ssd__involvements i on i.professional_id = a.worker_id
        where i.professional_role <> 'Allocated social worker'""")
    assert iro == [(0,)]


@pytest.mark.parametrize("mart", ["mart_threshold_kpis_monthly", "mart_practice_kpis_monthly",
                                  "mart_step_down_approval_kpis", "mart_cla_stability_monthly",
                                  "mart_placement_kpis"])
def test_suppressed_marts_show_no_small_team_counts(wh, mart):
    shown = wh.query(f"""
        select count(*) from marts.{mart}_suppressed
        where team <> 'all' and (numerator between 1 and {THRESHOLD - 1}
                                 or denominator between 1 and {THRESHOLD - 1})""")
    assert shown == [(0,)]
    # the same rows as the unsuppressed mart; hidden where it had a small count
    cmp = wh.query(f"""
        select count(*), count(*) filter (where s.is_suppressed),
               count(*) filter (where not s.is_suppressed and (s.numerator, s.denominator)
                                is distinct from (u.numerator, u.denominator)),
               count(*) filter (where u.team <> 'all' and not s.is_suppressed and
                   (u.numerator between 1 and {THRESHOLD - 1}
                    or u.denominator between 1 and {THRESHOLD - 1}))
        from marts.{mart} u
        join marts.{mart}_suppressed s using (measure, team, period_start)""")
    total = wh.query(f"select count(*) from marts.{mart}")[0][0]
    assert cmp[0][0] == total and cmp[0][1] > 0 and cmp[0][2] == 0 and cmp[0][3] == 0, cmp


def test_the_letters_questions_from_the_marts(wh):
    step_downs = wh.query(QUESTION_STEP_DOWNS)
    teams = {r[0] for r in step_downs}
    assert "All teams (the authority)" in teams and len(teams) >= 3
    total = next(r for r in step_downs if r[0] == "All teams (the authority)")
    parts = [r for r in step_downs if r[0] != "All teams (the authority)"]
    assert total[1] == sum(r[1] for r in parts) and total[2] == sum(r[2] for r in parts)
    stability = wh.query(QUESTION_STABILITY)
    night = dt.date(2026, 11, 27)  # the built scenario's night (conftest.built_warehouse)
    assert len(stability) == night.month - 3 + 1  # March to the month of the night
    assert all(r[2] > 0 and 0 <= r[3] <= 1 for r in stability), stability
