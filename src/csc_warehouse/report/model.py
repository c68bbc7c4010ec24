"""What the page shows, computed: one view per KPI and section (built by
:mod:`csc_warehouse.report.build`, laid out by :mod:`csc_warehouse.report.render`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from csc_warehouse.report.catalogue import Kpi, Section
from csc_warehouse.report.figures import Status, TeamFigure, Trend

#: below this many cases the headline carries a small-numbers caution
SMALL_BASE = 20


def pct(value: float) -> str:
    """A rate as a percentage with one decimal: 0.125 -> "12.5%"."""
    return f"{value * 100:.1f}%"


def pct_axis(value: float) -> str:
    """An axis tick: no trailing ".0" (0.25 -> "25%", 0.125 -> "12.5%")."""
    text = f"{value * 100:.1f}"
    return (text[:-2] if text.endswith(".0") else text) + "%"


def points(value: float) -> str:
    return f"{value * 100:.1f} points"


@dataclass
class KpiView:
    kpi: Kpi
    available: bool
    reason: str = ""
    doc_href: str = ""
    doc_text: str = ""
    trend: Trend | None = None  # type: ignore[assignment]
    status: Status = field(default_factory=lambda: Status("none", "", "not available"))
    change: tuple[float, str] | None = None
    target_text: str = ""
    england_text: str = "no figure stored"
    england_short: str = ""
    chart: str = ""
    chart_caption: str = ""
    teams: list[TeamFigure] = field(default_factory=list)
    teams_chart: str = ""
    teams_note: str = ""
    threshold: int = 5
    num_head: str = "Numerator"
    den_head: str = "Denominator"

    @property
    def value_text(self) -> str:
        h = self.trend.headline if self.trend else None
        return pct(h.rate) if h and h.rate is not None else "-"

    @property
    def period_text(self) -> str:
        h = self.trend.headline if self.trend else None
        if h and h.end and h.label.endswith(" to date"):
            return f"{h.label} ({h.end:%-d %b %Y})"
        return h.label if h else ""

    @property
    def change_long(self) -> str:
        """"up 1.4 points on 12 months to Oct 2025 (worse)"."""
        if not self.change or not self.trend or not self.trend.previous:
            return ""
        diff, verdict = self.change
        before = self.trend.previous.label
        if verdict == "same":
            return f"no change on {before}"
        return (f"{'up' if diff > 0 else 'down'} {points(abs(diff))} on {before} "
                f"({verdict})")

    @property
    def change_short(self) -> str:
        """"▲ 1.4 pts, worse"."""
        if not self.change:
            return ""
        diff, verdict = self.change
        if verdict == "same":
            return "no change"
        return f"{'▲' if diff > 0 else '▼'} {abs(diff) * 100:.1f} pts, {verdict}"

    @property
    def england_cell(self) -> str:
        """The England figure for the at-a-glance table (HTML: the year on its own line)."""
        if not self.england_short:
            return "-"
        rate, _, year = self.england_short.partition(" ")
        return f'{rate}<br><span class="small">{year.strip("()")}</span>'

    @property
    def small_numbers(self) -> str:
        """A caution when the headline rests on few cases."""
        h = self.trend.headline if self.trend else None
        if not h or not h.denominator or h.denominator >= SMALL_BASE:
            return ""
        return (f"Small numbers: {h.denominator} in all, so one more or one fewer moves the "
                f"rate by {100 / h.denominator:.1f} points.")

    @staticmethod
    def fmt_or_dash(v: float | None) -> str:
        return "-" if v is None else pct(v)


@dataclass
class SectionView:
    section: Section
    kpis: list[KpiView]
    checks: list[tuple] = field(default_factory=list)
    checks_chart: str = ""
    checks_caption: str = ""
    teams_note: str = ""
    #: tonight's worklist sizes: the mart read, its teams, and per list (label, the
    #: authority's row, each team's row or None)
    worklist_mart: str = ""
    worklist_teams: list[str] = field(default_factory=list)
    worklist_rows: list[tuple] = field(default_factory=list)
    worklist_chart: str = ""
    worklist_caption: str = ""

    @property
    def any_available(self) -> bool:
        return any(k.available for k in self.kpis) or bool(self.checks)


@dataclass
class ReportView:
    title: str
    night: dt.date
    meta: str
    provenance: str
    sections: list[SectionView]
    sources: str
    citations: list[str]
