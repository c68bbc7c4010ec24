"""The report page: one self-contained HTML file (inline CSS and SVG, no script, no web
font, nothing fetched), readable on screen and printed to A4.

This module only lays out what :mod:`csc_warehouse.report.build` computed; it makes no
decision about the figures.
"""

from __future__ import annotations

from html import escape

from csc_warehouse.report import svg
from csc_warehouse.report.model import KpiView, ReportView, SectionView

RAG_WORDS = {"green": "Green", "amber": "Amber", "red": "Red", "none": "No status"}

CSS = """
:root { --ink:#1b1b1b; --muted:#505a5f; --line:#b1b4b6; --soft:#f3f2f1; --blue:#1d70b8;
  --green:#00703c; --amber:#b35c00; --red:#c3281e; --grey:#6f777b; }
* { box-sizing: border-box; }
html { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
  "Liberation Sans", sans-serif; color: var(--ink); line-height: 1.4; font-size: 15px; }
body { margin: 0 auto; max-width: 980px; padding: 20px 24px 48px; }
h1 { font-size: 1.75rem; margin: 0 0 4px; }
h2 { font-size: 1.3rem; margin: 32px 0 4px; padding-top: 8px; border-top: 3px solid var(--ink); }
h3 { font-size: 1.05rem; margin: 0; }
p { margin: 4px 0; }
a { color: var(--blue); }
.meta, .theme, .small { color: var(--muted); font-size: .9rem; }
table { border-collapse: collapse; width: 100%; font-size: .85rem; }
th, td { text-align: left; padding: 4px 6px; border-bottom: 1px solid var(--line);
  vertical-align: top; }
th { background: var(--soft); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.rag { display: inline-block; padding: 1px 8px; border-radius: 3px; font-weight: 700;
  font-size: .8rem; color: #fff; white-space: nowrap; }
.rag-green { background: var(--green); } .rag-amber { background: var(--amber); }
.rag-red { background: var(--red); } .rag-none { background: var(--grey); }
.na { color: var(--muted); font-style: italic; }
.caution { color: var(--amber); }
.tally { font-size: 1rem; margin: 6px 0 8px; }
.kpi { border: 1px solid var(--line); border-left: 6px solid var(--grey); padding: 12px 14px;
  margin: 14px 0; break-inside: avoid; page-break-inside: avoid; }
.kpi.rag-border-green { border-left-color: var(--green); }
.kpi.rag-border-amber { border-left-color: var(--amber); }
.kpi.rag-border-red { border-left-color: var(--red); }
.kpi.unavailable { background: var(--soft); padding: 8px 14px; }
.kpi-top { display: grid; grid-template-columns: 8.5rem 1fr; gap: 14px; margin: 6px 0; }
.headline .value { display: block; font-size: 2rem; font-weight: 700; line-height: 1.1; }
.headline .of { display: block; color: var(--muted); font-size: .85rem; }
.facts p { margin: 0 0 3px; font-size: .92rem; }
figure { margin: 10px 0 4px; }
figcaption { color: var(--muted); font-size: .8rem; }
svg.chart { width: 100%; height: auto; max-width: 640px; display: block; }
details { margin-top: 6px; font-size: .9rem; }
summary { cursor: pointer; color: var(--blue); }
.glance table { table-layout: fixed; }
.glance col.c-kpi { width: 34%; } .glance col.c-num { width: 8%; }
.glance col.c-period { width: 16%; } .glance col.c-change { width: 13%; }
.glance col.c-eng { width: 9%; } .glance col.c-rag { width: 12%; }
.glance .rag { font-size: .75rem; padding: 1px 6px; }
th.num { white-space: normal; }
.glance tr.group th { background: none; border-bottom: 1px solid var(--ink); padding-top: 10px; }
.glance tr.group a { color: var(--ink); text-decoration: none; }
.checks table { table-layout: fixed; } .checks col.c-check { width: 36%; }
.checks col.c-sev { width: 10%; } .checks col.c-n { width: 11%; }
.checks col.c-res { width: 10%; }
.worklists h3 { margin-top: 18px; }
.worklist-table th[scope=row] { background: none; font-weight: normal; }
.worklist-table tr.total th, .worklist-table tr.total td { border-bottom: 2px solid var(--ink); }
.legend { font-size: .8rem; color: var(--muted); }
@media print {
  @page { size: A4 portrait; margin: 12mm 12mm 14mm; }
  html { font-size: 10.5pt; }
  body { max-width: none; padding: 0; }
  h2 { break-after: avoid; page-break-after: avoid; margin-top: 14px; }
  .kpi { margin: 8px 0; padding: 8px 10px; }
  .kpi.unavailable { padding: 4px 10px; }
  svg.chart { max-width: 150mm; }
  details { display: none; }
  a { color: var(--ink); text-decoration: none; }
  .glance { break-inside: auto; }
  .glance tr { break-inside: avoid; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""


def _rag(rag: str, text: str = "") -> str:
    words = RAG_WORDS[rag]
    title = f' title="{escape(text)}"' if text else ""
    return f'<span class="rag rag-{rag}"{title}>{words}</span>'


def _glance(view: ReportView) -> str:
    rows = []
    for n, section in enumerate(view.sections, start=1):
        rows.append(f'<tr class="group"><th colspan="7" scope="colgroup">'
                    f'<a href="#{section.section.id}">{n}. {escape(section.section.title)}'
                    "</a></th></tr>")
        for k in section.kpis:
            link = f'<a href="#kpi-{k.kpi.id}">{escape(k.kpi.title)}</a>'
            if not k.available:
                rows.append(f'<tr><td>{link}</td><td class="na" colspan="6">not available '
                            "tonight</td></tr>")
                continue
            rows.append(
                f"<tr><td>{link}</td>"
                f'<td class="num"><strong>{escape(k.value_text)}</strong></td>'
                f'<td class="period">{escape(k.period_text)}</td>'
                f'<td class="change">{escape(k.change_short or "-")}</td>'
                f'<td class="num">{escape(k.target_text or "-")}</td>'
                f'<td class="num">{k.england_cell}</td>'
                f"<td>{_rag(k.status.rag, k.status.text)}</td></tr>")
    kpis = [k for sec in view.sections for k in sec.kpis]
    counts = {rag: sum(1 for k in kpis if k.available and k.status.rag == rag)
              for rag in ("green", "amber", "red", "none")}
    missing = sum(1 for k in kpis if not k.available)
    tally = (f'<p class="tally"><strong>{len(kpis) - missing} of {len(kpis)} KPIs</strong> '
             f"have a figure tonight: {_rag('green')} {counts['green']} "
             f"{_rag('amber')} {counts['amber']} {_rag('red')} {counts['red']}"
             + (f" {_rag('none')} {counts['none']}" if counts["none"] else "")
             + f"; {missing} not available tonight.</p>")
    return (
        '<section class="glance" aria-labelledby="glance-h">'
        f'<h2 id="glance-h">At a glance</h2>{tally}'
        '<p class="small">Each KPI\'s latest figure, its change on the same period a year '
        'before (▲ up, ▼ down; whether that is better depends on the KPI), and its status: '
        '<strong>green</strong> on or better than the local target (without a target, the '
        'England figure), <strong>amber</strong> just short of it, <strong>red</strong> '
        'further away.</p>'
        '<table><colgroup><col class="c-kpi"><col class="c-num"><col class="c-period">'
        '<col class="c-change"><col class="c-num"><col class="c-eng"><col class="c-rag">'
        '</colgroup><thead><tr><th scope="col">KPI</th>'
        '<th scope="col" class="num">Latest</th><th scope="col">Period</th>'
        '<th scope="col">On a year before</th><th scope="col" class="num">Target</th>'
        '<th scope="col" class="num">England</th><th scope="col">Status</th></tr></thead>'
        "<tbody>" + "".join(rows) + "</tbody></table></section>")


def _data_table(k: KpiView) -> str:
    head = ['<th scope="col">Period</th>', f'<th scope="col" class="num">{escape(k.num_head)}'
            '</th>', f'<th scope="col" class="num">{escape(k.den_head)}</th>',
            '<th scope="col" class="num">Rate</th>']
    if k.trend.rolling:
        head.append('<th scope="col" class="num">Rate, 12 months to the month</th>')
    body = []
    for label, num, den, rate, rolling in k.trend.table:
        cells = [f"<td>{escape(label)}</td>", f'<td class="num">{_n(num)}</td>',
                 f'<td class="num">{_n(den)}</td>', f'<td class="num">{k.fmt_or_dash(rate)}</td>']
        if k.trend.rolling:
            cells.append(f'<td class="num">{k.fmt_or_dash(rolling)}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (f"<details><summary>Data table: {escape(k.kpi.title)}</summary>"
            f"<table><thead><tr>{''.join(head)}</tr></thead><tbody>{''.join(body)}</tbody>"
            "</table></details>")


def _n(v: int | None) -> str:
    return "-" if v is None else f"{v:,}"


def _teams(k: KpiView) -> str:
    if k.teams_chart:
        rows = "".join(
            f"<tr><td>{escape(t.team)}</td>"
            + (f'<td class="num">{_n(t.figure.numerator)}</td><td class="num">'
               f'{_n(t.figure.denominator)}</td><td class="num">'
               f'{k.fmt_or_dash(t.figure.rate)}</td>' if t.figure else
               f'<td colspan="3" class="na">{escape(t.reason)}</td>')
            + "</tr>" for t in k.teams)
        return (f'<figure class="by-team">{k.teams_chart}<figcaption>By team, '
                f"{escape(k.period_text)}. Counts of 1 to {k.threshold - 1} are not shown "
                f"(small-number suppression, threshold {k.threshold}).</figcaption></figure>"
                f"<details><summary>Data table: by team</summary><table><thead><tr>"
                f'<th scope="col">Team</th><th scope="col" class="num">{escape(k.num_head)}'
                f'</th><th scope="col" class="num">{escape(k.den_head)}</th>'
                f'<th scope="col" class="num">Rate</th></tr></thead><tbody>{rows}</tbody>'
                "</table></details>")
    return (f'<p class="small by-team-na">By team: not available tonight '
            f"({escape(k.teams_note)}).</p>")


def _kpi(k: KpiView) -> str:
    kpi = k.kpi
    link = f'<a href="{escape(k.doc_href)}">{escape(k.doc_text)}</a>'
    definition = f'<p class="definition small">{escape(kpi.definition)} Definition: {link}.</p>'
    if not k.available:
        return (f'<article class="kpi unavailable" id="kpi-{kpi.id}" data-kpi="{kpi.id}" '
                f'data-available="false"><h3>{escape(kpi.title)}</h3>'
                f'<p class="not-available"><strong>Not available tonight</strong> '
                f'<span class="na">({escape(k.reason)})</span></p>{definition}</article>')
    h = k.trend.headline
    assert h is not None
    better = "higher is better" if kpi.better == "higher" else "lower is better"
    lines = [f"{_rag(k.status.rag)} {escape(k.status.text[:1].upper() + k.status.text[1:])}"
             f" ({better})."]
    if k.change_long:
        lines.append(escape(k.change_long[:1].upper() + k.change_long[1:]) + ".")
    lines.append(f"England: {escape(k.england_text)}.")
    if k.small_numbers:
        lines.append(f'<span class="caution">{escape(k.small_numbers)}</span>')
    return (
        f'<article class="kpi rag-border-{k.status.rag}" id="kpi-{kpi.id}" '
        f'data-kpi="{kpi.id}" data-available="true" data-numerator="{h.numerator}" '
        f'data-denominator="{h.denominator}" data-rate="{h.rate:.6f}" '
        f'data-period="{escape(k.period_text)}" data-status="{k.status.rag}">'
        f"<h3>{escape(kpi.title)}</h3>"
        f'<div class="kpi-top"><div class="headline"><span class="value">'
        f"{escape(k.value_text)}</span><span class=\"of\">{_n(h.numerator)} of "
        f"{_n(h.denominator)}</span></div>"
        f'<div class="facts"><p>{escape(kpi.counts[:1].upper() + kpi.counts[1:])}, '
        f"<strong>{escape(k.period_text)}</strong>.</p>"
        + "".join(f"<p>{line}</p>" for line in lines)
        + f"</div></div>{definition}"
        f"<figure>{k.chart}<figcaption>{escape(k.chart_caption)}</figcaption></figure>"
        f"{_teams(k)}{_data_table(k)}</article>")


def _completeness(s: SectionView) -> str:
    if not s.checks:
        return _worklists(s) if s.section.completeness else ""
    rows = "".join(
        f"<tr><td>{escape(c[0])}</td><td>{escape(c[1])}</td><td class=\"num\">{_n(c[2])}</td>"
        f'<td class="num"><strong>{_n(c[3])}</strong></td><td class="num">'
        f"{'-' if c[4] is None else f'{float(c[4]):.1f}%'}</td><td class=\"num\">"
        f"{'-' if c[5] is None else f'{float(c[5]):.0f}%'}</td>"
        f"<td>{'passed' if c[6] else '<strong>failed</strong>'}</td></tr>"
        for c in s.checks)
    chart = (f"<figure>{s.checks_chart}<figcaption>{escape(s.checks_caption)}</figcaption>"
             "</figure>") if s.checks_chart else ""
    return (f'<div class="checks"><h3>Every check tonight, with its worklist size</h3>{chart}'
            f'<table><colgroup><col class="c-check"><col class="c-sev"><col class="c-n">'
            f'<col class="c-n"><col class="c-n"><col class="c-n"><col class="c-res"></colgroup>'
            f'<thead><tr><th scope="col">Check</th><th scope="col">Severity</th>'
            f'<th scope="col" class="num">Records checked</th><th scope="col" class="num">'
            f'Failing (worklist size)</th><th scope="col" class="num">% passing</th>'
            f'<th scope="col" class="num">Threshold</th><th scope="col">Result</th></tr>'
            f"</thead><tbody>{rows}</tbody></table></div>{_worklists(s)}")


def _size(cell, threshold_text: str) -> str:
    if cell is None:
        return '<td class="num na">-</td>'
    if cell.suppressed or cell.children is None:
        return f'<td class="num na" title="{escape(threshold_text)}">*</td>'
    return f'<td class="num">{_n(cell.children)}</td>'


def _worklists(s: SectionView) -> str:
    if not s.worklist_rows:
        return (f'<div class="worklists"><h3>Worklist sizes by team</h3><p class="small '
                f'by-team-na">Not available tonight ({escape(s.teams_note)}).</p></div>')
    note = "fewer than the small-number threshold: not shown"
    head = "".join(f'<th scope="col" class="num">{escape(label)}</th>'
                   for label, _, _ in s.worklist_rows)
    total = ('<tr class="total"><th scope="row">All teams</th>' + "".join(
        f'<td class="num"><strong>{_n(t.children)}</strong></td>'
        for _, t, _ in s.worklist_rows) + "</tr>")
    body = "".join(
        f'<tr><th scope="row">{escape(team)}</th>'
        + "".join(_size(cells[i], note) for _, _, cells in s.worklist_rows) + "</tr>"
        for i, team in enumerate(s.worklist_teams))
    chart = (f"<figure>{s.worklist_chart}<figcaption>{escape(s.worklist_caption)}"
             "</figcaption></figure>") if s.worklist_chart else ""
    return (f'<div class="worklists"><h3>Worklist sizes by team</h3>{chart}'
            f'<table class="worklist-table"><thead><tr><th scope="col">Team (children on '
            f"each list tonight)</th>{head}</tr></thead><tbody>{total}{body}</tbody></table>"
            f'<p class="small">Children on each list by their current team. * a count of 1 '
            f"to the small-number threshold less one, not shown (and one more team when only "
            f"one would be hidden). Source: marts.{escape(s.worklist_mart)}.</p></div>")


def _section(n: int, s: SectionView) -> str:
    return (f'<section class="theme-section" id="{s.section.id}" '
            f'data-available="{str(s.any_available).lower()}" aria-labelledby="h-{s.section.id}">'
            f'<h2 id="h-{s.section.id}">{n}. {escape(s.section.title)}</h2>'
            f'<p class="theme">{escape(s.section.theme)}</p>'
            + "".join(_kpi(k) for k in s.kpis) + _completeness(s) + "</section>")


def render_html(view: ReportView) -> str:
    legend = (
        '<p class="legend">Charts: the blue line is the KPI (a gap means no figure for that '
        'period, never zero); <span style="color:' + svg.ENGLAND + '">dashed purple</span> is '
        'the England figure and <span style="color:' + svg.TARGET + '">dotted green</span> the '
        "local target. Monthly flows (step-downs, referrals, assessments) are shown as the rate "
        "over the 12 months to each month, so a single small month does not swing the line; "
        "counts of children in a month (missing) and snapshots (plans open, children waiting) "
        "show each month's own figure, never a sum of months. Every chart has its data "
        "table.</p>")
    return (
        "<!DOCTYPE html>\n<html lang=\"en-GB\"><head><meta charset=\"utf-8\">"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(view.title)}</title><style>{CSS}</style></head><body>"
        f'<header><h1>{escape(view.title)}</h1><p class="meta">{escape(view.meta)}</p>'
        f'<p class="meta">{escape(view.provenance)}</p></header><main>'
        f"{_glance(view)}{legend}"
        + "".join(_section(i, s) for i, s in enumerate(view.sections, start=1))
        + f'</main><footer><h2>Sources</h2><p class="small">{escape(view.sources)}</p>'
        f'<ul class="small">{"".join(f"<li>{escape(c)}</li>" for c in view.citations)}</ul>'
        "</footer></body></html>\n")
