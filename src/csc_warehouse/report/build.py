"""Build tonight's improvement report: read the published marts as ``cscw_bi``, compute
each KPI's figures, lay out the page, write it to ``CSCW_HOME/reports/<night>/`` and
``reports/latest/``."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from csc_warehouse.config import Settings, get_settings
from csc_warehouse.report import figures, svg
from csc_warehouse.report.catalogue import Catalogue, Kpi, Section, doc_anchor, load_catalogue
from csc_warehouse.report.data import (
    Comparator,
    MartReader,
    ReportDataError,
    connect_bi,
    is_total_team,
)
from csc_warehouse.report.model import KpiView, ReportView, SectionView, pct, pct_axis
from csc_warehouse.report.render import render_html

REPORT_FILE = "improvement-report.html"
UK = ZoneInfo("Europe/London")
TITLE = "Children's social care: improvement report"


@dataclass(frozen=True)
class ReportResult:
    night: dt.date
    path: Path
    latest: Path
    kpis_available: int
    kpis_total: int

    def as_dict(self) -> dict:
        return {"night": self.night.isoformat(), "path": str(self.path),
                "latest": str(self.latest), "kpis_available": self.kpis_available,
                "kpis_total": self.kpis_total}


def _doc_link(settings: Settings, kpi: Kpi) -> tuple[str, str]:
    anchor = doc_anchor(settings.project_root, kpi)
    href = (settings.project_root / kpi.doc_path).as_uri() + (f"#{anchor}" if anchor else "")
    text = kpi.doc_path + (f", \u201c{kpi.doc_heading}\u201d" if kpi.doc_heading else "")
    return href, text


def _x_title(grain: str, trend: figures.Trend, rule: str = "") -> str:
    first, last = trend.labels[0], trend.labels[-1]
    if rule == "night" and grain == "month":
        if first == last:
            return f"The night the figures describe: {last} (a snapshot; no trend yet)"
        return f"Month, {first} to {last} (each point: the month's last day, or the night)"
    if trend.rolling:
        return f"Month, {first} to {last} (each point: the 12 months to that month)"
    if grain == "year":
        return "Reporting year (1 April to 31 March); the last one is the year to date"
    if grain == "month":
        return f"Month, {first} to {last}"
    if first == last:
        return f"Night the figures describe: {last} (one published night so far)"
    return f"Night the figures describe, {first} to {last}"


def kpi_view(kpi: Kpi, reader: MartReader, catalogue: Catalogue,
             comparators: dict[str, Comparator], settings: Settings) -> KpiView:
    href, text = _doc_link(settings, kpi)
    view = KpiView(kpi=kpi, available=False, doc_href=href, doc_text=text,
                   threshold=catalogue.small_number_threshold)
    comparator = comparators.get(kpi.comparator) if kpi.comparator else None
    if comparator:
        view.england_text = (f"{pct(comparator.rate)} ({comparator.period}; "
                             f"{comparator.publication})")
        view.england_short = f"{pct(comparator.rate)} ({comparator.year})"
    else:
        view.england_text = "no published England figure is stored for this measure"
    target = catalogue.targets.get(kpi.id)
    view.target_text = pct(target.value) if target else ""
    availability = reader.availability(kpi)
    if not availability.available:
        view.reason = availability.reason
        return view
    rows = reader.rows(kpi)
    grain = reader.grain(kpi.mart)
    rule = catalogue.headline_rule(kpi, grain)
    trend = figures.trend(figures.authority_rows(rows), rule, monthly=grain == "month")
    if trend.headline is None or trend.headline.rate is None:
        view.reason = "no period has a figure"
        if rule == "night" and trend.labels:
            view.reason = (f"nothing to measure on {trend.labels[-1]}: none of the "
                           f"{kpi.counts} on the night")
        return view
    view.available = True
    view.trend = trend
    view.num_head = "Counted"
    view.den_head = kpi.counts[:1].upper() + kpi.counts[1:]
    view.status = figures.status(trend.headline.rate, kpi.better,
                                 target.value if target else None,
                                 target.amber_band if target else 0.0, comparator, pct)
    view.change = figures.change(trend.headline, trend.previous, kpi.better)
    refs = []
    if comparator:
        refs.append(svg.RefLine(f"England {comparator.year}", comparator.rate, "england"))
    if target:
        refs.append(svg.RefLine("Target", target.value, "target"))
    chart_points = [svg.Point(label, f.rate if f else None,
                              f"{f.numerator} of {f.denominator}" if f else "")
                    for label, f in zip(trend.labels, trend.points, strict=True)]
    shown = [p.value for p in chart_points if p.value is not None]
    if shown:
        desc = (f"{len(chart_points)} periods from {trend.labels[0]} to {trend.labels[-1]}; "
                f"latest {view.value_text} ({view.period_text}); lowest {pct(min(shown))}, "
                f"highest {pct(max(shown))}.")
        if target:
            desc += f" Target {pct(target.value)}."
        if comparator:
            desc += f" England {pct(comparator.rate)} ({comparator.year})."
        view.chart = svg.line_chart(
            f"chart-{kpi.id}", chart_points, title=f"{kpi.title}: trend", desc=desc,
            y_title=f"% of {kpi.counts}", x_title=_x_title(grain, trend, rule),
            fmt=pct_axis, refs=refs, y_cap=1.0)
        span = trend.labels[0] if len(trend.labels) == 1 else \
            f"{trend.labels[0]} to {trend.labels[-1]}"
        view.chart_caption = (f"{kpi.title}, {span}. "
                              + ("Gaps are periods with no figure. " if None in
                                 [p.value for p in chart_points] else "")
                              + "Source: marts." + kpi.mart + ".")
    if reader.has_team(kpi.mart):
        view.teams = figures.by_team(rows, rule, trend.headline,
                                     catalogue.small_number_threshold)
        if view.teams and all(t.figure is None for t in view.teams):
            view.teams_note = (f"every team's counts are below "
                               f"{catalogue.small_number_threshold} and not shown")
            view.teams = []
        elif view.teams:
            bars = [svg.Bar(t.team, t.figure.rate if t.figure else None, t.reason)
                    for t in view.teams]
            view.teams_chart = svg.bar_chart(
                f"teams-{kpi.id}", bars, title=f"{kpi.title}: by team",
                desc=f"{kpi.title} by team, {view.period_text}.",
                x_title=f"% of {kpi.counts}, {view.period_text}", fmt=pct_axis,
                refs=[svg.RefLine("Target", target.value, "target")] if target else [])
        else:
            view.teams_note = f"marts.{kpi.mart} has no team rows for the period"
    else:
        view.teams_note = f"marts.{kpi.mart} has no team rows yet"
    return view


def section_view(section: Section, reader: MartReader, catalogue: Catalogue,
                 comparators: dict[str, Comparator], settings: Settings,
                 night: dt.date) -> SectionView:
    view = SectionView(section=section, kpis=[
        kpi_view(k, reader, catalogue, comparators, settings) for k in section.kpis])
    if section.completeness:
        checks = reader.completeness(section.completeness, night)
        warnings = [c for c in checks if c[1] != "critical"]
        critical = [c for c in checks if c[1] == "critical"]
        view.checks = list(warnings)
        if critical:
            passed = sum(1 for c in critical if c[6])
            view.checks.append((f"{len(critical)} critical checks (keys, references, "
                                "overlaps; a failing one stops publishing)", "critical",
                                sum(c[2] or 0 for c in critical),
                                sum(c[3] or 0 for c in critical), None, None,
                                passed == len(critical)))
        bars = [svg.Bar(c[0].split(": ", 1)[-1], None if c[4] is None else float(c[4]) / 100,
                        "nothing to check") for c in warnings]
        if bars:
            view.checks_chart = svg.bar_chart(
                f"checks-{section.id}", bars, title="Record completeness tonight",
                desc="; ".join(f"{c[0]}: {c[4]}% of {c[2]} records pass, {c[3]} on the "
                               "worklist" for c in warnings),
                x_title=f"% of records passing the check, night of {night:%-d %b %Y}",
                fmt=pct_axis, max_value=1.0, max_label_chars=48)
            view.checks_caption = (f"Record completeness checks (warnings) on "
                                   f"{night:%-d %b %Y}. Source: marts.{section.completeness}.")
        worklists(view, reader, night)
    return view


def worklist_label(name: str) -> str:
    """wl_current_location_unknown -> "current location unknown"."""
    return name.removeprefix("wl_").replace("_", " ")


def worklists(view: SectionView, reader: MartReader, night: dt.date) -> None:
    """Tonight's worklist sizes: the authority's per list (a chart) and per team (a table,
    small numbers suppressed by the mart)."""
    mart, sizes = reader.worklist_sizes()
    if not mart:
        view.teams_note = "marts.mart_worklist_sizes_suppressed is not published tonight"
        return
    view.worklist_mart = mart
    totals = {s.worklist: s for s in sizes if is_total_team(s.team)}
    view.worklist_teams = sorted({s.team for s in sizes if not is_total_team(s.team)})
    cells = {(s.worklist, s.team): s for s in sizes}
    for name in sorted(totals):
        view.worklist_rows.append(
            (worklist_label(name), totals[name],
             [cells.get((name, t)) for t in view.worklist_teams]))
    bars = [svg.Bar(worklist_label(n), float(totals[n].children or 0)) for n in sorted(totals)]
    if bars and any(b.value for b in bars):
        view.worklist_chart = svg.bar_chart(
            f"worklists-{view.section.id}", bars, title="Children on each worklist tonight",
            desc="; ".join(f"{worklist_label(n)}: {totals[n].children} children, "
                           f"{totals[n].list_rows} rows" for n in sorted(totals)),
            x_title=f"Children on the list (count), night of {night:%-d %b %Y}",
            fmt=lambda v: f"{v:,.0f}", max_label_chars=48, whole=True)
        view.worklist_caption = (f"Children on each worklist, whole authority, "
                                 f"{night:%-d %b %Y}. Source: marts.{mart}.")
    elif not totals:
        view.teams_note = f"marts.{mart} has no rows tonight"


def build_view(reader: MartReader, catalogue: Catalogue, settings: Settings,
               night: dt.date, published_at: dt.datetime | None) -> ReportView:
    comparators = reader.comparators()
    sections = [section_view(s, reader, catalogue, comparators, settings, night)
                for s in catalogue.sections]
    now = dt.datetime.now(UK).strftime("%-d %b %Y at %H:%M")
    used = {k.comparator for k in catalogue.kpis if k.comparator}
    titles = {k.comparator: k.title for k in catalogue.kpis if k.comparator}
    citations = [f"{titles[key]}, England: {pct(c.rate)} ({c.period}). {c.citation}."
                 for key, c in sorted(comparators.items()) if key in used]
    if not comparators:
        citations = ["No England figures are published with tonight's marts "
                     "(marts.dim_england_comparators is not there)."]
    return ReportView(
        title=TITLE,
        night=night,
        meta=(f"Figures for the night of {night:%-d %B %Y}"
              + (f", published {published_at.astimezone(UK):%-d %b %Y at %H:%M} (UK time)"
                 if published_at else "")
              + f". Report generated {now}."),
        provenance=("Read from the published marts only, logged in as cscw_bi (the role BI "
                    "tools use): it shows nothing a BI tool could not see. Counts only; no "
                    "child is identifiable."),
        sections=sections,
        sources=("Local targets: config/targets.yml (set by the authority). England figures: "
                 "the dbt seed england_comparators, each with its year and publication; a "
                 "KPI without one says so. Definitions: docs/measures/."),
        citations=citations,
    )


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def render_report(settings: Settings | None = None, night: dt.date | None = None,
                  owner_url: str | None = None) -> ReportResult:
    """Render the report of the published night; ``night`` (when given) must be it."""
    settings = settings or get_settings()
    if owner_url is None:
        from csc_warehouse.warehouse import warehouse_url

        owner_url = warehouse_url(settings)
    catalogue = load_catalogue(settings)
    conn = connect_bi(settings, owner_url)
    try:
        reader = MartReader(conn, catalogue)
        published, published_at = reader.published_night()
        if night is not None and night != published:
            raise ReportDataError(
                f"the published marts describe {published}, not {night}: a report can only "
                f"be rendered for the night that is published (run that night again first)")
        view = build_view(reader, catalogue, settings, published, published_at)
    finally:
        conn.close()
    html = render_html(view)
    path = settings.reports / published.isoformat() / REPORT_FILE
    latest = settings.reports / "latest" / REPORT_FILE
    _write(path, html)
    latest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, latest.with_name(f".{REPORT_FILE}.tmp"))
    os.replace(latest.with_name(f".{REPORT_FILE}.tmp"), latest)
    kpis = [k for s in view.sections for k in s.kpis]
    return ReportResult(night=published, path=path, latest=latest,
                        kpis_available=sum(k.available for k in kpis), kpis_total=len(kpis))
