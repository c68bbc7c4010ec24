"""Threshold transitions, referrals and CP plans on a hand-made drop (sections 1 and 4 of
docs/measures/transitions-and-referrals.md).

The drop ``fixtures/drops/transitions/2026-03-31`` holds seven children. Every expected row
below was worked out BY HAND from docs/measures/transitions-and-referrals.md, not by
running the models; the reasoning is in the comments. Defaults of the dbt vars:
transition_gap_days 28, step_back_up_window_months 3, reassessment_window_days 90,
re_referral_window_months 12, cp_plan_long_duration_years 2. as_of = 2026-03-31.

Conventions used in the reasoning:
- a span [start, end) is open on d when start <= d < end, so the level changes ON the end
  date; days at level 0 in a gap = next start - previous end;
- a gap of <= 28 days at level 0 between two non-zero levels is bridged (the transition
  is dated on the new level's start, gap_days = the gap);
- "within 3 months" is inclusive: step-up date <= step-down date + 3 months;
- "re-assessed in the 90 days up to and including the transition date": authorised on d
  with 0 <= transition_date - d <= 90 (day 90 in, day 91 out).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

DROP = Path(__file__).resolve().parent / "fixtures" / "drops" / "transitions" / "2026-03-31"


def d(s: str) -> dt.date:
    return dt.date.fromisoformat(s)


N = None
T = True
F = False

# (person_id, transition_date, from, to, gap_days, direction, is_provisional,
#  is_step_down_to_early_help, stepped_back_up_within_3m, days_to_step_back_up,
#  reassessed_before, manager_approval_recorded)
EXPECTED_TRANSITIONS = [
    # C1: CIN R1A 2024-12-02..2025-04-01 (authorised by TM1 on 2025-03-31), early help
    # E1A 2025-04-01..2025-05-20, CIN R1B 2025-05-20..2025-06-17 (no authorisation),
    # early help E1B from 2025-07-15 (open). Assessment A1 authorised 2025-01-01.
    # - first involvement: entry 0->2, gap null.
    ("C1", "2024-12-02", 0, 2, N, "entry", F, F, N, N, N, N),
    # - R1A ends and E1A starts on 2025-04-01: consecutive (no day at 0) -> step_down 2->1,
    #   gap 0. Step-up on 2025-05-20 <= 2025-07-01 (+3 months) -> stepped back up, 49 days
    #   (30 in April - 1 + 20 = 49). A1: 2025-04-01 - 2025-01-01 = 31+28+31 = 90 days ->
    #   day 90 is in -> re-assessed. Closes R1A, authoriser and date recorded -> true.
    ("C1", "2025-04-01", 2, 1, 0, "step_down", F, T, T, 49, T, T),
    # - E1A ends / R1B starts 2025-05-20: step_up 1->2; reassessed only on step-ups to
    #   CP/CLA -> null.
    ("C1", "2025-05-20", 1, 2, 0, "step_up", F, F, N, N, N, N),
    # - R1B ends 2025-06-17, E1B starts 2025-07-15: 2025-07-15 - 2025-06-17 = 28 days at
    #   level 0 -> bridged (<= 28): step_down 2->1 dated 2025-07-15, gap 28. No later
    #   step-up and 2025-10-15 <= as_of -> matured, false; days null. A1 is far -> false.
    #   It closes R1B (closed 2025-06-17 = the day level 2 ended), no authoriser -> false.
    ("C1", "2025-07-15", 2, 1, 28, "step_down", F, T, F, N, F, F),
    # C2: CIN R2A 2025-02-01..2025-03-01 (authoriser TM2 but no date), CIN R2B from
    # 2025-03-30 (open), CP P2A 2025-06-01..2026-05-01 (end after as_of -> open), early
    # help E2A starting 2026-04-15 (after as_of -> ignored). Assessment A2 2025-03-02.
    ("C2", "2025-02-01", 0, 2, N, "entry", F, F, N, N, N, N),
    # - R2A closes 2025-03-01; R2B starts 29 days later (2025-03-30 - 2025-03-01 = 29)
    #   -> not bridged: exit on 2025-03-01 (closes R2A: date missing -> false) ...
    ("C2", "2025-03-01", 2, 0, 0, "exit", F, F, N, N, N, F),
    # ... and a fresh entry on 2025-03-30 with gap_days 29.
    ("C2", "2025-03-30", 0, 2, 29, "entry", F, F, N, N, N, N),
    # - CP plan from 2025-06-01: step_up 2->3. A2: 2025-06-01 - 2025-03-02 = 30+30+31 = 91
    #   days -> day 91 is out -> false. The CP plan's end (2026-05-01) is after as_of, so
    #   it is open: no step-down, and the early help starting after as_of is ignored.
    ("C2", "2025-06-01", 2, 3, 0, "step_up", F, F, N, N, F, N),
    # C3: early help E3A 2024-10-01..2024-11-01, CIN R3A 2024-11-28..2025-09-01 (TM3,
    # 2025-08-29), CP P3A 2025-01-10..2025-09-01, a period of care CLA3 of two episodes
    # 2025-03-01..2025-05-01 and 2025-05-01..2025-06-15 (one period: no change on 05-01),
    # early help E3B 2025-09-01..2025-12-01, a referral R3B 2025-10-01 closed NFA the
    # same day (zero length: opens nothing), CIN R3C from 2025-12-01 (open).
    # Assessments A3B 2025-01-05 and A3A 2025-06-15.
    ("C3", "2024-10-01", 0, 1, N, "entry", F, F, N, N, N, N),
    # - E3A ends 2024-11-01, R3A starts 2024-11-28: 27 days -> bridged: step_up 1->2, gap 27.
    ("C3", "2024-11-28", 1, 2, 27, "step_up", F, F, N, N, N, N),
    # - CP from 2025-01-10: step_up 2->3; A3B 5 days before -> true.
    ("C3", "2025-01-10", 2, 3, 0, "step_up", F, F, N, N, T, N),
    # - looked after from 2025-03-01 while CP and CIN are open: the highest wins -> 3->4;
    #   A3B 2025-03-01 - 2025-01-05 = 55 days -> true.
    ("C3", "2025-03-01", 3, 4, 0, "step_up", F, F, N, N, T, N),
    # - the period of care ends 2025-06-15, CP still open: step_down 4->3. A3A authorised
    #   on the transition day itself (0 days) -> true. Next step_up is 2025-12-01, after
    #   2025-09-15 (+3 months) -> false (matured), days 2025-12-01 - 2025-06-15 = 169. No
    #   CIN episode closes -> manager approval null.
    ("C3", "2025-06-15", 4, 3, 0, "step_down", F, F, F, 169, T, N),
    # - CP and R3A end 2025-09-01, E3B starts 2025-09-01: step_down 3->1 (to early help).
    #   Step-up 2025-12-01 = exactly 2025-09-01 + 3 months -> within (inclusive) -> true,
    #   91 days (30+31+30). A3A: 78 days before -> true. Closes R3A, authorised -> true.
    #   The zero-length NFA referral on 2025-10-01 opens no level -> no transition.
    ("C3", "2025-09-01", 3, 1, 0, "step_down", F, T, T, 91, T, T),
    # - E3B ends / R3C starts 2025-12-01: step_up 1->2.
    ("C3", "2025-12-01", 1, 2, 0, "step_up", F, F, N, N, N, N),
    # C4: CIN R4A 2025-01-01..2025-03-01 (no authorisation), early help E4A
    # 2025-03-01..2025-06-02, CIN R4B 2025-06-02..2026-02-01 (TM4, 2026-01-30), early help
    # E4B from 2026-02-01 (open). No assessments.
    ("C4", "2025-01-01", 0, 2, N, "entry", F, F, N, N, N, N),
    # - step_down 2->1 on 2025-03-01; step-up on 2025-06-02 = 3 months + 1 day -> false,
    #   93 days (31+30+31+1). No assessment -> false. R4A not authorised -> false.
    ("C4", "2025-03-01", 2, 1, 0, "step_down", F, T, F, 93, F, F),
    ("C4", "2025-06-02", 1, 2, 0, "step_up", F, F, N, N, N, N),
    # - step_down 2->1 on 2026-02-01: window to 2026-05-01 is after as_of and no step-up
    #   yet -> null (not yet matured). R4B authorised -> true.
    ("C4", "2026-02-01", 2, 1, 0, "step_down", F, T, N, N, F, T),
    # C5: referrals only: R5A 2024-03-31..2024-04-30, R5B 2025-03-31..2025-05-01 (TM5 and
    # date), R5C 2026-03-10..2026-03-20. Every gap is > 28 days -> exits and entries.
    ("C5", "2024-03-31", 0, 2, N, "entry", F, F, N, N, N, N),
    ("C5", "2024-04-30", 2, 0, 0, "exit", F, F, N, N, N, F),
    # 2025-03-31 - 2024-04-30 = 335 days at level 0.
    ("C5", "2025-03-31", 0, 2, 335, "entry", F, F, N, N, N, N),
    ("C5", "2025-05-01", 2, 0, 0, "exit", F, F, N, N, N, T),
    # 2026-03-10 - 2025-05-01 = 313 days.
    ("C5", "2026-03-10", 0, 2, 313, "entry", F, F, N, N, N, N),
    # - exit on 2026-03-20: only 11 days at level 0 by as_of (< 28) -> provisional.
    ("C5", "2026-03-20", 2, 0, 0, "exit", T, F, N, N, N, F),
    # C6: CP plans only: P6A 2022-01-01..2024-01-01, P6B 2025-01-01..2025-02-01.
    # Exits from CP close no CIN episode -> manager approval null.
    ("C6", "2022-01-01", 0, 3, N, "entry", F, F, N, N, N, N),
    ("C6", "2024-01-01", 3, 0, 0, "exit", F, F, N, N, N, N),
    # 2025-01-01 - 2024-01-01 = 366 days (2024 is a leap year).
    ("C6", "2025-01-01", 0, 3, 366, "entry", F, F, N, N, N, N),
    ("C6", "2025-02-01", 3, 0, 0, "exit", F, F, N, N, N, N),
    # C7: R7A 2024-01-09..2024-02-01, R7B 2025-01-10 NFA closed the same day (no level),
    # R7C 2025-03-01..2025-04-01, R7D 2026-04-02 (after as_of: ignored).
    ("C7", "2024-01-09", 0, 2, N, "entry", F, F, N, N, N, N),
    ("C7", "2024-02-01", 2, 0, 0, "exit", F, F, N, N, N, F),
    # 2025-03-01 - 2024-02-01 = 366 + 28 = 394 days.
    ("C7", "2025-03-01", 0, 2, 394, "entry", F, F, N, N, N, N),
    ("C7", "2025-04-01", 2, 0, 0, "exit", F, F, N, N, N, F),
]

# (referral_id, is_re_referral): another referral of the child dated in the 12 months
# before (inclusive), zero-length NFA referrals included, referrals after as_of left out.
EXPECTED_REFERRALS = [
    ("R1A", F),
    ("R1B", T),  # 2024-12-02 is 5.5 months before
    ("R2A", F),
    ("R2B", T),
    ("R3A", F),
    ("R3B", T),  # the zero-length NFA referral is itself a referral: R3A 10 months before
    ("R3C", T),  # R3B (zero length) 2 months before
    ("R4A", F),
    ("R4B", T),
    ("R5A", F),
    ("R5B", T),  # 2024-03-31 + 12 months = 2025-03-31: exactly 12 months -> within
    ("R5C", T),  # 2025-03-31 + 12 months = 2026-03-31 >= 2026-03-10
    ("R7A", F),
    ("R7B", F),  # 2024-01-09 + 12 months = 2025-01-09 < 2025-01-10: 12 months + 1 day
    ("R7C", T),  # R7B (zero length NFA) 50 days before still counts
]

# (cp_plan_id, is_repeat_plan, lasted_2y_plus)
EXPECTED_CP_PLANS = [
    ("P2A", F, N),  # open at as_of (ends 2026-05-01, after as_of) -> duration flag null
    ("P3A", F, F),  # 2025-01-10..2025-09-01
    ("P6A", F, T),  # 2022-01-01..2024-01-01: exactly 2 years -> 2y+
    ("P6B", T, F),  # earlier plan P6A, however long ago -> repeat
]


@pytest.fixture(scope="module")
def loaded(cscw):
    cscw.run("run", "--drop", str(DROP), "--as-of", "2026-03-31")
    return cscw


def test_threshold_transitions_match_hand_worked_rows(loaded):
    rows = loaded.query(
        """select person_id, transition_date, from_level, to_level, gap_days, direction,
                  is_provisional, is_step_down_to_early_help, stepped_back_up_within_3m,
                  days_to_step_back_up, reassessed_before, manager_approval_recorded
           from analytics.fct_threshold_transitions
           order by person_id, transition_date"""
    )
    expected = [(r[0], d(r[1]), *r[2:]) for r in EXPECTED_TRANSITIONS]
    assert rows == expected


def test_referrals_and_cp_plans_match_hand_worked_flags(loaded):
    referrals = loaded.query(
        "select referral_id, is_re_referral from analytics.fct_referrals order by referral_id"
    )
    assert referrals == EXPECTED_REFERRALS
    plans = loaded.query(
        "select cp_plan_id, is_repeat_plan, lasted_2y_plus from analytics.fct_cp_plans "
        "order by cp_plan_id"
    )
    assert plans == EXPECTED_CP_PLANS


def test_transitions_mart_is_pseudonymised(loaded):
    schema = "marts"  # the run exited 0, so it published
    columns = {
        r[0] for r in loaded.query(
            "select column_name from information_schema.columns "
            "where table_schema = %s and table_name in "
            "('mart_threshold_transitions', 'mart_threshold_kpis_monthly')",
            (schema,),
        )
    }
    assert "child_key" in columns
    assert not columns & {"person_id", "referral_id", "cp_plan_id", "date_of_birth",
                          "forename", "surname"}
    same = loaded.query(
        f"""select count(*) from {schema}.mart_threshold_transitions m
            join analytics.fct_threshold_transitions f
              on f.child_key = m.child_key and f.transition_date = m.transition_date"""
    )
    assert same == [(len(EXPECTED_TRANSITIONS),)]
    # March 2025: referrals dated in the month are R2B, R5B and R7C, all re-referrals
    # -> 3 / 3 = 1.0; the one step-down to early help is C4's on 2025-03-01 (matured, not
    # stepped back up) -> 0 / 1.
    # the long KPI shape (docs/measures/kpi-shape.md): one row per measure x team x month
    kpi = loaded.query(
        f"""select
                max(denominator) filter (where measure = 're_referral_rate'),
                max(numerator) filter (where measure = 're_referral_rate'),
                max(rate) filter (where measure = 're_referral_rate'),
                max(numerator) filter (where measure = 'step_downs_to_eh'),
                max(denominator) filter (where measure = 'eh_step_back_up_rate'),
                max(numerator) filter (where measure = 'eh_step_back_up_rate')
            from {schema}.mart_threshold_kpis_monthly
            where team = 'all' and period_start = date '2025-03-01'"""
    )
    assert [tuple(float(v) if v is not None and not isinstance(v, int) else v
                  for v in r) for r in kpi] == [(3, 3, 1.0, 1, 1, 0)]
