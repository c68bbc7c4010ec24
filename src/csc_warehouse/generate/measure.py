"""Headline rates measured on a generated drop (to check the generator, not the marts).

Simplified versions of ``shared/spec/measures.md`` over the whole history in the drop:

- re-referral: referrals with another referral of the child in the 12 months before
- repeat CP: CP plans of a child who had an earlier plan
- 3+ placements: children looked after on the drop date with 3+ non-temporary placements
  open in the last 12 months
- long-term stability: looked after >= 2.5 years and under 16 on the drop date, current
  placement started >= 2 years ago (or placed for adoption, with the placement before)
- late reviews: reviews held after their due date
- step back up: RC9 closures (at least 3 months before the drop date) followed by a new
  referral within 3 months
- SGO breakdown: periods ending E45-E48 followed by a new period within a month
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

    placements: dict[str, list[tuple[int, int | None, str]]] = defaultdict(list)
    for r in _read(drop, "ssd_cla_placement"):
        placements[r["clap_person_id"]].append(
            (
                _d(r["clap_cla_placement_start_date"]),
                _d(r["clap_cla_placement_end_date"]),
                r["clap_cla_placement_type"],
            )
        )  # type: ignore[arg-type]
    periods: dict[str, dict[str, list[int | None]]] = defaultdict(dict)
    recs: dict[tuple[str, str], str] = {}
    for r in _read(drop, "ssd_cla_episodes"):
        p = periods[r["clae_person_id"]].setdefault(r["clae_cla_id"], [None, None, 0])
        s, e = _d(r["clae_cla_episode_start_date"]), _d(r["clae_cla_episode_ceased_date"])
        if p[0] is None or s < p[0]:  # type: ignore[operator]
            p[0] = s
        if r["clae_cla_episode_ceased_reason"] not in ("X1", ""):
            p[1] = e
            recs[(r["clae_person_id"], r["clae_cla_id"])] = r["clae_cla_episode_ceased_reason"]
        if not r["clae_cla_episode_ceased_date"]:
            p[2] = 1  # open episode
    dob = {r["pers_person_id"]: _d(r["pers_dob"]) for r in _read(drop, "ssd_person")}
    year_ago = add_months(today, -12)
    cla = three = denom = stable = 0
    for pid, ps in periods.items():
        open_p = [p for p in ps.values() if p[2]]
        if not open_p:
            continue
        cla += 1
        pl = sorted(x for x in placements[pid] if x[2][0] != "T")
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
        ordered = sorted((p[0], p[1], cid) for cid, p in ps.items())
        for i, (_s, e, cid) in enumerate(ordered):
            if (
                recs.get((pid, cid)) in ("E45", "E46", "E47", "E48")
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
