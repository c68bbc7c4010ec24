"""The one config of behaviour rates for the synthetic local authority.

Each field is a probability (or a mean/median) that drives one part of a child's journey.
The defaults are tuned so the measures in ``shared/spec/measures.md`` come out near the
England figures (domain reference section 5); ``docs/generator.md`` lists the rates the
generator actually produces. Dial any of them with ``generate_drop(..., rates={...})``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Rates:
    # --- front door -------------------------------------------------------------------
    #: share of children whose first involvement is an early help episode (not a referral)
    early_help_first: float = 0.20
    #: an early help episode (not after a step-down) that ends by stepping up to a referral
    early_help_step_up: float = 0.15
    #: an extra contact that does not become a referral (advice, signposting) after a case
    contact_without_referral: float = 0.30
    #: referral closed the same day with no further action (cine_referral_nfa = Y, RC8)
    referral_nfa: float = 0.07
    #: referral that goes straight into care (police protection / EPO)
    emergency_care: float = 0.012

    # --- assessment and child protection ----------------------------------------------
    #: median working days from assessment start to authorisation (45 wd = late)
    assessment_median_working_days: float = 24.0
    #: referral with a section 47 enquiry (child never on a CP plan before)
    s47: float = 0.30
    #: ... for a child who has been on a CP plan before
    s47_after_cp: float = 0.30
    #: a CP plan that ends (not into care) followed, months or years later, by a new
    #: referral that leads to another CP plan (drives repeat CP plans ~23%)
    repeat_cp_plan: float = 0.42
    #: s47 enquiry that leads to an initial child protection conference
    icpc_after_s47: float = 0.40
    #: ICPC held after its target (15 working days after the strategy discussion)
    icpc_late: float = 0.20
    #: ICPC outcome: child made subject to a CP plan
    cp_at_icpc: float = 0.88
    #: median CP plan length in days (about 4% last 2 years or more)
    cp_median_days: float = 230.0
    #: CP plan that ends with the child coming into care
    care_from_cp: float = 0.10
    #: after a CP plan ends: share stepping down to a CIN plan (rest close)
    cin_after_cp: float = 0.55

    # --- assessment outcomes when there is no CP plan (weights, normalised) ------------
    outcome_nfa: float = 0.42
    outcome_step_down_to_early_help: float = 0.12
    outcome_cin_plan: float = 0.39
    outcome_care: float = 0.03
    #: median CIN plan length in days
    cin_plan_median_days: float = 200.0
    #: a CIN plan that ends by stepping down to early help (RC9); the rest close RC7
    cin_plan_step_down: float = 0.30
    #: a re-assessment authorised in the 90 days before a step-down from a plan
    reassessment_before_step_down: float = 0.55

    # --- after closure ----------------------------------------------------------------
    #: closed case re-referred within 12 months of its referral (re-referral rate ~22%)
    re_referral_12m: float = 0.31
    #: otherwise: referred again one to four years later
    later_referral: float = 0.22
    #: step-down to early help followed by a step back up within 3 months
    step_back_up_3m: float = 0.18
    #: closure (other than RC9) with the manager authorisation recorded
    closure_authorised: float = 0.85

    # --- looked after -----------------------------------------------------------------
    #: mean days in a short-term placement before a move (drives 3+ placements ~10%)
    short_term_placement_mean_days: float = 650.0
    #: mean days in a long-term (permanent) placement before a move (drives stability ~70%)
    long_term_placement_mean_days: float = 3000.0
    #: placement ending that is unplanned (carer/child/LA request, allegation, standards)
    unplanned_ending: float = 0.45
    #: temporary placements (T0-T4: respite while the carer is on holiday, up to 7 days,
    #: holiday, hospital, other) per looked-after year
    temporary_placements_per_year: float = 0.12
    #: a temporary placement after which the child moves to a new carer (the rest return
    #: to the same carer: same provider, postcode and URN)
    temporary_to_new_carer: float = 0.15
    #: a return home that breaks down: a new period of care within 12 months
    return_home_breakdown_12m: float = 0.18
    #: an SGO that breaks down: a new period of care within 1 month of the SGO
    sgo_breakdown_1m: float = 0.06
    #: a review held after its due date
    late_review: float = 0.12
    #: a review missed altogether (held months later)
    missed_review: float = 0.03
    #: a review held within 20 working days of an unplanned placement ending
    review_after_change: float = 0.60
    #: looked-after children aged 11+ who go missing at all during a placement
    missing_prone: float = 0.22
    #: mean days between missing episodes for a child who goes missing
    missing_mean_gap_days: float = 45.0
    #: return home interview offered after a missing episode
    rhi_offered: float = 0.85
    #: ... and accepted when offered
    rhi_accepted: float = 0.55
    #: missing episodes that last 5-30 days (the rest: the same day to 4 days)
    missing_long: float = 0.08
    #: children aged 11+ on a CIN or CP plan (not looked after) who go missing during it
    missing_not_looked_after: float = 0.03

    # --- short breaks (legal status V3/V4, not "looked after" for the measures) --------
    #: CIN plans of disabled children (primary need N2) with an agreed series of short breaks
    short_breaks: float = 0.30
    #: a series recorded as individual breaks (V3, one episode per break); the rest are
    #: recorded as agreements (V4, one episode per agreement of 6-12 months)
    short_breaks_v3: float = 0.5
    #: a series that turns into a care order (legal status change within the period)
    short_breaks_to_care: float = 0.08
    #: CIN plans of disabled children last this many times longer than other CIN plans
    disabled_cin_plan_factor: float = 3.0
    #: share of primary need N2 (child's disability) among referrals
    disabled_need: float = 0.04

    # --- history of the extract ---------------------------------------------------------
    #: children already looked after when the extract's history starts (their care began
    #: before it: clae_entered_care_date before the first episode)
    in_care_before_history: float = 0.02
    #: SGO endings before 2018-04-01 recorded with the historic codes E43/E44
    old_sgo_code: float = 0.25

    # --- CAMHS referrals (ext_camhs_referrals) ----------------------------------------
    #: a child referred to CAMHS while looked after / on a CP plan / CIN / in early help
    #: (per period, plan or episode)
    camhs_referral_cla: float = 0.25
    camhs_referral_cp: float = 0.12
    camhs_referral_cin: float = 0.10
    camhs_referral_early_help: float = 0.05
    #: referrals accepted by the service (the rest are closed, signposted, within weeks)
    camhs_accepted: float = 0.78
    #: median and spread (log-normal sigma) of the wait from referral to first appointment
    camhs_median_wait_weeks: float = 10.0
    camhs_wait_sigma: float = 0.8
    #: accepted referrals closed without a first appointment (not brought, disengaged)
    camhs_never_seen: float = 0.10

    # --- workers and plans ------------------------------------------------------------
    #: changes of allocated social worker per year of an open case for reasons other than
    #: the worker leaving (caseload management, absence, restructure ...); leavers and team
    #: transfers come on top
    worker_changes_per_year: float = 0.35
    #: mean years a permanent / agency worker stays in post
    worker_tenure_years: float = 3.0
    agency_worker_tenure_years: float = 0.8
    #: a case left unallocated for 1-6 weeks when its worker leaves
    unallocated_after_leaver: float = 0.4
    #: plans (CIN, CP, care) with no recorded actions at all
    plan_without_actions: float = 0.06
    #: actions recorded without a target date
    action_without_target: float = 0.15
    #: professionals who are agency workers
    agency_worker: float = 0.15

    def with_overrides(self, overrides: dict[str, Any] | None) -> Rates:
        if not overrides:
            return self
        known = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise ValueError(f"unknown rate(s): {', '.join(unknown)} (known: {sorted(known)})")
        return dataclasses.replace(self, **{k: float(v) for k, v in overrides.items()})


DEFAULT_RATES = Rates()

#: The headline figures the default rates aim at, as (target, tolerance), measured by
#: ``csc_warehouse.generate.measure.measured_rates`` on a 20,000-child, 5-year drop. Targets
#: are the England figures of the domain reference (section 5); late reviews follow the
#: configured ``late_review`` + ``missed_review``. tests/test_generate.py holds a drop of
#: that size to these tolerances; docs/generator.md shows the measured values.
HEADLINE_TARGETS: dict[str, tuple[float, float]] = {
    "re_referral_12m": (0.22, 0.04),
    "repeat_cp_plan": (0.23, 0.07),
    "three_plus_placements_12m": (0.10, 0.04),
    "long_term_stability": (0.70, 0.10),
    "late_reviews": (DEFAULT_RATES.late_review + DEFAULT_RATES.missed_review, 0.04),
}
