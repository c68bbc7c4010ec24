"""One child's journey through children's services, event by event.

contact -> referral (a real CIN referral source) -> assessment, authorised some working days
later -> no further action, early help (RC9), a CIN plan, or a section 47 enquiry -> initial
conference -> CP plan -> care; and back down: CP plan ends -> CIN plan -> closure, or
step-down to early help with some stepping back up within three months; re-referrals;
returns home and SGOs that break down into a new period of care.

The journey stops at the first referral more than ``CONTACT_LEAD_DAYS`` after ``ctx.stop``
(the drop date). Every decision before that uses only the child's own draws, in order, and
never looks at the drop date, so the drop for the next day extends this one.
"""

from __future__ import annotations

from bisect import bisect_right

from .calendar import add_working_days, add_years
from .care import (
    RETURN_HOME_RECS,
    SGO_RECS,
    PeriodOutcome,
    add_involvement,
    missing_episode,
    simulate_period,
    simulate_short_breaks,
)
from .draws import Draws, Weighted
from .history import History, Row, SimContext, person_id
from .people import (
    ETHNICITY,
    SEX,
    fake_address_json,
    fake_name,
    fake_nhs_number,
    fake_postcode,
)
from .plans import plan_actions
from .teams import ROLE_ALLOCATED, STAGE_TEAM, TEAM_BY_CODE

REFERRAL_SOURCE = Weighted(
    {
        "6": 29,
        "2A": 17,
        "2B": 2,
        "3A": 2,
        "3B": 2,
        "3C": 1,
        "3D": 2,
        "3E": 3,
        "3F": 5,
        "5A": 5,
        "5B": 3,
        "5C": 2,
        "5D": 3,
        "1A": 5,
        "1B": 1,
        "1C": 1,
        "1D": 1,
        "4": 2,
        "7": 3,
        "8": 4,
        "9": 1,
        "10": 1,
    }
)
#: primary need other than N2 (child's disability, its share is ``Rates.disabled_need``)
PRIMARY_NEED = Weighted(
    {"N1": 55, "N3": 4, "N4": 8, "N5": 17, "N6": 3, "N7": 0.5, "N8": 7, "N9": 2, "N0": 0.5}
)
CP_CATEGORY = Weighted({"NEG": 48, "EMO": 38, "PHY": 7, "SAB": 4, "MUL": 3})
AGE_AT_ARRIVAL = Weighted(
    {(0, 364): 14, (365, 1824): 20, (1825, 3649): 28, (3650, 5839): 30, (5840, 6300): 8}
)
EH_REASONS = (
    "Parenting support",
    "School attendance",
    "Family relationships",
    "Domestic abuse in the household",
    "Child's emotional wellbeing",
    "Housing and financial difficulties",
    "Parental mental health",
    "Child's behaviour",
)
EH_END = Weighted(
    {
        "Outcomes achieved": 60,
        "Family disengaged": 15,
        "Moved out of area": 5,
        "Needs met by universal services": 20,
    }
)
EH_STEP_UP = "Step up to children's social care"
#: reasons for a change of worker other than the worker leaving (LEFTRL) or the case moving
#: team (TSPROC), which the simulation decides itself
WORKER_CHANGE = Weighted(
    {"MANAGE": 45, "ORGRST": 10, "ABSENC": 25, "CHCHAN": 5, "PCCHAN": 5, "OTHERS": 10}
)
CAMHS_OUTCOME_SEEN = Weighted(
    {"Treatment completed": 55, "Discharged after assessment": 30, "Disengaged": 15}
)
#: the level a CAMHS referral is made from -> its rate field
CAMHS_RATE = {
    "cla": "camhs_referral_cla",
    "lc": "camhs_referral_cla",
    "cp": "camhs_referral_cp",
    "cin": "camhs_referral_cin",
    "disabled": "camhs_referral_cin",
}
CONTACT_OUTCOME_REFERRAL = '["Referral to children\'s social care"]'
CONTACT_OUTCOME_ADVICE = '["Advice and information"]'
CONTACT_OUTCOME_EH = '["EH referral"]'
REFERRAL_OUTCOME_NFA = '["No further action"]'
REFERRAL_OUTCOME_ASSESS = '["Single assessment"]'
SOURCE_TEXT = REFERRAL_SOURCE
#: the next referral: (day, referral source, mode) with mode "" (ordinary), "care" (comes
#: straight into care: a breakdown) or "cp" (goes on to a CP plan again)
Next = tuple[int, str, str]
#: the contact that leads to a referral is made up to this many days before it
CONTACT_LEAD_DAYS = 2  # contact source uses the same codes


def _team_name(stage: str) -> str:
    return TEAM_BY_CODE[STAGE_TEAM[stage]].name


def simulate_child(child: int, ctx: SimContext) -> History:
    """The whole history of one child up to the first event after ``ctx.stop``."""
    d = Draws(ctx.seed, child)
    r = ctx.rates
    h = History(child=child, pid=person_id(child))

    # -- the person --------------------------------------------------------------------
    span = ctx.window_end - ctx.window_start
    h.arrival = ctx.window_start + int(d.u() * (span + 1))
    legacy = d.chance(r.in_care_before_history)
    if legacy:  # looked after since before the extract's history starts
        h.arrival = ctx.window_start
    if h.arrival > ctx.stop:  # not known to children's services yet
        return h
    lo, hi = AGE_AT_ARRIVAL.pick(d)
    h.dob = h.arrival - d.randint(max(lo, 400) if legacy else lo, hi)
    h.adult = add_years(h.dob, 18)
    sex = SEX.pick(d)
    forename, surname = fake_name(d, sex)
    age = h.arrival - h.dob
    h.add(
        "ssd_person",
        {
            "_start": h.arrival,
            "pers_person_id": h.pid,
            "pers_sex": sex,
            "pers_ethnicity": ETHNICITY.pick(d),
            "pers_dob": h.dob,
            "pers_forename": forename,
            "pers_surname": surname,
            "pers_upn_unknown": "UN1" if age < 5 * 365 else ("UN2" if d.chance(0.02) else ""),
            "pers_gender": {"M": "Male", "F": "Female"}.get(sex, "Not stated"),
            "pers_common_child_id": fake_nhs_number(child),
        },
    )

    # -- addresses: a chain to a fixed horizon, so every open child has a current one ----
    a_start = max(h.dob, h.arrival - d.randint(0, 1200))
    horizon = h.adult + 365
    while True:
        postcode = fake_postcode(d)
        move = a_start + 30 + int(d.exponential(1100.0))
        last = move > horizon
        h.add(
            "ssd_address",
            {
                "addr_table_id": h.next_id("ADR"),
                "addr_person_id": h.pid,
                "addr_address_type": "Home",
                "addr_address_start_date": a_start,
                "addr_address_end_date": None if last else move,
                "addr_address_postcode": postcode,
                "addr_address_json": fake_address_json(d, postcode),
            },
        )
        if last:
            break
        a_start = move

    # -- the journey -------------------------------------------------------------------
    st = _JourneyState()
    st.front = "front_n" if d.chance(0.5) else "front_s"
    nxt: Next | None
    if legacy:
        st.legacy_start = h.arrival - d.randint(30, min(h.arrival - h.dob - 1, 3650))
        st.contact_done = True
        nxt = (h.arrival, "5A", "legacy")
    elif d.chance(r.early_help_first):
        nxt = _early_help(h, d, ctx, h.arrival, after_step_down=False, step_up_day=None)
    else:
        nxt = (h.arrival + d.randint(0, 2), REFERRAL_SOURCE.pick(d), "")
        _contact(h, d, h.arrival, nxt[1], CONTACT_OUTCOME_REFERRAL)
        st.contact_done = True
    # a referral's contact can come up to CONTACT_LEAD_DAYS before it: look that far ahead,
    # so a later night never finds a contact dated on or before an earlier night's drop
    while nxt is not None and nxt[0] - CONTACT_LEAD_DAYS <= ctx.stop and nxt[0] < h.adult - 14:
        nxt = _referral_cycle(h, d, ctx, st, *nxt)
    return h


class _JourneyState:
    __slots__ = ("had_cp", "contact_done", "front", "legacy_start")

    def __init__(self) -> None:
        self.had_cp = False
        self.contact_done = False
        #: the child's locality: which assessment team takes their referrals
        self.front = "front_n"
        #: the day care began, for a child looked after before the history starts
        self.legacy_start = 0


def _contact(h: History, d: Draws, day: int, source: str, outcome: str) -> None:
    h.add(
        "ssd_contacts",
        {
            "cont_contact_id": h.next_id("CON"),
            "cont_person_id": h.pid,
            "cont_contact_date": day,
            "cont_contact_source_code": source,
            "cont_contact_outcome_json": outcome,
        },
    )


def _early_help(
    h: History,
    d: Draws,
    ctx: SimContext,
    start: int,
    after_step_down: bool,
    step_up_day: int | None,
) -> Next | None:
    """An early help episode; returns the referral it steps up to, if any."""
    r = ctx.rates
    if step_up_day is None and not after_step_down and d.chance(r.early_help_step_up):
        step_up_day = start + d.randint(40, 300)
    if step_up_day is not None:
        end, reason = step_up_day, EH_STEP_UP
    else:
        end = start + max(28, int(d.lognormal(170.0, 0.5)))
        reason = EH_END.pick(d)
    end = min(end, max(h.adult, start + 1))
    h.add(
        "ssd_early_help_episodes",
        {
            "earl_episode_id": h.next_id("EH"),
            "earl_person_id": h.pid,
            "earl_episode_start_date": start,
            "earl_episode_end_date": end,
            "earl_episode_reason": d.pick(EH_REASONS),
            "earl_episode_end_reason": reason,
            "earl_episode_organisation": _team_name("eh"),
            "earl_episode_worker_id": ctx.workforce.allocate(d, STAGE_TEAM["eh"], start)[0],
        },
    )
    if d.chance(r.camhs_referral_early_help):
        _camhs_referral(h, d, ctx, start + d.randint(0, max(0, end - start - 1)))
    if step_up_day is not None:
        return (step_up_day, "5D", "")
    if not after_step_down and d.chance(r.later_referral):
        return (end + d.randint(60, 1400), REFERRAL_SOURCE.pick(d), "")
    return None


def _assessment(h: History, d: Draws, ref_id: str, start: int, auth: int, nfa: bool) -> Row:
    """An assessment; its team and worker are filled in once the allocations are known."""
    return h.add(
        "ssd_cin_assessments",
        {
            "cina_assessment_id": h.next_id("ASM"),
            "cina_person_id": h.pid,
            "cina_referral_id": ref_id,
            "cina_assessment_start_date": start,
            "cina_assessment_auth_date": auth,
            "cina_assessment_child_seen": "Y" if d.chance(0.95) else "N",
            "cina_assessment_outcome_json": REFERRAL_OUTCOME_NFA if nfa else '["Further services"]',
            "cina_assessment_outcome_nfa": "Y" if nfa else "N",
            "cina_assessment_team": None,
            "cina_assessment_worker_id": None,
        },
    )


_REASON_FOR_REC = {
    "E11": "RC1",
    "E12": "RC1",
    "E41": "RC3",
    "E3": "RC5",
    "E7": "RC6",
    "E2": "RC2",
}


def _reason_for(period: PeriodOutcome) -> str:
    return _REASON_FOR_REC.get(period.rec, "RC4" if period.rec in SGO_RECS else "RC7")


def _referral_cycle(
    h: History, d: Draws, ctx: SimContext, st: _JourneyState, t: int, source: str, mode: str
) -> Next | None:
    """One referral from contact to closure; returns the next referral, if any.

    ``mode`` "legacy": a case open when the extract's history starts on ``t``, the child
    looked after since ``st.legacy_start`` (no contact, assessment or enquiry recorded).
    """
    r = ctx.rates
    legacy = mode == "legacy"
    if not st.contact_done:
        _contact(h, d, t - d.randint(0, CONTACT_LEAD_DAYS), source, CONTACT_OUTCOME_REFERRAL)
    st.contact_done = False
    ref_id = h.next_id("REF")
    force_care = mode == "care" or legacy
    force_cp = mode == "cp"
    if force_care or force_cp:
        need = "N1"
    else:
        need = "N2" if d.chance(r.disabled_need) else PRIMARY_NEED.pick(d)
    cin_stage = "disabled" if need == "N2" else "cin"
    ref: dict = {
        "cine_referral_id": ref_id,
        "cine_person_id": h.pid,
        "cine_referral_date": t,
        "cine_referral_source_code": source,
        "cine_cin_primary_need_code": need,
        "cine_referral_nfa": "N",
        "cine_close_reason": None,
        "cine_close_date": None,
        "cine_referral_outcome_json": REFERRAL_OUTCOME_ASSESS,
        "cine_referral_team": _team_name(st.front),
        "cine_referral_worker_id": None,
        "ext_close_authorised_by": None,
        "ext_close_authorised_date": None,
    }
    h.add("ssd_cin_episodes", ref)
    phases: list[tuple[int, str]] = [(t, "cla" if legacy else st.front)]
    staffed: list[Row] = []  # rows whose team and worker come from the allocation

    if not force_care and d.chance(r.referral_nfa):
        ref.update(cine_referral_nfa="Y", cine_referral_outcome_json=REFERRAL_OUTCOME_NFA)
        # closed the same day by the duty worker of the front door: no allocation
        ref["cine_referral_worker_id"] = ctx.workforce.allocate(d, STAGE_TEAM[st.front], t)[0]
        _close(ref, d, ctx, t, "RC8", t, st.front)
        return _after_closure(h, d, ctx, st, t, t, "RC8", None, False)

    # assessment (authorised some working days later)
    a_start = add_working_days(t, d.randint(0, 3))
    a_wd = max(1, min(110, round(d.lognormal(r.assessment_median_working_days, 0.5))))
    emergency = d.chance(0.3) if force_care else d.chance(r.emergency_care)
    care_day: int | None = st.legacy_start if legacy else (t if emergency or force_care else None)

    # section 47, conference, CP plan
    cp_start = cp_end = 0
    s47_end = t
    cp_cycle = False
    if care_day is None and (force_cp or d.chance(r.s47_after_cp if st.had_cp else r.s47)):
        s_start = add_working_days(t, d.randint(0, 3))
        s47_end = add_working_days(s_start, d.randint(2, 12))
        icpc = force_cp or d.chance(r.icpc_after_s47)
        s47_id = h.next_id("S47")
        h.add(
            "ssd_s47_enquiry",
            {
                "s47e_s47_enquiry_id": s47_id,
                "s47e_referral_id": ref_id,
                "s47e_person_id": h.pid,
                "s47e_s47_start_date": s_start,
                "s47e_s47_end_date": s47_end,
                "s47e_s47_nfa": "N" if icpc or d.chance(0.4) else "Y",
                "s47e_s47_outcome_json": '["ICPC"]' if icpc else '["Continue assessment"]',
            },
        )
        if icpc:
            target = add_working_days(s_start, 15)
            if d.chance(r.icpc_late):
                day = add_working_days(target, d.randint(1, 15))
            else:
                day = add_working_days(target, -d.randint(0, 8))
            day = max(day, s47_end)
            is_cp = force_cp or d.chance(r.cp_at_icpc)
            icpc_id = h.next_id("ICPC")
            cp_id = h.next_id("CPP") if is_cp else None
            h.add(
                "ssd_initial_cp_conference",
                {
                    "icpc_icpc_id": icpc_id,
                    "icpc_person_id": h.pid,
                    "icpc_icpc_date": day,
                    "icpc_s47_enquiry_id": s47_id,
                    "icpc_referral_id": ref_id,
                    "icpc_cp_plan_id": cp_id,
                    "icpc_icpc_target_date": target,
                    "icpc_icpc_transfer_in": "N",
                    "icpc_icpc_outcome_cp_flag": "Y" if is_cp else "N",
                },
            )
            if cp_id is not None:
                st.had_cp = cp_cycle = True
                cp_start = day
                cp_end = day + max(30, min(1500, int(d.lognormal(r.cp_median_days, 0.8))))
                cp_end = min(cp_end, max(h.adult, cp_start + 1))
                if d.chance(r.care_from_cp):
                    care_day = cp_start + d.randint(14, max(15, cp_end - cp_start - 1))
                    cp_end = care_day
                cat = CP_CATEGORY.pick(d)
                h.add(
                    "ssd_cp_plans",
                    {
                        "cppl_cp_plan_id": cp_id,
                        "cppl_person_id": h.pid,
                        "cppl_cp_plan_start_date": cp_start,
                        "cppl_cp_plan_end_date": cp_end,
                        "cppl_cp_plan_initial_category": cat,
                        "cppl_cp_plan_latest_category": CP_CATEGORY.pick(d)
                        if d.chance(0.1)
                        else cat,
                        "cppl_referral_id": ref_id,
                        "cppl_icpc_id": icpc_id,
                        "cppl_cp_plan_ola": "N",
                    },
                )
                plan_actions(h, d, ctx, "CP", cp_id, cp_start, cp_end)
                phases.append((cp_start, "cp"))

    # the assessment outcome when there is no CP plan and no care yet
    outcome = "plan"
    if not cp_start and care_day is None:
        w = (r.outcome_nfa, r.outcome_step_down_to_early_help, r.outcome_cin_plan, r.outcome_care)
        x = d.u() * sum(w)
        outcome = (
            "nfa"
            if x < w[0]
            else "rc9"
            if x < w[0] + w[1]
            else "cin"
            if x < w[0] + w[1] + w[2]
            else "care"
        )
    if legacy:  # migrated: no assessment in the extract
        auth = t
    else:
        auth = add_working_days(a_start, a_wd)
        staffed.append(_assessment(h, d, ref_id, a_start, auth, outcome in ("nfa", "rc9")))
    if outcome == "care":
        care_day = auth

    close_day = max(auth, s47_end)
    reason = "RC7"
    plan_end = 0
    plan_start = 0
    period = None
    if outcome == "nfa":
        reason = "RC8"
    elif outcome == "rc9":
        reason = "RC9"
    elif care_day is not None:
        if care_day >= h.adult - 30:
            care_day = None
        else:
            if not legacy:
                phases.append((care_day, "cla"))
            period = simulate_period(
                h, d, ctx, care_day, ref_id, need, emergency, history_start=t if legacy else None
            )
            close_day = max(close_day, period.end)
            reason = _reason_for(period)
            if period.rec in RETURN_HOME_RECS and d.chance(0.5):
                plan_start = period.end
                plan_end = plan_start + d.randint(60, 270)
    if care_day is None and outcome != "nfa" and outcome != "rc9":
        if cp_start:
            close_day = max(close_day, cp_end)
            if d.chance(r.cin_after_cp):
                plan_start = cp_end
                plan_end = plan_start + max(30, int(d.lognormal(r.cin_plan_median_days * 0.8, 0.5)))
            else:
                reason = "RC9" if d.chance(r.cin_plan_step_down) else "RC7"
        else:
            plan_start = auth + d.randint(0, 10)
            median = r.cin_plan_median_days * (r.disabled_cin_plan_factor if need == "N2" else 1)
            plan_end = plan_start + max(30, int(d.lognormal(median, 0.6)))
    if plan_start:
        plan_end = min(plan_end, max(h.adult, plan_start + 1))
        if need == "N2" and period is None and not cp_start and d.chance(r.short_breaks):
            sb_start = plan_start + d.randint(14, 120)
            if sb_start < plan_end - 14:
                period = simulate_short_breaks(h, d, ctx, sb_start, plan_end, ref_id, need)
                if period is not None:  # the series turned into a care order
                    plan_end = period.start
                    phases.append((period.start, "cla"))
        cinp_id = h.next_id("CINP")
        staffed.append(
            h.add(
                "ssd_cin_plans",
                {
                    "cinp_cin_plan_id": cinp_id,
                    "cinp_referral_id": ref_id,
                    "cinp_person_id": h.pid,
                    "cinp_cin_plan_start_date": plan_start,
                    "cinp_cin_plan_end_date": plan_end,
                    "cinp_cin_plan_team": None,
                    "cinp_cin_plan_worker_id": None,
                },
            )
        )
        plan_actions(h, d, ctx, "CIN", cinp_id, plan_start, plan_end)
        phases.append((plan_start, cin_stage))
        close_day = max(close_day, plan_end)
        if period is not None and period.start == plan_end:  # short breaks became care
            close_day = max(close_day, period.end)
            reason = _reason_for(period)
        elif period is None or period.rec in RETURN_HOME_RECS:
            reason = "RC9" if d.chance(r.cin_plan_step_down) else "RC7"
    # a re-assessment before stepping down from a plan
    last_plan_start = max(cp_start, plan_start)
    if (
        last_plan_start
        and reason in ("RC7", "RC9")
        and period is None
        and d.chance(r.reassessment_before_step_down)
    ):
        re_auth = add_working_days(close_day, -d.randint(0, 10))
        re_start = add_working_days(re_auth, -d.randint(10, 30))
        if re_start > last_plan_start and re_auth <= close_day:
            staffed.append(_assessment(h, d, ref_id, re_start, re_auth, reason == "RC9"))

    phases.sort()
    sixteen = add_years(h.dob, 16)
    _close(ref, d, ctx, t, reason, close_day, _stage_at(phases, close_day, sixteen))
    alloc = _involvements(h, d, ctx, ref_id, t, close_day, phases, sixteen)
    _staff(ref, staffed, alloc, phases, sixteen)
    _camhs(h, d, ctx, phases, close_day, sixteen)
    if (
        period is None
        and close_day - t > 30
        and t - h.dob >= 11 * 365
        and d.chance(r.missing_not_looked_after)
    ):
        x = t + d.randint(10, close_day - t - 1)
        for _ in range(d.randint(1, 3)):
            if x >= close_day or x >= h.adult:
                break
            x = missing_episode(h, d, r, x) + d.randint(7, 90)
    return _after_closure(h, d, ctx, st, t, close_day, reason, period, cp_cycle)


def _stage_at(phases: list[tuple[int, str]], day: int, sixteen: int) -> str:
    """The stage of the case on ``day``: the last phase started by then (looked-after
    children move to the leaving care team at 16)."""
    stage = phases[0][1]
    for p_day, p_stage in phases:
        if p_day > day:
            break
        stage = p_stage
    return "lc" if stage == "cla" and day >= sixteen else stage


def _close(
    ref: dict, d: Draws, ctx: SimContext, t: int, reason: str, day: int, stage: str
) -> None:
    ref["cine_close_reason"] = reason
    ref["cine_close_date"] = day
    if reason == "RC9" or d.chance(ctx.rates.closure_authorised):
        auth = max(t, day - d.randint(0, 2))
        ref["ext_close_authorised_by"] = ctx.workforce.manager(STAGE_TEAM[stage], auth)
        ref["ext_close_authorised_date"] = auth


#: an allocation: (start, end, worker id or None while unallocated, stage)
Allocation = tuple[int, int, str | None, str]


def _involvements(
    h: History,
    d: Draws,
    ctx: SimContext,
    ref_id: str,
    start: int,
    end: int,
    phases: list[tuple[int, str]],
    sixteen: int,
) -> list[Allocation]:
    """Allocated social workers from referral to closure. The worker changes when they
    leave their post (LEFTRL, sometimes after weeks unallocated), when the case moves to
    another team (TSPROC) and for other reasons (caseloads, absence ...)."""
    r = ctx.rates
    wf = ctx.workforce
    mean = 365.0 / max(r.worker_changes_per_year, 1e-6)
    bounds = sorted({p[0] for p in phases} | ({sixteen} if start < sixteen < end else set()))
    out: list[Allocation] = []
    s = start
    while s < end:
        stage = _stage_at(phases, s, sixteen)
        team = STAGE_TEAM[stage]
        worker, leaves = wf.allocate(d, team, s)
        other = s + 14 + int(d.exponential(mean))
        i = bisect_right(bounds, s)
        moves = bounds[i] if i < len(bounds) else end
        e = min(end, moves, max(leaves, s + 1), other)
        last = e >= end
        if last:
            reason = ""
        elif e == moves and _stage_at(phases, e, sixteen) != stage:
            reason = "TSPROC"
        elif e == leaves:
            reason = "LEFTRL"
        elif e == moves:  # a new phase in the same team: the worker stays
            reason = None
        else:
            reason = WORKER_CHANGE.pick(d)
        if reason is None:
            # same team, same worker: extend to the next change rather than cut
            e = min(end, max(leaves, s + 1), other)
            last = e >= end
            reason = "" if last else ("LEFTRL" if e == leaves else WORKER_CHANGE.pick(d))
        add_involvement(h, worker, s, e, ROLE_ALLOCATED, TEAM_BY_CODE[team].name, reason, ref_id)
        out.append((s, e, worker, stage))
        s = e
        if reason == "LEFTRL" and d.chance(r.unallocated_after_leaver):
            gap_end = min(end, s + d.randint(7, 42))
            out.append((s, gap_end, None, _stage_at(phases, s, sixteen)))
            s = gap_end
    return out


def _allocation_at(alloc: list[Allocation], day: int) -> Allocation | None:
    for a in alloc:
        if a[0] <= day < a[1] or (a[0] == a[1] == day):
            return a
    return alloc[-1] if alloc and day >= alloc[-1][1] else None


def _staff(
    ref: Row,
    rows: list[Row],
    alloc: list[Allocation],
    phases: list[tuple[int, str]],
    sixteen: int,
) -> None:
    """Team and worker on the referral, assessments and CIN plans: the allocation on the
    row's start (the team of the stage when the case is unallocated that day)."""
    first = alloc[0] if alloc else None
    ref["cine_referral_worker_id"] = first[2] if first else None
    for row in rows:
        if "cina_assessment_start_date" in row:
            day, team_col, worker_col = (
                row["cina_assessment_start_date"],
                "cina_assessment_team",
                "cina_assessment_worker_id",
            )
        else:
            day, team_col, worker_col = (
                row["cinp_cin_plan_start_date"],
                "cinp_cin_plan_team",
                "cinp_cin_plan_worker_id",
            )
        a = _allocation_at(alloc, day)  # type: ignore[arg-type]
        stage = a[3] if a else _stage_at(phases, day, sixteen)  # type: ignore[arg-type]
        row[team_col] = _team_name(stage)
        row[worker_col] = a[2] if a else None


def _camhs(
    h: History,
    d: Draws,
    ctx: SimContext,
    phases: list[tuple[int, str]],
    close_day: int,
    sixteen: int,
) -> None:
    """Referrals to CAMHS made while the case is open, at a rate by the level."""
    r = ctx.rates
    for i, (s, stage) in enumerate(phases):
        field = CAMHS_RATE.get(stage)
        if field is None or stage == "lc":
            continue
        e = phases[i + 1][0] if i + 1 < len(phases) else close_day
        if e - s < 14 or not d.chance(getattr(r, field)):
            continue
        _camhs_referral(h, d, ctx, s + d.randint(7, e - s - 1))


def _camhs_referral(h: History, d: Draws, ctx: SimContext, day: int) -> None:
    """One CAMHS referral: accepted or not, a log-normal wait to the first appointment
    (median ~10 weeks, a long tail past 18 weeks), some never seen; all closed in time."""
    r = ctx.rates
    if day - h.dob < 4 * 365 or day >= h.adult - 30:
        return
    decided = day + d.randint(3, 28)
    accepted = d.chance(r.camhs_accepted)
    first = None
    if not accepted:
        closed = decided + d.randint(0, 7)
        outcome = "Not accepted - signposted to other support"
    elif d.chance(r.camhs_never_seen):
        closed = day + d.randint(60, 360)
        outcome = "Closed before first appointment"
    else:
        wait = max(7, int(d.lognormal(r.camhs_median_wait_weeks * 7.0, r.camhs_wait_sigma)))
        first = day + wait
        closed = first + max(1, int(d.lognormal(150.0, 0.7)))
        outcome = CAMHS_OUTCOME_SEEN.pick(d)
    if first is not None and first >= h.adult:
        first = None
        closed = h.adult
        outcome = "Transferred to adult mental health services"
    h.add(
        "ext_camhs_referrals",
        {
            "camh_referral_id": h.next_id("CAMH"),
            "camh_person_id": h.pid,
            "camh_referral_date": day,
            "camh_accepted": "Y" if accepted else "N",
            "camh_first_appointment_date": first,
            "camh_closed_date": closed,
            "camh_outcome": outcome,
            "_decided": decided,
        },
    )


def _after_closure(
    h: History,
    d: Draws,
    ctx: SimContext,
    st: _JourneyState,
    ref_day: int,
    close: int,
    reason: str,
    period: PeriodOutcome | None,
    cp_cycle: bool,
) -> Next | None:
    """What happens after a case closes: breakdowns, early help, re-referral or nothing."""
    r = ctx.rates
    nxt: Next | None = None
    if reason == "RC1":  # adopted: an adopted child is a new person to the case system
        return None
    if cp_cycle and period is None and d.chance(r.repeat_cp_plan):
        nxt = (close + d.randint(45, 500), REFERRAL_SOURCE.pick(d), "cp")
    elif period is not None and period.rec in SGO_RECS and d.chance(r.sgo_breakdown_1m):
        nxt = (close + d.randint(2, 28), "1A", "care")
    elif (
        period is not None
        and period.rec in RETURN_HOME_RECS
        and d.chance(r.return_home_breakdown_12m)
    ):
        nxt = (close + d.randint(20, 360), "5A", "care")
    elif reason == "RC9":
        eh_start = close + d.randint(0, 21)
        if d.chance(r.step_back_up_3m):
            up = close + d.randint(10, 88)
            eh_start = min(eh_start, up - 1)
            return _early_help(h, d, ctx, eh_start, after_step_down=True, step_up_day=up)
        _early_help(h, d, ctx, eh_start, after_step_down=True, step_up_day=None)
    if nxt is None:
        if d.chance(r.re_referral_12m):
            lo, hi = max(close + 14, ref_day + 30), ref_day + 364
            day = d.randint(lo, hi) if lo <= hi else close + d.randint(30, 365)
            nxt = (day, REFERRAL_SOURCE.pick(d), "")
        elif d.chance(r.later_referral):
            nxt = (close + d.randint(366, 1460), REFERRAL_SOURCE.pick(d), "")
    if d.chance(r.contact_without_referral):
        day = close + d.randint(10, 200)
        if nxt is None or day < nxt[0] - 3:
            _contact(
                h,
                d,
                day,
                SOURCE_TEXT.pick(d),
                CONTACT_OUTCOME_ADVICE if d.chance(0.7) else CONTACT_OUTCOME_EH,
            )
    return nxt
