"""Headline rates measured on a generated drop (to check the generator, not the marts).

Simplified versions of ``shared/spec/measures.md`` over the whole history in the drop:

- re-referral: referrals with another referral of the child in the 12 months before
- repeat CP: CP plans of a child who had an earlier plan
- looked after (version 2, section 7): an open period whose legal status on the drop date
  is not a short break (V3/V4); short-break placements are not placements; a placement
  that resumes with the same carer (provider + postcode, or URN) after a temporary one
  (T0-T4) is the same placement; a period starts on the earliest of its first episode and
  ``clae_entered_care_date`` (or, for short breaks turned into care, on the change)
- 3+ placements: children looked after on the drop date with 3+ placements open in the
  last 12 months
- long-term stability: looked after >= 2.5 years and under 16 on the drop date, current
  placement started >= 2 years ago (or placed for adoption, with the placement before)
- late reviews: reviews held after their due date
- step back up: RC9 closures (at least 3 months before the drop date) followed by a new
  referral within 3 months
- SGO breakdown: periods ending E43-E48 followed by a new period within a month

``measured_v2`` measures the version-2 features (short breaks, temporary placements,
missing, CAMHS waits, historic codes, care before the history, teams and workers).
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import defaultdict
from pathlib import Path

from .calendar import add_months


def _read(drop: Path, table: str) -> list[dict[str, str]]:
    with (drop / f"{table}.csv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _d(s: str) -> int | None:
    return dt.date.fromisoformat(s).toordinal() if s else None


Span = tuple[int, int | None]


def short_break_spans(drop: Path) -> dict[str, list[Span]]:
    """person -> the spans of legal status V3/V4 (short breaks)."""
    out: dict[str, list[Span]] = defaultdict(list)
    for r in _read(drop, "ssd_legal_status"):
        if r["lega_legal_status"] in SHORT_BREAK_STATUSES:
            out[r["lega_person_id"]].append(
                (_d(r["lega_legal_status_start_date"]), _d(r["lega_legal_status_end_date"]))  # type: ignore[arg-type]
            )
    return out


def on_short_break(spans: list[Span] | tuple[Span, ...], day: int) -> bool:
    return any(s <= day and (e is None or day < e) for s, e in spans)


def care_placements(
    drop: Path, breaks: dict[str, list[Span]]
) -> dict[str, list[tuple[int, int | None, str]]]:
    """person -> placements counted as placements (v2): no temporary (T0-T4) or short-break
    placements, and the two sides of a temporary placement with the same carer (provider
    and postcode, or URN) joined into one."""
    rows: dict[str, list[dict[str, str]]] = defaultdict(list)
    for r in _read(drop, "ssd_cla_placement"):
        rows[r["clap_person_id"]].append(r)
    out: dict[str, list[tuple[int, int | None, str]]] = {}
    for pid, rs in rows.items():
        rs.sort(key=lambda r: r["clap_cla_placement_start_date"])
        kept: list[tuple[int, int | None, str]] = []
        last: dict[str, str] | None = None
        after_temporary = False
        for r in rs:
            start = _d(r["clap_cla_placement_start_date"])
            end = _d(r["clap_cla_placement_end_date"])
            if r["clap_cla_placement_type"][0] == "T":
                after_temporary = last is not None
                continue
            if any(
                s <= start and e is not None and end is not None and end <= e  # type: ignore[operator]
                for s, e in breaks.get(pid, ())
            ):
                continue  # a short break
            if after_temporary and last is not None and same_carer(last, r):
                kept[-1] = (kept[-1][0], end, kept[-1][2])
            else:
                kept.append((start, end, r["clap_cla_placement_type"]))  # type: ignore[arg-type]
            last = r
            after_temporary = False
        out[pid] = kept
    return defaultdict(list, out)


def same_carer(a: dict[str, str], b: dict[str, str]) -> bool:
    urn = a["clap_cla_placement_urn"]
    if urn and urn == b["clap_cla_placement_urn"]:
        return True
    return (
        a["clap_cla_placement_provider"] == b["clap_cla_placement_provider"]
        and bool(a["clap_cla_placement_postcode"])
        and a["clap_cla_placement_postcode"] == b["clap_cla_placement_postcode"]
    )


SHORT_BREAK_STATUSES = ("V3", "V4")


def measured_rates(drop: Path, as_of: dt.date) -> dict[str, float]:
    drop = Path(drop)
    today = as_of.toordinal()
    out: dict[str, float] = {}

    refs: dict[str, list[int]] = defaultdict(list)
    for r in _read(drop, "ssd_cin_episodes"):
        refs[r["cine_person_id"]].append(_d(r["cine_referral_date"]))  # type: ignore[arg-type]
    n = rr = 0
    for days in refs.values():
        days.sort()
        for i, x in enumerate(days):
            n += 1
            if i and x <= add_months(days[i - 1], 12):
                rr += 1
    out["re_referral_12m"] = rr / n if n else 0.0

    cps: dict[str, list[int]] = defaultdict(list)
    for r in _read(drop, "ssd_cp_plans"):
        cps[r["cppl_person_id"]].append(_d(r["cppl_cp_plan_start_date"]))  # type: ignore[arg-type]
    total = sum(len(v) for v in cps.values())
    out["repeat_cp_plan"] = sum(len(v) - 1 for v in cps.values()) / total if total else 0.0

    breaks = short_break_spans(drop)
    placements = care_placements(drop, breaks)
    periods: dict[str, dict[str, list[int | None]]] = defaultdict(dict)
    recs: dict[tuple[str, str], str] = {}
    for r in _read(drop, "ssd_cla_episodes"):
        p = periods[r["clae_person_id"]].setdefault(r["clae_cla_id"], [None, None, 0])
        s, e = _d(r["clae_cla_episode_start_date"]), _d(r["clae_cla_episode_ceased_date"])
        entered = _d(r["clae_entered_care_date"])
        if entered is not None and entered < s:  # type: ignore[operator]
            s = entered
        if p[0] is None or s < p[0]:  # type: ignore[operator]
            p[0] = s
        if r["clae_cla_episode_ceased_reason"] not in ("X1", ""):
            p[1] = e
            recs[(r["clae_person_id"], r["clae_cla_id"])] = r["clae_cla_episode_ceased_reason"]
        if not r["clae_cla_episode_ceased_date"]:
            p[2] = 1  # open episode
    for pid, ps in periods.items():  # a short-break start is not a start of care
        for p in ps.values():
            for bs, be in breaks.get(pid, ()):
                if p[0] is not None and bs <= p[0] < (be if be is not None else today + 1):  # type: ignore[operator]
                    # all short breaks (no care after them): not a period of care at all
                    only_breaks = be is None or (p[1] is not None and be >= p[1])  # type: ignore[operator]
                    p[0] = None if only_breaks else be
    dob = {r["pers_person_id"]: _d(r["pers_dob"]) for r in _read(drop, "ssd_person")}
    year_ago = add_months(today, -12)
    cla = three = denom = stable = 0
    for pid, ps in periods.items():
        open_p = [p for p in ps.values() if p[2] and p[0] is not None]
        if not open_p or on_short_break(breaks.get(pid, ()), today):
            continue
        cla += 1
        pl = placements[pid]
        recent = [x for x in pl if x[1] is None or x[1] > year_ago]
        three += len(recent) >= 3
        start = open_p[0][0]
        if start <= add_months(today, -30) and today < add_months(dob[pid], 16 * 12):  # type: ignore[operator,arg-type]
            denom += 1
            cur = pl[-1]
            since = cur[0]
            if cur[2][0] == "A" and len(pl) > 1:
                since = pl[-2][0]
            stable += since <= add_months(today, -24)
    out["cla_on_drop_date"] = float(cla)
    out["three_plus_placements_12m"] = three / cla if cla else 0.0
    out["long_term_stability"] = stable / denom if denom else 0.0
    out["long_term_stability_denominator"] = float(denom)

    sgo = broke = 0
    for pid, ps in periods.items():
        ordered = sorted((p[0], p[1], cid) for cid, p in ps.items() if p[0] is not None)
        for i, (_s, e, cid) in enumerate(ordered):
            if (
                recs.get((pid, cid)) in ("E43", "E44", "E45", "E46", "E47", "E48")
                and e is not None
                and add_months(e, 1) <= today
            ):
                sgo += 1
                if i + 1 < len(ordered) and ordered[i + 1][0] <= add_months(e, 1):  # type: ignore[operator]
                    broke += 1
    out["sgo_breakdown_1m"] = broke / sgo if sgo else 0.0

    reviews = [r for r in _read(drop, "ssd_cla_reviews") if r["clar_cla_review_cancelled"] != "Y"]
    late = sum(r["clar_cla_review_date"] > r["clar_cla_review_due_date"] for r in reviews)
    out["late_reviews"] = late / len(reviews) if reviews else 0.0

    steps = up = 0
    for r in _read(drop, "ssd_cin_episodes"):
        if r["cine_close_reason"] != "RC9":
            continue
        c = _d(r["cine_close_date"])
        if add_months(c, 3) > today:  # type: ignore[arg-type]
            continue
        steps += 1
        up += any(c < x <= add_months(c, 3) for x in refs[r["cine_person_id"]])  # type: ignore[operator,arg-type]
    out["step_back_up_3m"] = up / steps if steps else 0.0

    plans = _read(drop, "ssd_cp_plans")
    ended = [p for p in plans if p["cppl_cp_plan_end_date"]]
    long_ = sum(
        _d(p["cppl_cp_plan_end_date"]) - _d(p["cppl_cp_plan_start_date"]) >= 730  # type: ignore[operator]
        for p in ended
    )
    out["cp_plans_2y_plus"] = long_ / len(ended) if ended else 0.0

    assessments = _read(drop, "ssd_cin_assessments")
    out["missing_episodes_per_cla_child"] = len(_read(drop, "ssd_missing")) / max(1, len(periods))
    out["assessments"] = float(len(assessments))
    return out


def _overlaps(s: int, e: int | None, lo: int, hi: int) -> bool:
    """[s, e) overlaps [lo, hi] (e None = still open)."""
    return s <= hi and (e is None or e > lo)


def measured_v2(drop: Path, as_of: dt.date) -> dict[str, float]:
    """The version-2 features of a generated drop, as rates (see ``docs/generator.md``)."""
    drop = Path(drop)
    today = as_of.toordinal()
    year_ago = add_months(today, -12)
    out: dict[str, float] = {}
    breaks = short_break_spans(drop)
    legal = _read(drop, "ssd_legal_status")
    episodes = _read(drop, "ssd_cla_episodes")
    placements = _read(drop, "ssd_cla_placement")

    # -- looked after on the drop date and during the last 12 months (not short breaks) --
    cla_now: set[str] = set()
    cla_year: set[str] = set()
    cla_spans: dict[str, list[Span]] = defaultdict(list)
    for r in legal:
        if r["lega_legal_status"] in SHORT_BREAK_STATUSES:
            continue
        pid = r["lega_person_id"]
        s, e = _d(r["lega_legal_status_start_date"]), _d(r["lega_legal_status_end_date"])
        cla_spans[pid].append((s, e))  # type: ignore[arg-type]
        if s <= today and (e is None or e > today):  # type: ignore[operator]
            cla_now.add(pid)
        if _overlaps(s, e, year_ago, today):  # type: ignore[arg-type]
            cla_year.add(pid)
    out["cla_on_drop_date"] = float(len(cla_now))

    # -- short breaks ---------------------------------------------------------------------
    sb_year = {p for p, spans in breaks.items() if any(_overlaps(s, e, year_ago, today)
                                                       for s, e in spans)}
    sb_now = {p for p, spans in breaks.items() if on_short_break(spans, today)}
    out["short_break_children_12m"] = float(len(sb_year))
    out["short_break_children_12m_per_cla"] = len(sb_year) / max(1, len(cla_now))
    out["short_break_children_on_drop_date"] = float(len(sb_now))
    days = 0
    for spans in breaks.values():
        for s, e in spans:
            lo, hi = max(s, year_ago), min(e if e is not None else today + 1, today + 1)
            days += max(0, hi - lo)
    out["short_break_days_12m"] = float(days)
    by_status: dict[str, int] = defaultdict(int)
    for r in legal:
        if r["lega_legal_status"] in SHORT_BREAK_STATUSES:
            by_status[r["lega_legal_status"]] += 1
    out["short_break_rows_v3"] = float(by_status["V3"])
    out["short_break_rows_v4"] = float(by_status["V4"])
    ls_by_person: dict[str, list[tuple[int, str, int | None]]] = defaultdict(list)
    for r in legal:
        ls_by_person[r["lega_person_id"]].append((
            _d(r["lega_legal_status_start_date"]),  # type: ignore[arg-type]
            r["lega_legal_status"],
            _d(r["lega_legal_status_end_date"]),
        ))
    converted = 0
    for pid in breaks:
        seq = sorted(ls_by_person[pid])
        converted += any(
            a[1] in SHORT_BREAK_STATUSES and b[1] not in SHORT_BREAK_STATUSES and b[0] == a[2]
            for a, b in zip(seq, seq[1:], strict=False)
        )
    out["short_break_children"] = float(len(breaks))
    out["short_break_series_to_care"] = converted / max(1, len(breaks))

    # -- temporary placements ------------------------------------------------------------
    by_child: dict[str, list[dict[str, str]]] = defaultdict(list)
    for r in placements:
        by_child[r["clap_person_id"]].append(r)
    temps = same = new_carer = 0
    cla_days = 0
    for pid, rs in by_child.items():
        rs.sort(key=lambda r: r["clap_cla_placement_start_date"])
        for i, r in enumerate(rs):
            s = _d(r["clap_cla_placement_start_date"])
            e = _d(r["clap_cla_placement_end_date"]) or today
            if r["clap_cla_placement_type"][0] != "T":
                if not any(bs <= s and be is not None and e <= be  # type: ignore[operator]
                           for bs, be in breaks.get(pid, ())):
                    cla_days += e - s  # type: ignore[operator]
                continue
            if not r["clap_cla_placement_end_date"] or i == 0 or i + 1 >= len(rs):
                continue
            temps += 1
            if same_carer(rs[i - 1], rs[i + 1]):
                same += 1
            else:
                new_carer += 1
    out["temporary_placements"] = float(temps)
    out["temporary_placements_per_cla_year"] = temps / max(1.0, cla_days / 365.25)
    out["temporary_back_to_same_carer"] = same / max(1, temps)
    types = {r["clap_cla_placement_type"] for r in placements}
    out["temporary_types"] = float(len(types & {"T0", "T1", "T2", "T3", "T4"}))

    # -- missing -------------------------------------------------------------------------
    missing = _read(drop, "ssd_missing")
    in_care_12m: dict[str, int] = defaultdict(int)
    ended = offered = accepted = open_now = open_cla = not_cla = 0
    for r in missing:
        pid = r["miss_person_id"]
        s = _d(r["miss_missing_episode_start_date"])
        looked_after = any(a <= s and (b is None or s < b) for a, b in cla_spans.get(pid, ()))  # type: ignore[operator]
        not_cla += not looked_after
        if not r["miss_missing_episode_end_date"]:
            open_now += 1
            open_cla += looked_after
        else:
            ended += 1
            offered += r["miss_missing_rhi_offered"] == "Y"
            accepted += r["miss_missing_rhi_accepted"] == "Y"
        if looked_after and s > year_ago:  # type: ignore[operator]
            in_care_12m[pid] += 1
    out["cla_12m_children"] = float(len(cla_year))
    out["cla_12m_with_missing_episode"] = len(in_care_12m) / max(1, len(cla_year))
    out["missing_episodes_per_missing_child_12m"] = (
        sum(in_care_12m.values()) / max(1, len(in_care_12m)))
    out["missing_open_on_drop_date"] = float(open_now)
    out["missing_open_on_drop_date_looked_after"] = float(open_cla)
    out["missing_not_looked_after_share"] = not_cla / max(1, len(missing))
    out["missing_away_share"] = sum(r["miss_missing_episode_type"] == "A" for r in missing) / max(
        1, len(missing))
    out["rhi_offered"] = offered / max(1, ended)
    out["rhi_accepted_of_offered"] = accepted / max(1, offered)

    # -- CAMHS ---------------------------------------------------------------------------
    camhs = _read(drop, "ext_camhs_referrals")
    waits = sorted(
        (_d(r["camh_first_appointment_date"]) - _d(r["camh_referral_date"])) / 7.0  # type: ignore[operator]
        for r in camhs if r["camh_first_appointment_date"]
    )
    closed_unseen = sum(1 for r in camhs if r["camh_closed_date"]
                        and not r["camh_first_appointment_date"])
    out["camhs_referrals"] = float(len(camhs))
    out["camhs_median_wait_weeks"] = waits[len(waits) // 2] if waits else 0.0
    out["camhs_seen_within_18_weeks"] = sum(w <= 18 for w in waits) / max(1, len(waits))
    out["camhs_wait_over_52_weeks"] = sum(w > 52 for w in waits) / max(1, len(waits))
    out["camhs_closed_without_appointment"] = closed_unseen / max(1, len(camhs))
    out["camhs_open_on_drop_date"] = float(sum(not r["camh_closed_date"] for r in camhs))
    out["camhs_open_waiting_on_drop_date"] = float(sum(
        not r["camh_closed_date"] and not r["camh_first_appointment_date"] for r in camhs))
    out["camhs_accepted"] = sum(r["camh_accepted"] == "Y" for r in camhs) / max(1, len(camhs))

    # -- historic SGO codes, care before the history ---------------------------------------
    cutoff = dt.date(2018, 4, 1).toordinal()
    old = sgo_before = 0
    first_ep: dict[str, tuple[int, int | None]] = {}
    for r in episodes:
        rec = r["clae_cla_episode_ceased_reason"]
        end = _d(r["clae_cla_episode_ceased_date"])
        if rec in ("E43", "E44", "E45", "E46", "E47", "E48") and end is not None and end < cutoff:
            sgo_before += 1
            old += rec in ("E43", "E44")
        s = _d(r["clae_cla_episode_start_date"])
        cur = first_ep.get(r["clae_cla_id"])
        if cur is None or s < cur[0]:  # type: ignore[operator]
            first_ep[r["clae_cla_id"]] = (s, _d(r["clae_entered_care_date"]))  # type: ignore[assignment]
    out["sgo_endings_before_2018_04"] = float(sgo_before)
    out["old_sgo_code_share_before_2018_04"] = old / max(1, sgo_before)
    out["periods_entered_care_before_first_episode"] = float(
        sum(1 for s, e in first_ep.values() if e is not None and e < s))

    # -- teams and workers ----------------------------------------------------------------
    invo = [r for r in _read(drop, "ssd_involvements")
            if r["invo_professional_role_id"] == "Allocated social worker"]
    open_alloc: dict[str, set[str]] = defaultdict(set)
    team_of: dict[str, str] = {}
    teams: set[str] = set()
    workers_12m: dict[str, set[str]] = defaultdict(set)
    allocated_now: set[str] = set()
    for r in invo:
        teams.add(r["invo_professional_team"])
        s, e = _d(r["invo_involvement_start_date"]), _d(r["invo_involvement_end_date"])
        pid = r["invo_person_id"]
        if s <= today and (e is None or e > today):  # type: ignore[operator]
            open_alloc[r["invo_professional_id"]].add(pid)
            team_of[r["invo_professional_id"]] = r["invo_professional_team"]
            allocated_now.add(pid)
        if _overlaps(s, e, year_ago, today):  # type: ignore[arg-type]
            workers_12m[pid].add(r["invo_professional_id"])
    loads = sorted(len(v) for v in open_alloc.values())
    out["teams"] = float(len(teams))
    out["caseload_mean"] = sum(loads) / max(1, len(loads))
    out["caseload_median"] = float(loads[len(loads) // 2]) if loads else 0.0
    for team in sorted(teams):
        tl = [len(v) for w, v in open_alloc.items() if team_of[w] == team]
        out[f"caseload_mean[{team}]"] = sum(tl) / max(1, len(tl))
    cla_sw = [len(workers_12m.get(p, ())) for p in cla_now]
    out["cla_3plus_workers_12m"] = sum(n >= 3 for n in cla_sw) / max(1, len(cla_sw))
    open_cases = {r["cine_person_id"] for r in _read(drop, "ssd_cin_episodes")
                  if not r["cine_close_date"]}
    out["open_cases"] = float(len(open_cases))
    out["open_cases_unallocated"] = len(open_cases - allocated_now) / max(1, len(open_cases))
    eh_open: dict[str, int] = defaultdict(int)
    for r in _read(drop, "ssd_early_help_episodes"):
        if not r["earl_episode_end_date"]:
            eh_open[r["earl_episode_worker_id"]] += 1
    out["caseload_mean[early help]"] = sum(eh_open.values()) / max(1, len(eh_open))
    out["teams_with_early_help"] = float(len(teams | {
        r["earl_episode_organisation"] for r in _read(drop, "ssd_early_help_episodes")}))
    out["professionals"] = float(len(_read(drop, "ssd_professionals")))
    return out

