"""From a KPI's published rows to what the report shows: the headline figure, the trend,
the by-team split (with small-number suppression) and the red/amber/green status.

Pure functions over :class:`~csc_warehouse.report.data.Row` lists (no database), so every
rule here is unit-tested by hand-worked cases. A rate is numerator / denominator of summed
counts (monthly rates are never averaged); a period without a denominator has no figure.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from csc_warehouse.report.data import Comparator, Row, is_total_team

ROLLING_MONTHS = 12
TREND_PERIODS = 36


@dataclass(frozen=True)
class Figure:
    """A rate over one period (or window): None when there is nothing to divide."""

    label: str
    numerator: int | None
    denominator: int | None
    #: the last period the figure covers
    end: dt.date | None = None

    @property
    def rate(self) -> float | None:
        if self.numerator is None or not self.denominator:
            return None
        return self.numerator / self.denominator


@dataclass(frozen=True)
class TeamFigure:
    team: str
    figure: Figure | None  # None: suppressed
    reason: str = ""


@dataclass(frozen=True)
class Status:
    """Red / amber / green against the target (else the England figure), or none."""

    rag: str  # green | amber | red | none
    basis: str  # "target" | "England" | ""
    text: str


def authority_rows(rows: Sequence[Row]) -> list[Row]:
    """One row per period for the whole authority: the mart's total rows, else the sum of
    its team rows (None when a team's counts in the period are suppressed)."""
    totals = [r for r in rows if is_total_team(r.team)]
    if totals:
        return sorted(totals, key=lambda r: r.period)
    by_period: dict[dt.date, list[Row]] = {}
    for r in rows:
        by_period.setdefault(r.period, []).append(r)
    out = []
    for period, group in sorted(by_period.items()):
        first = group[0]
        hidden = any(r.suppressed or r.numerator is None or r.denominator is None
                     for r in group)
        out.append(Row(period=period, label=first.label,
                       numerator=None if hidden else sum(r.numerator or 0 for r in group),
                       denominator=None if hidden else sum(r.denominator or 0 for r in group),
                       partial=first.partial, to_date=first.to_date, end=first.end))
    return out


def complete_rows(rows: Sequence[Row]) -> list[Row]:
    """The periods that are over (a partial month is left out; a year to date is kept)."""
    return [r for r in rows if not r.partial]


def shown_rows(rows: Sequence[Row], rule: str) -> list[Row]:
    """The periods a headline rule reads: every period for a snapshot (``night``), else
    the periods that are over."""
    return list(rows) if rule == "night" else complete_rows(rows)


def _snapshot_label(row: Row) -> str:
    """A month to date read as a snapshot: the date it describes, "27 Nov 2026"."""
    return f"{row.end:%-d %b %Y}" if row.end else row.label


def window(rows: Sequence[Row], end: int, months: int = ROLLING_MONTHS) -> Figure | None:
    """The rate over ``months`` consecutive monthly rows ending at index ``end``: None when
    fewer months exist or any of them has no published counts (not available)."""
    start = end - months + 1
    if start < 0:
        return None
    part = rows[start: end + 1]
    first, last = part[0].period, part[-1].period
    if (last.year - first.year) * 12 + last.month - first.month != months - 1:
        return None  # a month is missing from the mart: no honest 12-month figure
    if any(r.numerator is None or r.denominator is None for r in part):
        return None
    return Figure(label=f"12 months to {last.strftime('%b %Y')}",
                  numerator=sum(r.numerator or 0 for r in part),
                  denominator=sum(r.denominator or 0 for r in part), end=last)


@dataclass(frozen=True)
class Trend:
    """The headline, the figure a year before it and the chart's series."""

    headline: Figure | None
    previous: Figure | None
    points: list[Figure | None]
    labels: list[str]
    table: list[tuple[str, int | None, int | None, float | None, float | None]]
    rolling: bool


def trend(rows: Sequence[Row], rule: str, periods: int = TREND_PERIODS, *,
          monthly: bool = False) -> Trend:
    """The KPI's headline and trend from its authority rows (sorted by period).

    ``rolling_12``: each month's figure is the 12 months to it (the chart shows the last
    ``periods`` months); ``latest``: each period's own figure; ``night``: each period's own
    figure, the month to date included (a snapshot on as_of, e.g. plans open tonight, is
    as complete as it will be; it is labelled with its date).
    """
    done = shown_rows(rows, rule)
    if rule == "rolling_12":
        figures = [window(done, i) for i in range(len(done))]
        last = max((i for i, f in enumerate(figures) if f and f.rate is not None),
                   default=None)
        shown = range(max(0, len(done) - periods), len(done))
        headline = figures[last] if last is not None else None
        previous = figures[last - 12] if last is not None and last >= 12 else None
        table = [(done[i].label, done[i].numerator, done[i].denominator,
                  Figure("", done[i].numerator, done[i].denominator).rate,
                  figures[i].rate if figures[i] else None) for i in shown]
        return Trend(headline, previous, [figures[i] for i in shown],
                     [done[i].label for i in shown], table, rolling=True)
    own = [Figure(_snapshot_label(r) if r.partial else r.label, r.numerator, r.denominator,
                  r.end or r.period) for r in done]
    last = max((i for i, f in enumerate(own) if f.rate is not None), default=None)
    if rule == "night" and own and own[-1].rate is None:
        last = None  # a snapshot is tonight's or nothing: never an older night's figure
    shown = range(max(0, len(own) - periods), len(own))
    headline = own[last] if last is not None else None
    previous = next((own[i] for i in range(last - 1, -1, -1) if own[i].rate is not None),
                    None) if last is not None else None
    if monthly and last is not None:
        # a month's own figure is compared with the same month a year before (the
        # glance's "on a year before"), never with the month before it
        then = done[last].period.replace(year=done[last].period.year - 1)
        previous = next((own[i] for i, r in enumerate(done)
                         if r.period == then and own[i].rate is not None), None)
    table = [(own[i].label, own[i].numerator, own[i].denominator, own[i].rate, None)
             for i in shown]
    return Trend(headline, previous, [own[i] for i in shown], [own[i].label for i in shown],
                 table, rolling=False)


def suppress(figure: Figure, threshold: int) -> bool:
    """Small-number rule for by-team figures: a count of 1 to threshold - 1 in the numerator
    or the denominator is not shown."""
    return any(v is not None and 0 < v < threshold
               for v in (figure.numerator, figure.denominator))


def by_team(rows: Sequence[Row], rule: str, headline: Figure | None,
            threshold: int) -> list[TeamFigure]:
    """Each team's figure over the headline's period(s), suppressed by the mart's flag or
    the small-number rule."""
    teams = sorted({r.team for r in rows if not is_total_team(r.team)}, key=str)
    if not teams or headline is None or headline.end is None:
        return []
    done = shown_rows(rows, rule)
    periods = sorted({r.period for r in done if r.period <= headline.end})
    span = periods[-ROLLING_MONTHS:] if rule == "rolling_12" else periods[-1:]
    out = []
    for team in teams:
        mine = {r.period: r for r in done if r.team == team}
        cells = [mine[p] for p in span if p in mine]
        if any(c.suppressed or c.numerator is None or c.denominator is None for c in cells):
            out.append(TeamFigure(team, None, f"suppressed: fewer than {threshold}"))
            continue
        fig = Figure(headline.label, sum(c.numerator or 0 for c in cells),
                     sum(c.denominator or 0 for c in cells), headline.end)
        if suppress(fig, threshold):
            out.append(TeamFigure(team, None, f"suppressed: fewer than {threshold}"))
        elif not fig.denominator:
            out.append(TeamFigure(team, None, "none in the period"))
        else:
            out.append(TeamFigure(team, fig))
    return secondary_suppression(out, threshold)


def secondary_suppression(teams: list[TeamFigure], threshold: int) -> list[TeamFigure]:
    """When exactly one team is hidden for small numbers, hide the shown team with the next
    smallest denominator too, so that the authority's figure less the teams shown does not
    give the hidden team away (the rule of the *_suppressed marts,
    docs/measures/teams-and-trends.md#small-numbers)."""
    hidden = [t for t in teams if t.figure is None and t.reason.startswith("suppressed")]
    shown = [t for t in teams if t.figure is not None and t.figure.denominator]
    if len(hidden) != 1 or not shown:
        return teams
    victim = min(shown, key=lambda t: (t.figure.denominator, t.figure.numerator or 0, t.team))
    reason = "suppressed: would reveal a smaller team"
    return [TeamFigure(t.team, None, reason) if t is victim else t for t in teams]


def status(value: float | None, better: str, target: float | None, band: float,
           comparator: Comparator | None, fmt) -> Status:
    """Red/amber/green of ``value`` in the ``better`` direction: against the local target
    when one is set, else against the England figure; amber within ``band`` on the wrong
    side."""
    if value is None:
        return Status("none", "", "not available")
    if target is not None:
        basis, ref, name = "target", target, f"the target of {fmt(target)}"
    elif comparator is not None:
        basis, ref = "England", comparator.rate
        name = f"England's {fmt(comparator.rate)} ({comparator.year})"
    else:
        return Status("none", "", "no target set")
    gap = (value - ref) if better == "higher" else (ref - value)
    side = "below" if better == "higher" else "above"
    if gap >= -1e-12:
        return Status("green", basis, f"meets {name}" if abs(gap) < 1e-12 else
                      f"better than {name}")
    if gap >= -band - 1e-12:
        return Status("amber", basis, f"just {side} {name}")
    return Status("red", basis, f"{side} {name}")


def change(now: Figure | None, before: Figure | None, better: str) -> tuple[float, str] | None:
    """How the figure moved since ``before``: (difference, "better" | "worse" | "same"),
    or None when either has no figure."""
    if not now or not before or now.rate is None or before.rate is None:
        return None
    diff = now.rate - before.rate
    if abs(diff) < 0.0005:
        return diff, "same"
    return diff, "better" if (diff > 0) == (better == "higher") else "worse"
