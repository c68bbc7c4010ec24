"""Independent cross-check of the placement-stability and missing-from-care figures, from
SSDA903 return files.

Written from the specification only (measures.md sections 2, 7 and 8, and the 903 mapping in
extract-contract.md; the project's pages are docs/measures/placements-and-reviews.md and
docs/measures/missing-and-timeliness.md), in plain pandas. It shares NO code or SQL with the
dbt models, so agreement between the two is evidence that both read the spec the same way.

Inputs: a folder of 903 CSVs named ``<YEAR>-episodes.csv``, ``<YEAR>-header.csv`` and
``<YEAR>-missing.csv`` (the cs-demand-model "combined" layout, DD/MM/YYYY dates) or
``episodes.csv`` / ``header.csv`` / ``missing.csv``.

Readings of the 903 mapping:

- several returns repeat the episodes that cross 31 March: the same (CHILD, DECOM) is one
  episode, the latest return's values win (also for the header: latest return's DOB wins;
  and for missing episodes: the same (CHILD, MIS_START) is one episode, latest wins);
- a 903 period starts at an episode with RNE = S, at a child's first episode (the return may
  begin part-way through a period), or at the episode after one whose REC is not X1; it ends
  at the DEC of its last episode (open when that DEC is blank);
- a placement starts at every episode whose RNE is S, P, B, T or U and at the first episode
  of a period; RNE = L continues the previous placement. Its type, provider
  (PLACE_PROVIDER), postcode (PL_POST) and URN are its first episode's, its end the DEC of
  its last episode;
- legal status on a day = LS of the child's latest-starting episode open that day (the 903
  legal-status spans).

Readings of section 7 (version 2):

- **Short breaks (V3/V4).** A day under legal status V3 or V4 is not a looked-after day.
  A 903 period whose episodes are all V3/V4 is a short-break period: it is not a period of
  care, gets no number, and its placements are not placements of care. A period that moves
  from V3/V4 to another status is a period of care from the DECOM of its first episode with
  another status (the change day). The entered-care date of a 903 period (the DECOM of its
  RNE S episode, or of its earliest episode) is therefore never earlier than this: for a 903
  drop it is the period's first episode, so "earliest of first episode and entered-care
  date" adds nothing, and the short-break rule moves the start to the change day. A later
  V3/V4 episode inside a period of care does not end or split the period (the spec says a
  short break starts no period; it says nothing of ending one), but its days are not
  looked-after days: a child under V3/V4 on 31 March is not CLA that day.
- A placement's **care days** are the days of its episodes whose LS is not V3/V4. A
  placement with no care day on or before as_of is not a placement of care (left out of
  every count); a placement's care start is its first care day (so a placement that began
  under V3/V4 and changed status starts, for long-term stability, on the change day).
  ``placements_in_last_12_months`` counts the placements of care with at least one care day
  in (as_of - 12 months, as_of].
- **Temporary placements (T0-T4)** are not counted (var ``count_temporary_placements``
  default false), and a run of one or more consecutive temporary placements between two
  placements of the same period with the same carer does not split them: they are ONE
  placement (start = the first one's, end = the last one's, care days = both parts'; type =
  the later part's, the type the child is in now). Same carer = same PLACE_PROVIDER and same
  PL_POST (both present; postcode compared upper-cased without spaces), or same URN (present).
  Only placements starting on or before as_of take part (the merge is seen from as_of).
  When temporary placements are counted (``count_temporary=True``) nothing is merged.
- **Older SGO codes**: this check computes no SGO-ending measure, so E43/E44 do not arise.

Readings of section 8 (missing from care, 903 ``missing`` files: CHILD, MISSING = M or A,
MIS_START, MIS_END):

- an episode is seen from as_of: one starting after as_of is ignored, an end after as_of
  is open;
- **while looked after**: on the episode's start day the child has a period of care open
  (care start <= day < end) and the legal status that day is not V3/V4 (a short-break day is
  not a looked-after day, also inside a period of care);
- days missing = end - start for an ended episode, as_of + 1 - start while open;
- per reporting year (1 April to 31 March, by the episode's start): type M episodes while
  looked after, type A episodes while looked after, distinct children with an episode of
  either type while looked after, their days missing, and all episodes of the year (looked
  after or not).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
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


def _uk_date_or_none(v: str | None) -> dt.date | None:
    return None if v is None else dt.datetime.strptime(v, "%d/%m/%Y").date()


def _stack(folder: Path, table: str) -> pd.DataFrame:
    frames = []
    for order, path in _return_files(folder, table):
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
        df["_return"] = order
        df["_source"] = [(path.name, n) for n in range(2, len(df) + 2)]
        frames.append(df)
    return pd.concat(frames, ignore_index=True).replace({"": None})


def read_episodes(folder: Path, exclude: set[tuple[str, int]] | None = None) -> pd.DataFrame:
    """All returns' episodes, one row per (CHILD, DECOM), latest return wins, sorted.

    ``exclude``: (file name, row number) pairs to leave out, row 1 being the header - the
    rows a loader quarantined, so that a comparison covers the same episodes."""
    eps = _stack(folder, "episodes")
    eps["DECOM"] = _uk_date(eps["DECOM"])
    eps["DEC"] = eps["DEC"].map(_uk_date_or_none)
    eps = (
        eps.sort_values(["_return"], kind="stable")
        .drop_duplicates(["CHILD", "DECOM"], keep="last")
        .sort_values(["CHILD", "DECOM"], kind="stable")
        .reset_index(drop=True)
    )
    if exclude:  # after "latest return wins": a quarantined winner removes the episode
        eps = eps[~eps["_source"].isin(exclude)].reset_index(drop=True)
    return eps


def read_missing(folder: Path, exclude: set[tuple[str, int]] | None = None
                 ) -> pd.DataFrame | None:
    """All returns' missing episodes, one row per (CHILD, MIS_START), latest return wins;
    None when the folder has no missing file (not available, not zero)."""
    try:
        mis = _stack(folder, "missing")
    except FileNotFoundError:
        return None
    mis["MIS_START"] = _uk_date(mis["MIS_START"])
    mis["MIS_END"] = mis["MIS_END"].map(_uk_date_or_none)
    mis["MISSING"] = mis["MISSING"].str.strip().str.upper()
    mis = (
        mis.sort_values(["_return"], kind="stable")
        .drop_duplicates(["CHILD", "MIS_START"], keep="last")
        .sort_values(["CHILD", "MIS_START"], kind="stable")
        .reset_index(drop=True)
    )
    if exclude:
        mis = mis[~mis["_source"].isin(exclude)].reset_index(drop=True)
    return mis


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
    number: int | None  # None: a short-break period (all V3/V4), not a period of care
    start: dt.date  # care start: first episode not under V3/V4 (short break: first DECOM)
    end: dt.date | None
    episodes: list[dict]

    @property
    def is_short_break(self) -> bool:
        return self.number is None


@dataclass
class Placement:
    child: str
    period: int
    start: dt.date  # the first episode's DECOM
    end: dt.date | None
    place: str | None
    provider: str | None = None
    postcode: str | None = None
    urn: str | None = None
    #: (start, end) of its episodes not under V3/V4: the days it is a placement of care
    care_spans: list[tuple[dt.date, dt.date | None]] = field(default_factory=list)


def _is_care(rec: dict) -> bool:
    return rec["LS"] not in SHORT_BREAKS


def periods_of_care(eps: pd.DataFrame) -> list[Period]:
    """Every 903 period, numbered 1, 2 ... over the periods of care only (short-break
    periods get None); a period of care starts on its first day not under V3/V4."""
    out: list[Period] = []
    for child, rows in eps.groupby("CHILD", sort=True):
        groups: list[list[dict]] = []
        for rec in rows.to_dict("records"):
            if not groups or rec["RNE"] == "S" or groups[-1][-1]["REC"] != "X1":
                groups.append([])
            groups[-1].append(rec)
        number = 0
        for episodes in groups:
            care = [e for e in episodes if _is_care(e)]
            if care:
                number += 1
                out.append(Period(child, number, care[0]["DECOM"], episodes[-1]["DEC"],
                                  episodes))
            else:
                out.append(Period(child, None, episodes[0]["DECOM"], episodes[-1]["DEC"],
                                  episodes))
    return out


def placements(periods: list[Period]) -> list[Placement]:
    """The placements of the periods of care (a short-break period has none)."""
    out: list[Placement] = []
    for per in periods:
        if per.is_short_break:
            continue
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
    first = episodes[0]
    return Placement(
        per.child, per.number, first["DECOM"], episodes[-1]["DEC"], first["PLACE"],
        first.get("PLACE_PROVIDER"), first.get("PL_POST"), first.get("URN"),
        [(e["DECOM"], e["DEC"]) for e in episodes if _is_care(e)],
    )


def _norm(v: str | None, *, postcode: bool = False) -> str | None:
    if v is None:
        return None
    v = str(v).strip().upper()
    if postcode:
        v = v.replace(" ", "")
    return v or None


def same_carer(a: Placement, b: Placement) -> bool:
    """Same provider and same postcode (903: PLACE_PROVIDER + PL_POST), or same URN."""
    prov_a, prov_b = _norm(a.provider), _norm(b.provider)
    post_a, post_b = _norm(a.postcode, postcode=True), _norm(b.postcode, postcode=True)
    if prov_a and post_a and (prov_a, post_a) == (prov_b, post_b):
        return True
    urn_a = _norm(a.urn)
    return urn_a is not None and urn_a == _norm(b.urn)


def merge_across_temporary(places: list[Placement]) -> list[Placement]:
    """One child's placements of one period, in start order: the non-temporary placements,
    a placement after a run of temporary ones merged into the one before the run when the
    carer is the same (section 7)."""
    out: list[Placement] = []
    run_of_temporary = False
    for pl in places:
        if pl.place in TEMPORARY:
            run_of_temporary = bool(out)  # a run needs a placement before it
            continue
        if run_of_temporary and same_carer(out[-1], pl):
            before = out[-1]
            out[-1] = Placement(
                before.child, before.period, before.start, pl.end, pl.place,
                pl.provider, pl.postcode, pl.urn, before.care_spans + pl.care_spans,
            )
        else:
            out.append(pl)
        run_of_temporary = False
    return out


# ---------------------------------------------------------------------------------------
# the measures, seen from one date (as_of = 31 March)
# ---------------------------------------------------------------------------------------
def _clip(end: dt.date | None, as_of: dt.date) -> dt.date | None:
    """Ends after as_of are treated as open."""
    return None if end is None or end > as_of else end


def _open_on(start: dt.date, end: dt.date | None, day: dt.date, as_of: dt.date) -> bool:
    """Span convention: start <= day < end; spans starting after as_of are ignored."""
    if start > as_of:
        return False
    end = _clip(end, as_of)
    return start <= day and (end is None or day < end)


def _overlaps(start: dt.date, end: dt.date | None, first: dt.date, last: dt.date,
              as_of: dt.date) -> bool:
    """The span is open on at least one day of [first, last] (last <= as_of)."""
    if start > as_of:
        return False
    end = _clip(end, as_of)
    return start <= last and (end is None or max(start, first) < end)


def _add_months(d: dt.date, months: int) -> dt.date:
    """Calendar-month arithmetic, clamped to month end (as PostgreSQL's interval)."""
    y, m = divmod(d.month - 1 + months, 12)
    y, m = d.year + y, m + 1
    last = (dt.date(y + (m == 12), m % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(y, m, min(d.day, last))


def _age_years(dob: dt.date, on: dt.date) -> int:
    return on.year - dob.year - ((on.month, on.day) < (dob.month, dob.day))


def legal_status_on(child_periods: list[Period], day: dt.date, as_of: dt.date) -> str | None:
    """LS of the child's latest-starting episode open on the day (seen from as_of)."""
    open_eps = [
        e for p in child_periods for e in p.episodes
        if _open_on(e["DECOM"], e["DEC"], day, as_of)
    ]
    return max(open_eps, key=lambda e: e["DECOM"])["LS"] if open_eps else None


def period_of_care_on(child_periods: list[Period], day: dt.date, as_of: dt.date
                      ) -> Period | None:
    """The latest-starting period of care open on the day (short-break periods are not)."""
    found = None
    for per in child_periods:
        if per.is_short_break or not _open_on(per.start, per.end, day, as_of):
            continue
        if found is None or per.start >= found.start:
            found = per
    return found


def looked_after_on(child_periods: list[Period], day: dt.date, as_of: dt.date
                    ) -> Period | None:
    """The period of care when the child is looked after on the day: one is open and the
    legal status that day is not V3/V4."""
    per = period_of_care_on(child_periods, day, as_of)
    if per is None or legal_status_on(child_periods, day, as_of) in SHORT_BREAKS:
        return None
    return per


def _by_child(periods: list[Period]) -> dict[str, list[Period]]:
    out: dict[str, list[Period]] = {}
    for per in periods:
        out.setdefault(per.child, []).append(per)
    return out


def _care_start(pl: Placement, as_of: dt.date) -> dt.date | None:
    starts = [s for s, _ in pl.care_spans if s <= as_of]
    return min(starts) if starts else None


@dataclass
class StabilityFigures:
    as_of: dt.date
    looked_after: int  # CLA on the day, V3/V4 left out (3+ placements denominator)
    three_plus_placements: int  # numerator
    long_term_denominator: int
    long_term_numerator: int


def counted_placements(child_places: list[Placement], as_of: dt.date, *,
                       count_temporary: bool = False) -> list[Placement]:
    """A child's placements of care as seen from as_of, in start order: started by as_of,
    with a care day by as_of, temporary ones left out (and merged across) unless counted."""
    seen = sorted((p for p in child_places if p.start <= as_of), key=lambda p: p.start)
    if not count_temporary:
        per_period: dict[int, list[Placement]] = {}
        for p in seen:
            per_period.setdefault(p.period, []).append(p)
        seen = sorted(
            (m for ps in per_period.values() for m in merge_across_temporary(ps)),
            key=lambda p: p.start,
        )
    return [p for p in seen if _care_start(p, as_of) is not None]


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
    window_first = _add_months(as_of, -lookback_months) + dt.timedelta(days=1)
    places_by_child: dict[str, list[Placement]] = {}
    for pl in places:
        places_by_child.setdefault(pl.child, []).append(pl)

    cla = n3 = ltd = ltn = 0
    for child, child_periods in sorted(_by_child(periods).items()):
        per = looked_after_on(child_periods, as_of, as_of)
        if per is None:
            continue
        cla += 1
        child_places = counted_placements(places_by_child.get(child, []), as_of,
                                          count_temporary=count_temporary)
        count = sum(
            any(_overlaps(s, e, window_first, as_of, as_of) for s, e in pl.care_spans)
            for pl in child_places
        )
        if count >= 3:
            n3 += 1

        born = dob.get(child)
        if born is None or _age_years(born, as_of) >= max_age:
            continue
        if per.start > _add_months(as_of, -care_months):
            continue
        ltd += 1
        in_period = [p for p in child_places if p.period == per.number]
        if not in_period:
            continue
        current = in_period[-1]
        current_start = _care_start(current, as_of)
        cutoff = _add_months(as_of, -placement_months)
        stable = current_start <= cutoff
        if not stable and current.place in ADOPTION and len(in_period) >= 2:
            prev = in_period[-2]
            prev_end = prev.end if prev.end is not None else current_start
            effective_start = current_start - (prev_end - _care_start(prev, as_of))
            stable = effective_start <= cutoff
        if stable:
            ltn += 1
    return StabilityFigures(as_of, cla, n3, ltd, ltn)


def _years(folder: Path) -> list[int]:
    """Every 31 March the returns cover (return YEAR covers YEAR-04-01..YEAR+1-03-31)."""
    first = min(_return_files(folder, "episodes"))[0]
    last = max(_return_files(folder, "episodes"))[0]
    return list(range(first + 1, last + 2))


def yearly_figures(
    folder: Path, years: list[int] | None = None,
    exclude: set[tuple[str, int]] | None = None, **kwargs
) -> list[StabilityFigures]:
    """Figures for 31 March of each year (default: every year-end the returns cover)."""
    eps = read_episodes(folder, exclude)
    pers = periods_of_care(eps)
    places = placements(pers)
    dob = read_dob(folder)
    years = years or _years(folder)
    return [stability_on(dt.date(y, 3, 31), pers, places, dob, **kwargs) for y in years]


# ---------------------------------------------------------------------------------------
# missing from care (section 8)
# ---------------------------------------------------------------------------------------
@dataclass
class MissingEpisode:
    child: str
    start: dt.date
    end: dt.date | None  # seen from as_of: None while open
    type: str  # M or A
    while_looked_after: bool
    days: int


def missing_episodes(mis: pd.DataFrame, periods: list[Period], as_of: dt.date
                     ) -> list[MissingEpisode]:
    """Every missing/away episode starting on or before as_of, seen from as_of."""
    by_child = _by_child(periods)
    out = []
    for rec in mis.to_dict("records"):
        start = rec["MIS_START"]
        if start > as_of:
            continue
        end = _clip(rec["MIS_END"], as_of)
        days = (end - start).days if end is not None else (as_of - start).days + 1
        la = looked_after_on(by_child.get(rec["CHILD"], []), start, as_of) is not None
        out.append(MissingEpisode(rec["CHILD"], start, end, rec["MISSING"], la, days))
    return out


@dataclass
class MissingFigures:
    year_end: dt.date  # 31 March closing the reporting year of the episodes' start
    missing_episodes: int  # type M, while looked after
    away_episodes: int  # type A, while looked after
    children: int  # distinct children with an M or A episode while looked after
    days_missing: int  # days of those episodes (seen from as_of)
    all_episodes: int  # every episode that started in the year, looked after or not


def year_end_of(d: dt.date) -> dt.date:
    """The 31 March closing the reporting year (1 April - 31 March) holding d."""
    return dt.date(d.year if d.month <= 3 else d.year + 1, 3, 31)


def missing_by_year(episodes: list[MissingEpisode], year_ends: list[dt.date]
                    ) -> list[MissingFigures]:
    out = []
    for ye in year_ends:
        year = [e for e in episodes if year_end_of(e.start) == ye]
        la = [e for e in year if e.while_looked_after]
        out.append(MissingFigures(
            ye,
            sum(e.type == "M" for e in la),
            sum(e.type == "A" for e in la),
            len({e.child for e in la}),
            sum(e.days for e in la),
            len(year),
        ))
    return out


def missing_by_month(episodes: list[MissingEpisode]) -> dict[tuple[str, dt.date], int]:
    """Per calendar month of the start (keyed by the month's first day), the counts of
    episodes while looked after and of distinct children with one (M or A, M, A); only the
    months with a count."""
    out: dict[tuple[str, dt.date], int] = {}
    months = sorted({e.start.replace(day=1) for e in episodes if e.while_looked_after})
    for m in months:
        la = [e for e in episodes if e.while_looked_after and e.start.replace(day=1) == m]
        counts = {
            "missing_episodes_while_looked_after": len(la),
            "cla_missing_or_away": len({e.child for e in la}),
            "cla_missing": len({e.child for e in la if e.type == "M"}),
            "cla_away": len({e.child for e in la if e.type == "A"}),
        }
        out.update({(k, m): v for k, v in counts.items() if v})
    return out


def yearly_missing(
    folder: Path, as_of: dt.date, years: list[int] | None = None,
    exclude: set[tuple[str, int]] | None = None,
    exclude_missing: set[tuple[str, int]] | None = None,
) -> list[MissingFigures] | None:
    """Missing-episode figures per reporting year, seen from as_of; None when the folder
    has no missing file (not available)."""
    mis = read_missing(folder, exclude_missing)
    if mis is None:
        return None
    pers = periods_of_care(read_episodes(folder, exclude))
    years = years or _years(folder)
    return missing_by_year(missing_episodes(mis, pers, as_of),
                           [dt.date(y, 3, 31) for y in years])


if __name__ == "__main__":  # pragma: no cover - a manual aid
    import sys

    folder = Path(sys.argv[1] if len(sys.argv) > 1 else
                  "/work/shared/samples/cs-demand-model/combined")
    print("as_of       CLA  3+plc  LT_den  LT_num")
    figures = yearly_figures(folder)
    for f in figures:
        print(f"{f.as_of}  {f.looked_after:4d}  {f.three_plus_placements:5d}  "
              f"{f.long_term_denominator:6d}  {f.long_term_numerator:6d}")
    print("year_end    M_LA  A_LA  children  days  all")
    for m in yearly_missing(folder, figures[-1].as_of) or []:
        print(f"{m.year_end}  {m.missing_episodes:4d}  {m.away_episodes:4d}  "
              f"{m.children:8d}  {m.days_missing:4d}  {m.all_episodes:3d}")
