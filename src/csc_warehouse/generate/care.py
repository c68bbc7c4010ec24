"""A period of care, built the way the SSDA903 return describes it.

The simulation first decides the period's pathway (return home, special guardianship,
adoption, staying until 18, remand), then lays out two timelines: placements (with carers)
and legal status. Episodes are cut wherever either timeline changes, so the reason for
each new episode (RNE) follows from what changed:

- S first episode of the period; L legal status only; P placement and carer;
  T placement, same carer; B legal status and placement with a new carer; U legal status
  and placement, same carer.
- every episode but the last ends X1 and the next starts the same day; a new placement
  starts the day the previous one ends; temporary placements (T1, T3, T4) are short and
  return the child to the same carer.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from dataclasses import dataclass

from .calendar import add_months, add_working_days
from .draws import Draws, Weighted
from .history import History, SimContext
from .people import fake_postcode
from .plans import plan_actions
from .rates import Rates
from .teams import ROLE_IRO, STAGE_TEAM, TEAM_BY_CODE

#: current and historic (E43/E44, valid to 2017/18) special guardianship endings
SGO_RECS = ("E43", "E44", "E45", "E46", "E47", "E48")
#: SGO endings before this day may carry the historic codes E43/E44
OLD_SGO_CODES_UNTIL = dt.date(2018, 4, 1).toordinal()
OLD_SGO_CODE = {"E45": "E43", "E46": "E43", "E47": "E44", "E48": "E44"}
RETURN_HOME_RECS = ("E4A", "E4B", "E13")
LEAVING_AT_18 = Weighted({"E17": 25, "E5": 45, "E6": 15, "E8": 15})
RETURN_HOME = Weighted({"E4A": 75, "E4B": 15, "E13": 10})
SGO = Weighted({"E45": 45, "E46": 15, "E47": 30, "E48": 10})
OTHER_END = Weighted({"E3": 60, "E16": 15, "E9": 25})

PATHWAY_UNDER_5 = Weighted({"home": 30, "sgo": 20, "adopt": 28, "long": 20, "other": 2})
PATHWAY_5_TO_12 = Weighted({"home": 40, "sgo": 12, "long": 46, "other": 2})
PATHWAY_13_PLUS = Weighted({"home": 44, "long": 50, "remand": 3, "other": 3})

FIRST_PLACEMENT = {
    "infant": Weighted({"U6": 50, "U3": 18, "U5": 12, "R3": 8, "P1": 6, "U2": 6}),
    "young": Weighted({"U6": 60, "U3": 22, "U5": 5, "P1": 8, "K2": 2, "U2": 3}),
    "child": Weighted({"U6": 60, "U3": 19, "K2": 9, "P1": 7, "S1": 2, "U4": 3}),
    "teen": Weighted(
        {
            "U6": 45,
            "K2": 28,
            "U3": 12,
            "P1": 6,
            "K1": 1,
            "R1": 2,
            "R2": 1,
            "Z11": 1,
            "Z12": 1,
            "U4": 3,
        }
    ),
    "older": Weighted(
        {"K3": 22, "H5": 6, "U6": 33, "K2": 22, "U3": 8, "P2": 3, "P1": 4, "P3": 1, "R5": 1}
    ),
}
MOVE_TO = {
    "infant": Weighted({"U6": 60, "U3": 20, "U5": 15, "U2": 5}),
    "young": Weighted({"U6": 65, "U3": 20, "U5": 10, "K2": 5}),
    "child": Weighted({"U6": 62, "U3": 15, "K2": 20, "S1": 3}),
    "teen": Weighted({"U6": 40, "K2": 45, "U3": 8, "K1": 2, "R1": 2, "Z13": 1, "Z14": 2}),
    "older": Weighted({"K3": 45, "U6": 20, "K2": 25, "H5": 6, "P2": 4}),
}
LONG_TERM_OF = {"U6": "U4", "U3": "U1", "U5": "U4", "U2": "U1"}
STABLE_TYPES = frozenset({"U1", "U4", "A3", "A4", "A5", "A6"})
#: respite while the foster carer is on holiday (T3), up to 7 days (T4), holiday (T2),
#: hospital (T1), other (T0)
TEMPORARY = Weighted({"T3": 35, "T4": 30, "T2": 15, "T1": 12, "T0": 8})
TEMPORARY_MAX_DAYS = {"T3": 14, "T4": 7, "T1": 10, "T0": 5, "T2": 14}
UNPLANNED = Weighted(
    {"CREQB": 30, "CREQO": 20, "CHILD": 15, "LAREQ": 15, "ALLEG": 8, "STAND": 7, "APPRR": 5}
)
PLANNED = Weighted({"CARPL": 82, "CLOSE": 10, "OTHER": 8})
NO_URN = frozenset(
    {
        "P1",
        "P2",
        "P3",
        "R1",
        "R2",
        "R5",
        "T0",
        "T1",
        "T2",
        "T3",
        "T4",
        "Z1",
        "Z11",
        "Z12",
        "Z13",
        "Z14",
    }
)
NO_PROVIDER = frozenset({"T0", "T1", "T2", "T3", "T4", "Z1", "Z11", "Z12", "Z13", "Z14"})
RESIDENTIAL = frozenset({"K1", "K2", "K3", "H5", "R1", "S1"})
PARTICIPATION = Weighted({"PN1": 45, "PN2": 8, "PN3": 5, "PN4": 5, "PN5": 15, "PN6": 10, "PN7": 12})


def _age_band(age_days: int) -> str:
    if age_days < 365:
        return "infant"
    if age_days < 5 * 365:
        return "young"
    if age_days < 12 * 365:
        return "child"
    if age_days < 16 * 365:
        return "teen"
    return "older"


def _provider(d: Draws, ptype: str) -> str:
    if ptype in NO_PROVIDER:
        return ""
    if ptype == "P1":
        return "PR0"
    if ptype in ("U1", "U2", "U3"):
        return "PR1" if d.chance(0.9) else "PR2"
    if ptype[0] == "U":
        return "PR1" if d.chance(0.6) else ("PR4" if d.chance(0.85) else "PR5")
    if ptype[0] == "A":
        return "PR1" if d.chance(0.6) else ("PR2" if d.chance(0.6) else "PR5")
    if ptype in ("K1", "R2", "R5"):
        return "PR3" if ptype != "K1" else ("PR1" if d.chance(0.5) else "PR2")
    return "PR4" if d.chance(0.8) else ("PR1" if d.chance(0.6) else "PR5")


@dataclass
class _Placement:
    start: int
    end: int
    ptype: str
    carer: int
    provider: str
    urn: str
    postcode: str
    distance: str
    reason: str = ""
    pid: str = ""


@dataclass(frozen=True)
class PeriodOutcome:
    end: int
    rec: str
    cla_id: str
    #: the day the child became looked after (for a short-break series that turned into
    #: care: the day of the legal status change)
    start: int = 0


@dataclass(frozen=True)
class ShortBreakPrefix:
    """The short-break part of a period that turns into care on ``start`` of the period."""

    cla_id: str
    start: int
    legal_status: str
    placement: _Placement


class _PlacementChain:
    """Builds the placements of one period, one after another with no gaps."""

    def __init__(self, d: Draws, h: History) -> None:
        self.d = d
        self.h = h
        self.items: list[_Placement] = []
        self._carer = 0

    def new_carer(self) -> int:
        self._carer += 1
        return self._carer

    def start(
        self, day: int, ptype: str, carer: int | None = None, like: _Placement | None = None
    ) -> _Placement:
        d = self.d
        if like is not None:  # same carer / same setting: keep provider, URN and postcode
            provider, urn, postcode, distance = (
                like.provider,
                like.urn,
                like.postcode,
                like.distance,
            )
            if ptype in NO_URN:
                urn = ""
            elif not urn:
                urn = f"SC{d.randint(100000, 999999)}"
        else:
            provider = _provider(d, ptype)
            urn = "" if ptype in NO_URN else f"SC{d.randint(100000, 999999)}"
            postcode = fake_postcode(d)
            distance = f"{d.lognormal(22.0 if ptype in RESIDENTIAL else 5.0, 0.8):.1f}"
        p = _Placement(
            day,
            0,
            ptype,
            carer if carer is not None else self.new_carer(),
            provider,
            urn,
            postcode,
            distance,
        )
        if self.items:
            self.items[-1].end = day
        self.items.append(p)
        return p


def simulate_period(
    h: History,
    d: Draws,
    ctx: SimContext,
    start: int,
    referral_id: str,
    need: str,
    emergency: bool,
    history_start: int | None = None,
    pre: ShortBreakPrefix | None = None,
) -> PeriodOutcome:
    """Write one period of care starting on ``start``; return its end and reason.

    ``history_start``: the period began before the extract's history; rows before that day
    are left out (the first episode starts on it, ``clae_entered_care_date`` keeps
    ``start``). ``pre``: the period began as a short-break series that turns into care on
    ``start`` (legal status change within the period).
    """
    r = ctx.rates
    s = start
    age = s - h.dob
    band = _age_band(age)
    cla_id = pre.cla_id if pre is not None else h.next_id("CLA")
    first_row = len(h.rows)

    # -- pathway, end date and reason ------------------------------------------------
    pathway = (
        PATHWAY_UNDER_5 if age < 5 * 365 else PATHWAY_5_TO_12 if age < 13 * 365 else PATHWAY_13_PLUS
    ).pick(d)
    po = ap = 0
    if pathway == "home":
        pe = s + max(3, min(2500, int(d.lognormal(170.0, 0.9))))
        rec = RETURN_HOME.pick(d)
    elif pathway == "sgo":
        pe = s + d.randint(300, 1000)
        rec = SGO.pick(d)
    elif pathway == "adopt":
        po = s + d.randint(240, 480)
        ap = po + d.randint(30, 200)
        pe = ap + d.randint(150, 400)
        rec = "E11" if d.chance(0.75) else "E12"
    elif pathway == "remand":
        pe = s + d.randint(10, 120)
        rec = "E14"
    elif pathway == "other":
        pe = s + d.randint(30, 700)
        rec = OTHER_END.pick(d)
    else:
        pe = h.adult
        rec = LEAVING_AT_18.pick(d)
    if history_start is not None and pe <= history_start + 30:
        # still looked after when the history starts (else it would not be in the extract)
        pe = history_start + 30 + d.randint(0, 900)
    if pe >= h.adult:
        pe = h.adult
        rec = LEAVING_AT_18.pick(d)
        if ap >= pe - 2:
            ap = 0
        if po >= pe - 2:
            po = 0
    pe = max(pe, s + 2)
    if rec in OLD_SGO_CODE and pe < OLD_SGO_CODES_UNTIL and d.chance(r.old_sgo_code):
        rec = OLD_SGO_CODE[rec]

    # -- legal status timeline ---------------------------------------------------------
    legal: list[tuple[int, str]] = []
    if pathway == "remand":
        legal.append((s, "J1"))
    elif emergency:
        if d.chance(0.6):
            legal.append((s, "L1"))
            nxt = s + d.randint(1, 3)
        else:
            legal.append((s, "L2"))
            nxt = s + d.randint(7, 21)
        legal.append((nxt, "C1" if d.chance(0.75) else "V2"))
    elif pre is not None:  # a short-break series turned into a care order
        legal.append((pre.start, pre.legal_status))
        legal.append((s, "C1"))
    else:
        legal.append((s, "V2" if d.chance(0.5) else "C1"))
    if legal[-1][1] == "V2" and pathway in ("sgo", "adopt", "long") and d.chance(0.6):
        legal.append((legal[-1][0] + d.randint(20, 200), "C1"))
    if legal[-1][1] == "C1":
        legal.append((legal[-1][0] + d.randint(150, 400), "C2"))
    if po:
        legal = [x for x in legal if x[0] < po]
        legal.append((po, "E1"))

    # -- placements --------------------------------------------------------------------
    chain = _PlacementChain(d, h)
    if pre is not None:  # the short-break carer keeps the child
        cur = chain.start(pre.start, pre.placement.ptype, carer=0, like=pre.placement)
    else:
        cur = chain.start(s, FIRST_PLACEMENT[band].pick(d))
    milestones: list[tuple[int, str]] = []
    if pathway == "long" and pe - s > 200:
        milestones.append((s + d.randint(40, 300), "permanent"))
    if ap:
        milestones.append((ap, "adopt"))
    if pathway == "home" and pe - s > 90 and d.chance(0.25):
        milestones.append((pe - d.randint(30, min(120, pe - s - 30)), "home"))
    milestones.sort()
    unplanned_days: list[int] = []
    locked = False
    t = s
    mi = 0
    temp_mean = (
        365.0 / r.temporary_placements_per_year if r.temporary_placements_per_year > 0 else 1e9
    )
    while True:
        ms_day = milestones[mi][0] if mi < len(milestones) else pe
        mean = (
            r.long_term_placement_mean_days
            if cur.ptype in STABLE_TYPES
            else r.short_term_placement_mean_days
        )
        if cur.ptype in RESIDENTIAL:
            mean *= 0.8
        move_day = t + 1 + int(d.exponential(mean))
        # temporary placements interrupt short-term placements far more than permanent ones
        temp_day = (
            t + 1 + int(d.exponential(temp_mean * (4.0 if cur.ptype in STABLE_TYPES else 1.0)))
        )
        if locked:
            move_day = temp_day = pe + 1
        nxt = min(move_day, temp_day, ms_day)
        if nxt >= pe:
            break
        age_now = nxt - h.dob
        if nxt == ms_day and mi < len(milestones):
            kind = milestones[mi][1]
            mi += 1
            if kind == "permanent":
                lt = LONG_TERM_OF.get(cur.ptype)
                if lt and d.chance(0.55):  # same carers become long-term carers
                    cur.reason = "PLACE"
                    cur = chain.start(nxt, lt, carer=cur.carer, like=cur)
                else:
                    cur.reason = "CARPL"
                    band_now = _age_band(age_now)
                    cur = chain.start(
                        nxt, "K2" if band_now in ("teen", "older") and d.chance(0.3) else "U4"
                    )
            elif kind == "adopt":
                cur.reason = "CARPL"
                consent = d.chance(0.1)
                if cur.ptype in ("U5", "U2"):  # fostering for adoption: same carers adopt
                    cur = chain.start(nxt, "A3" if consent else "A5", carer=cur.carer, like=cur)
                else:
                    cur = chain.start(nxt, "A4" if consent else "A6")
                locked = True
            else:  # placed back home with parents before the period ends
                cur.reason = "CARPL"
                cur = chain.start(nxt, "P1")
                locked = True
            t = nxt
            continue
        if nxt == temp_day:
            ttype = TEMPORARY.pick(d)
            back = nxt + d.randint(1, TEMPORARY_MAX_DAYS[ttype])
            if back >= pe - 1 or back >= ms_day or cur.ptype[0] in "TP":
                t = nxt
                continue
            normal = cur
            normal.reason = "OTHER"
            temp = chain.start(nxt, ttype)
            temp.reason = "OTHER"
            if d.chance(r.temporary_to_new_carer):  # does not go back: a new carer
                normal.reason = UNPLANNED.pick(d)
                unplanned_days.append(nxt)
                cur = chain.start(back, MOVE_TO[_age_band(back - h.dob)].pick(d))
            else:  # back to the same carer: same provider, postcode and URN
                cur = chain.start(back, normal.ptype, carer=normal.carer, like=normal)
            t = back
            continue
        # an ordinary move
        if d.chance(r.unplanned_ending):
            cur.reason = UNPLANNED.pick(d)
            unplanned_days.append(nxt)
        else:
            cur.reason = PLANNED.pick(d)
        cur = chain.start(nxt, MOVE_TO[_age_band(age_now)].pick(d))
        t = nxt
    cur.end = pe
    cur.reason = "CARPL" if rec in ("E4A", "E11", "E12", "E41", *SGO_RECS, "E5", "E17") else "OTHER"
    placements = chain.items

    # legal status changes: drop those at/after the end; a share coincide with a move
    starts = [p.start for p in placements]
    moved: list[tuple[int, str]] = [legal[0]]
    for day, ls in legal[1:]:
        if day >= pe - 1:
            break
        if ls != "E1" and d.chance(0.2):
            i = bisect_right(starts, day)
            for cand in (starts[i - 1] if i > 0 else 0, starts[i] if i < len(starts) else 0):
                if s < cand < pe and abs(cand - day) <= 30:
                    day = cand
                    break
        if day <= moved[-1][0]:
            continue
        if ls == moved[-1][1]:
            continue
        moved.append((day, ls))
    legal = moved

    pid = h.pid
    for p in placements:
        p.pid = h.next_id("PLC")
        h.add(
            "ssd_cla_placement",
            {
                "clap_cla_placement_id": p.pid,
                "clap_cla_id": cla_id,
                "clap_person_id": pid,
                "clap_cla_placement_start_date": p.start,
                "clap_cla_placement_end_date": p.end,
                "clap_cla_placement_type": p.ptype,
                "clap_cla_placement_provider": p.provider,
                "clap_cla_placement_postcode": p.postcode,
                "clap_cla_placement_urn": p.urn,
                "clap_cla_placement_change_reason": p.reason,
                "clap_cla_placement_distance": p.distance,
            },
        )
    for i, (day, ls) in enumerate(legal):
        end = legal[i + 1][0] if i + 1 < len(legal) else pe
        h.add(
            "ssd_legal_status",
            {
                "lega_legal_status_id": h.next_id("LS"),
                "lega_person_id": pid,
                "lega_legal_status": ls,
                "lega_legal_status_start_date": day,
                "lega_legal_status_end_date": end,
            },
        )

    # -- reviews -----------------------------------------------------------------------
    review_days = _reviews(h, d, ctx, cla_id, s, pe, unplanned_days)

    # -- episodes ----------------------------------------------------------------------
    pl_starts = {p.start: p for p in placements}
    ls_starts = {day: ls for day, ls in legal}
    entered = pre.start if pre is not None else s
    bounds = sorted(set(pl_starts) | set(ls_starts))
    pi = -1
    li = -1
    for i, b in enumerate(bounds):
        end = bounds[i + 1] if i + 1 < len(bounds) else pe
        prev_p = placements[pi] if pi >= 0 else None
        if b in pl_starts:
            pi += 1
        if b in ls_starts:
            li += 1
        if i == 0:
            rne = "S"
        else:
            pl_changed = b in pl_starts
            ls_changed = b in ls_starts
            same_carer = prev_p is not None and placements[pi].carer == prev_p.carer
            if pl_changed and ls_changed:
                rne = "U" if same_carer else "B"
            elif pl_changed:
                rne = "T" if same_carer else "P"
            else:
                rne = "L"
        j = bisect_right(review_days, end) - 1
        last_iro = review_days[j] if j >= 0 and review_days[j] >= s else None
        h.add(
            "ssd_cla_episodes",
            {
                "clae_cla_episode_id": h.next_id("EPI"),
                "clae_person_id": pid,
                "clae_cla_id": cla_id,
                "clae_cla_episode_start_date": b,
                "clae_cla_episode_start_reason": rne,
                "clae_cla_primary_need_code": need,
                "clae_cla_episode_ceased_date": end,
                "clae_cla_episode_ceased_reason": "X1" if i + 1 < len(bounds) else rec,
                "clae_referral_id": referral_id,
                "clae_cla_placement_id": placements[pi].pid,
                "clae_entered_care_date": entered,
                "clae_cla_last_iro_contact_date": last_iro,
            },
        )

    # -- missing episodes --------------------------------------------------------------
    for p in placements:
        if p.ptype[0] == "T" or p.start - h.dob < 11 * 365:
            continue
        prone = r.missing_prone * (1.8 if p.ptype in RESIDENTIAL else 1.0)
        if not d.chance(min(prone, 1.0)):
            continue
        x = max(p.start, s) + 1 + int(d.exponential(r.missing_mean_gap_days))
        while x < p.end and x < h.adult:
            x = missing_episode(h, d, r, x) + 1 + int(d.exponential(r.missing_mean_gap_days))
    plan_actions(h, d, ctx, "CLA", cla_id, s, pe)
    iro_involvements(h, d, ctx, referral_id, s, pe)
    if history_start is not None:
        _clip_history(h, first_row, history_start)
    return PeriodOutcome(pe, rec, cla_id, s)


def missing_episode(h: History, d: Draws, r: Rates, x: int) -> int:
    """One missing (M) or away (A) episode starting on ``x``; returns its end."""
    if d.chance(r.missing_long):
        length = d.randint(5, 30)
    else:
        length = 0 if d.chance(0.3) else d.randint(1, 4)
    offered = d.chance(r.rhi_offered)
    h.add(
        "ssd_missing",
        {
            "miss_table_id": h.next_id("MIS"),
            "miss_person_id": h.pid,
            "miss_missing_episode_start_date": x,
            "miss_missing_episode_type": "M" if d.chance(0.7) else "A",
            "miss_missing_episode_end_date": x + length,
            "miss_missing_rhi_offered": "Y" if offered else "N",
            "miss_missing_rhi_accepted": ("Y" if d.chance(r.rhi_accepted) else "N")
            if offered
            else "",
        },
    )
    return x + length


def iro_involvements(
    h: History, d: Draws, ctx: SimContext, referral_id: str, start: int, end: int
) -> None:
    """The independent reviewing officer of a period of care (not the allocated worker)."""
    team = STAGE_TEAM["iro"]
    name = TEAM_BY_CODE[team].name
    s = start
    while s < end:
        worker, leaves = ctx.workforce.allocate(d, team, s)
        e = min(end, max(leaves, s + 1))
        add_involvement(h, worker, s, e, ROLE_IRO, name, "" if e == end else "LEFTRL",
                        referral_id)
        s = e


def add_involvement(
    h: History, worker: str, s: int, e: int, role: str, team: str, reason: str, ref_id: str
) -> None:
    """One ssd_involvements row: ``worker`` in ``role`` for the child from ``s`` to ``e``."""
    h.add(
        "ssd_involvements",
        {
            "invo_involvements_id": h.next_id("INV"),
            "invo_person_id": h.pid,
            "invo_professional_id": worker,
            "invo_involvement_start_date": s,
            "invo_involvement_end_date": e,
            "invo_professional_role_id": role,
            "invo_professional_team": team,
            "invo_worker_change_reason": reason,
            "invo_referral_id": ref_id,
        },
    )


#: table -> (start column, end column or None) of the rows a period of care writes
_PERIOD_SPANS = {
    "ssd_cla_placement": ("clap_cla_placement_start_date", "clap_cla_placement_end_date"),
    "ssd_legal_status": ("lega_legal_status_start_date", "lega_legal_status_end_date"),
    "ssd_cla_episodes": ("clae_cla_episode_start_date", "clae_cla_episode_ceased_date"),
    "ssd_involvements": ("invo_involvement_start_date", "invo_involvement_end_date"),
    "ssd_missing": ("miss_missing_episode_start_date", "miss_missing_episode_end_date"),
    "ssd_cla_reviews": ("clar_cla_review_date", None),
    "ext_plan_actions": ("action_recorded_date", None),
}


def _clip_history(h: History, first_row: int, hs: int) -> None:
    """Leave out what happened before the extract's history starts on ``hs``: spans that
    ended by then go, spans open on it start on it (the first episode as RNE S), events
    before it go. ``clae_entered_care_date`` keeps the day care began."""
    kept = h.rows[:first_row]
    first_episode = True
    for table, row in h.rows[first_row:]:
        s_col, e_col = _PERIOD_SPANS[table]
        start = row[s_col]
        if start < hs:  # type: ignore[operator]
            if e_col is None or row[e_col] <= hs:  # type: ignore[operator]
                continue
            row[s_col] = hs
        if table == "ssd_cla_episodes" and first_episode:
            first_episode = False
            row["clae_cla_episode_start_reason"] = "S"
        kept.append((table, row))
    h.rows = kept


def _reviews(
    h: History, d: Draws, ctx: SimContext, cla_id: str, s: int, pe: int, unplanned: list[int]
) -> list[int]:
    """Regulation 33 reviews: 20 working days, then 3 months, then every 6 months."""
    r = ctx.rates
    held_days: list[int] = []
    due = add_working_days(s, 20)
    n = 1
    ci = 0
    last = s

    def add(day: int, due_day: int, cancelled: bool) -> None:
        h.add(
            "ssd_cla_reviews",
            {
                "clar_cla_review_id": h.next_id("REV"),
                "clar_cla_id": cla_id,
                "clar_cla_review_date": day,
                "clar_cla_review_due_date": due_day,
                "clar_cla_review_cancelled": "Y" if cancelled else "N",
                "clar_cla_review_participation": ""
                if cancelled
                else ("PN0" if day - h.dob < 4 * 365 else PARTICIPATION.pick(d)),
            },
        )

    while due < pe:
        # a review brought forward after an unplanned placement ending
        triggered = False
        while ci < len(unplanned) and unplanned[ci] < due:
            c = unplanned[ci]
            ci += 1
            if c > last and d.chance(r.review_after_change):
                held = add_working_days(c, d.randint(3, 20))
                if last < held < due and held < pe:
                    add(held, due, False)
                    held_days.append(held)
                    last = held
                    n += 1
                    due = add_months(held, 3 if n == 2 else 6)
                    triggered = True
                    break
        if triggered:
            continue
        if d.chance(r.missed_review):
            held = due + d.randint(35, 120)
        elif d.chance(r.late_review):
            held = due + d.randint(1, 35)
        else:
            held = max(last + 1, due - d.randint(0, 15))
        if held >= pe:
            break
        if d.chance(0.03) and held - 3 > last:
            add(held - d.randint(1, 3), due, True)
        add(held, due, False)
        held_days.append(held)
        last = held
        n += 1
        due = add_months(held, 3 if n == 2 else 6)
    return held_days


#: where short breaks happen: family-based short-break carers or a residential unit
SHORT_BREAK_SETTING = Weighted({"U4": 30, "U6": 25, "K2": 40, "U3": 5})
#: a V4 agreement: an agreed number of nights over 6-12 months, then renewed
V4_AGREEMENT_DAYS = (180, 365)


def simulate_short_breaks(
    h: History, d: Draws, ctx: SimContext, start: int, end: int, referral_id: str, need: str
) -> PeriodOutcome | None:
    """An agreed series of short breaks from ``start`` to ``end`` (legal status V3 or V4).

    V3: every break (1-4 nights every 2-6 weeks, at most 17 days each and 75 a year, reg
    48) is its own period of one episode, RNE S, ended E4A. V4: every agreement (6-12
    months) is one period of one episode, ended E8 and renewed. Each break or agreement has
    its placement with the same short-break carer (same provider, postcode and URN) and
    its legal status row. A series that turns into a care order continues as a period of
    care from the legal status change (returned: that period's outcome), else None.
    """
    r = ctx.rates
    v3 = d.chance(r.short_breaks_v3)
    ls = "V3" if v3 else "V4"
    ptype = SHORT_BREAK_SETTING.pick(d)
    carer = _Placement(
        start,
        0,
        ptype,
        0,
        _provider(d, ptype) if ptype != "K2" else ("PR1" if d.chance(0.7) else "PR5"),
        "" if ptype in NO_URN else f"SC{d.randint(100000, 999999)}",
        fake_postcode(d),
        f"{d.lognormal(6.0, 0.6):.1f}",
    )
    to_care = d.chance(r.short_breaks_to_care)
    care_day = start + d.randint(90, max(91, end - start)) if to_care else end + 1
    x = start
    while x < end and x < h.adult - 30:
        e = x + d.randint(1, 4) if v3 else x + d.randint(*V4_AGREEMENT_DAYS)
        cla_id = h.next_id("CLA")
        if to_care and care_day <= e:
            # this break or agreement becomes care: the legal status changes within it
            change = x + d.randint(1, max(1, e - x)) if v3 else max(x + 1, care_day)
            if change < h.adult - 30:
                return simulate_period(
                    h,
                    d,
                    ctx,
                    change,
                    referral_id,
                    need,
                    False,
                    pre=ShortBreakPrefix(cla_id, x, ls, carer),
                )
        e = min(e, end, h.adult)
        _short_break(h, cla_id, x, e, ls, carer, referral_id, need)
        x = e + (d.randint(14, 42) if v3 else 0)
    return None


def _short_break(
    h: History,
    cla_id: str,
    s: int,
    e: int,
    ls: str,
    carer: _Placement,
    referral_id: str,
    need: str,
) -> None:
    pid = h.pid
    plc = h.next_id("PLC")
    h.add(
        "ssd_cla_placement",
        {
            "clap_cla_placement_id": plc,
            "clap_cla_id": cla_id,
            "clap_person_id": pid,
            "clap_cla_placement_start_date": s,
            "clap_cla_placement_end_date": e,
            "clap_cla_placement_type": carer.ptype,
            "clap_cla_placement_provider": carer.provider,
            "clap_cla_placement_postcode": carer.postcode,
            "clap_cla_placement_urn": carer.urn,
            "clap_cla_placement_change_reason": "CARPL",
            "clap_cla_placement_distance": carer.distance,
        },
    )
    h.add(
        "ssd_legal_status",
        {
            "lega_legal_status_id": h.next_id("LS"),
            "lega_person_id": pid,
            "lega_legal_status": ls,
            "lega_legal_status_start_date": s,
            "lega_legal_status_end_date": e,
        },
    )
    h.add(
        "ssd_cla_episodes",
        {
            "clae_cla_episode_id": h.next_id("EPI"),
            "clae_person_id": pid,
            "clae_cla_id": cla_id,
            "clae_cla_episode_start_date": s,
            "clae_cla_episode_start_reason": "S",
            "clae_cla_primary_need_code": need,
            "clae_cla_episode_ceased_date": e,
            "clae_cla_episode_ceased_reason": "E4A" if ls == "V3" else "E8",
            "clae_referral_id": referral_id,
            "clae_cla_placement_id": plc,
            "clae_entered_care_date": s,
            "clae_cla_last_iro_contact_date": None,
        },
    )
