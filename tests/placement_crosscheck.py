"""Independent cross-check of the placement-stability figures, from SSDA903 return files.

Written from the specification only (section 2 of docs/measures/placements-and-reviews.md
and the 903 mapping in docs/extract-contract.md), in plain pandas. It shares NO code or SQL
with the dbt models, so agreement between the two is evidence that both read the spec the
same way.

Inputs: a folder of 903 CSVs named ``<YEAR>-episodes.csv`` and ``<YEAR>-header.csv`` (the
cs-demand-model "combined" layout, DD/MM/YYYY dates) or ``episodes.csv`` / ``header.csv``.

Readings of the 903 mapping (documented in docs/measures/placements-and-reviews.md):

- several returns repeat the episodes that cross 31 March: the same (CHILD, DECOM) is one
  episode, the latest return's values win (also for the header: latest return's DOB wins);
- a period of care starts at an episode with RNE = S, at a child's first episode (the return
  may begin part-way through a period), or at the episode after one whose REC is not X1;
  it ends at the DEC of its last episode (open when that DEC is blank);
- version 2, section 7: care under LS V3/V4 (short breaks) is not care, so a period that
  begins under V3/V4 and moves to another LS starts on the DECOM of its first episode with
  another LS (the day of the change); a period whose episodes are all V3/V4 keeps its first
  DECOM (it is a short-break period, and V3/V4 on the day leaves it out below);
- a placement starts at every episode whose RNE is S, P, B, T or U and at the first episode
  of a period; RNE = L continues the previous placement. Its type is the first episode's
  PLACE, its end the DEC of its last episode;
- temporary placements (PLACE T0-T4) are left out of the counts (DfE default);
- looked after on 31 March = a period open that day (start <= d < end; one per child, the
  latest-starting); legal status on the day = LS of the child's latest-starting episode open
  that day (the 903 legal-status spans); V3/V4 are left out.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

PLACEMENT_STARTS = {"S", "P", "B", "T", "U"}
TEMPORARY = {"T0", "T1", "T2", "T3", "T4"}
ADOPTION = {"A3", "A4", "A5", "A6"}
SHORT_BREAKS = {"V3", "V4"}


# ---------------------------------------------------------------------------------------
# reading the returns
# ---------------------------------------------------------------------------------------
def _return_files(folder: Path, table: str) -> list[tuple[int, Path]]:
    """(order, path) of every return of a table; order = the return's year (latest last)."""
    found = []
    for p in sorted(Path(folder).glob(f"*{table}.csv")):
        prefix = p.name[: -len(f"{table}.csv")].rstrip("-_")
        order = int(prefix) if prefix.isdigit() else 0
        found.append((order, p))
    if not found:
        raise FileNotFoundError(f"no {table}.csv in {folder}")
    return sorted(found)


def _uk_date(s: pd.Series) -> pd.Series:
    return pd.to_datetime(s, format="%d/%m/%Y", errors="raise").dt.date


def read_episodes(folder: Path, exclude: set[tuple[str, int]] | None = None) -> pd.DataFrame:
    """All returns' episodes, one row per (CHILD, DECOM), latest return wins, sorted.

    ``exclude``: (file name, row number) pairs to leave out, row 1 being the header - the
    rows a loader quarantined, so that a comparison covers the same episodes."""
    frames = []
    for order, path in _return_files(folder, "episodes"):
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
        df["_return"] = order
        df["_source"] = [(path.name, n) for n in range(2, len(df) + 2)]
        frames.append(df)
    eps = pd.concat(frames, ignore_index=True)
    eps = eps.replace({"": None})
    eps["DECOM"] = _uk_date(eps["DECOM"])
    eps["DEC"] = eps["DEC"].map(
        lambda v: None if v is None else dt.datetime.strptime(v, "%d/%m/%Y").date()
    )
    eps = (
        eps.sort_values(["_return"], kind="stable")
        .drop_duplicates(["CHILD", "DECOM"], keep="last")
        .sort_values(["CHILD", "DECOM"], kind="stable")
        .reset_index(drop=True)
    )
    if exclude:  # after "latest return wins": a quarantined winner removes the episode
        eps = eps[~eps["_source"].isin(exclude)].reset_index(drop=True)
    return eps


def read_dob(folder: Path) -> dict[str, dt.date]:
    """CHILD -> DOB, the latest return's value winning."""
    frames = []
    for order, path in _return_files(folder, "header"):
        df = pd.read_csv(path, dtype=str, keep_default_na=False)[["CHILD", "DOB"]]
        df["_return"] = order
        frames.append(df)
    hdr = pd.concat(frames, ignore_index=True).sort_values("_return", kind="stable")
    hdr = hdr[hdr["DOB"] != ""].drop_duplicates("CHILD", keep="last")
    return {
        c: dt.datetime.strptime(d, "%d/%m/%Y").date()
        for c, d in zip(hdr.CHILD, hdr.DOB, strict=True)
    }


# ---------------------------------------------------------------------------------------
# periods of care and placements
# ---------------------------------------------------------------------------------------
@dataclass
class Period:
    child: str
    number: int
    start: dt.date
    end: dt.date | None
    episodes: list[dict]


@dataclass
class Placement:
    child: str
    period: int
    start: dt.date
    end: dt.date | None
    place: str | None


def periods_of_care(eps: pd.DataFrame) -> list[Period]:
    out: list[Period] = []
    for child, rows in eps.groupby("CHILD", sort=True):
        current: list[dict] = []
        number = 0
        for rec in rows.to_dict("records"):
            starts_new = not current or rec["RNE"] == "S" or current[-1]["REC"] != "X1"
            if starts_new and current:
                out.append(_period(child, number, current))
                current = []
            if starts_new:
                number += 1
            current.append(rec)
        if current:
            out.append(_period(child, number, current))
    return out


def _period(child: str, number: int, episodes: list[dict]) -> Period:
    # section 7: the period of care starts on its first day not under V3/V4
    care = [e for e in episodes if e["LS"] not in SHORT_BREAKS]
    start = care[0]["DECOM"] if care else episodes[0]["DECOM"]
    return Period(child, number, start, episodes[-1]["DEC"], episodes)


def placements(periods: list[Period]) -> list[Placement]:
    out: list[Placement] = []
    for per in periods:
        current: list[dict] = []
        for i, rec in enumerate(per.episodes):
            if i == 0 or rec["RNE"] in PLACEMENT_STARTS:
                if current:
                    out.append(_placement(per, current))
                current = []
            current.append(rec)
        if current:
            out.append(_placement(per, current))
    return out


def _placement(per: Period, episodes: list[dict]) -> Placement:
    return Placement(
        per.child, per.number, episodes[0]["DECOM"], episodes[-1]["DEC"], episodes[0]["PLACE"]
    )


# ---------------------------------------------------------------------------------------
# the measures, seen from one date (as_of = 31 March)
# ---------------------------------------------------------------------------------------
def _open_on(start: dt.date, end: dt.date | None, day: dt.date, as_of: dt.date) -> bool:
    """Span convention: start <= day < end; ends after as_of are treated as open."""
    if start > as_of:
        return False
    if end is not None and end > as_of:
        end = None
    return start <= day and (end is None or day < end)


def _add_months(d: dt.date, months: int) -> dt.date:
    """Calendar-month arithmetic, clamped to month end (as PostgreSQL's interval)."""
    y, m = divmod(d.month - 1 + months, 12)
    y, m = d.year + y, m + 1
    last = (dt.date(y + (m == 12), m % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(y, m, min(d.day, last))


def _age_years(dob: dt.date, on: dt.date) -> int:
    return on.year - dob.year - ((on.month, on.day) < (dob.month, dob.day))


@dataclass
class StabilityFigures:
    as_of: dt.date
    looked_after: int  # CLA on the day, V3/V4 left out (3+ placements denominator)
    three_plus_placements: int  # numerator
    long_term_denominator: int
    long_term_numerator: int


def stability_on(
    as_of: dt.date,
    periods: list[Period],
    places: list[Placement],
    dob: dict[str, dt.date],
    *,
    count_temporary: bool = False,
    lookback_months: int = 12,
    care_months: int = 30,
    placement_months: int = 24,
    max_age: int = 16,
) -> StabilityFigures:
    window_start = _add_months(as_of, -lookback_months)  # window is (window_start, as_of]
    by_child: dict[str, list[Placement]] = {}
    for pl in places:
        if count_temporary or pl.place not in TEMPORARY:
            by_child.setdefault(pl.child, []).append(pl)

    # one row per child: the latest-starting period open on the day
    open_period: dict[str, Period] = {}
    for per in periods:
        if _open_on(per.start, per.end, as_of, as_of) and (
            per.child not in open_period or per.start >= open_period[per.child].start
        ):
            open_period[per.child] = per

    cla = n3 = ltd = ltn = 0
    for child in sorted(open_period):
        per = open_period[child]
        # legal status on the day: the child's latest-starting episode open that day
        open_eps = [
            e for p in periods if p.child == child for e in p.episodes
            if _open_on(e["DECOM"], e["DEC"], as_of, as_of)
        ]
        ls = max(open_eps, key=lambda e: e["DECOM"])["LS"] if open_eps else None
        if ls in SHORT_BREAKS:
            continue
        cla += 1
        child_places = by_child.get(per.child, [])
        count = 0
        for pl in child_places:
            if pl.start > as_of:
                continue
            end = None if pl.end is None or pl.end > as_of else pl.end
            first_day = max(pl.start, window_start + dt.timedelta(days=1))
            if end is None or first_day < end:
                count += 1
        if count >= 3:
            n3 += 1

        born = dob.get(per.child)
        if born is None or _age_years(born, as_of) >= max_age:
            continue
        if per.start > _add_months(as_of, -care_months):
            continue
        ltd += 1
        in_period = sorted(
            (p for p in child_places if p.period == per.number and p.start <= as_of),
            key=lambda p: p.start,
        )
        if not in_period:
            continue
        current = in_period[-1]
        cutoff = _add_months(as_of, -placement_months)
        stable = current.start <= cutoff
        if not stable and current.place in ADOPTION and len(in_period) >= 2:
            prev = in_period[-2]
            prev_end = prev.end if prev.end is not None else current.start
            effective_start = current.start - (prev_end - prev.start)
            stable = effective_start <= cutoff
        if stable:
            ltn += 1
    return StabilityFigures(as_of, cla, n3, ltd, ltn)


def yearly_figures(
    folder: Path, years: list[int] | None = None,
    exclude: set[tuple[str, int]] | None = None, **kwargs
) -> list[StabilityFigures]:
    """Figures for 31 March of each year (default: every year-end the returns cover)."""
    eps = read_episodes(folder, exclude)
    pers = periods_of_care(eps)
    places = placements(pers)
    dob = read_dob(folder)
    if years is None:
        first = min(_return_files(folder, "episodes"))[0]
        last = max(_return_files(folder, "episodes"))[0]
        years = list(range(first + 1, last + 2))  # return YEAR covers YEAR-04-01..YEAR+1-03-31
    return [stability_on(dt.date(y, 3, 31), pers, places, dob, **kwargs) for y in years]


if __name__ == "__main__":  # pragma: no cover - a manual aid
    import sys

    folder = Path(sys.argv[1] if len(sys.argv) > 1 else
                  "/work/shared/samples/cs-demand-model/combined")
    print("as_of       CLA  3+plc  LT_den  LT_num")
    for f in yearly_figures(folder):
        print(f"{f.as_of}  {f.looked_after:4d}  {f.three_plus_placements:5d}  "
              f"{f.long_term_denominator:6d}  {f.long_term_numerator:6d}")
