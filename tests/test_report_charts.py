"""The improvement report's pure parts, by hand-worked cases: the SVG charts, the figures
(rolling 12 months, headline, by team with suppression, red/amber/green) and the
catalogue. No database, no browser."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from csc_warehouse.config import get_settings
from csc_warehouse.report import figures, svg
from csc_warehouse.report.catalogue import (
    CatalogueError,
    doc_anchor,
    github_slug,
    load_catalogue,
    small_number_threshold,
)
from csc_warehouse.report.data import Comparator, Row, kpi_row
from csc_warehouse.report.model import KpiView, pct, pct_axis

NS = {"s": "http://www.w3.org/2000/svg"}
REPO = Path(__file__).resolve().parents[1]


def _parse(text: str) -> ET.Element:
    return ET.fromstring(text)


# --- axes --------------------------------------------------------------------------------
@pytest.mark.parametrize(("values", "cap", "expected"), [
    ([0.35], None, (0.4, 0.1)),          # 5 steps of 0.1 would overshoot: 4 of 0.1
    ([1.0], 1.0, (1.0, 0.2)),            # a 100% rate: the axis stops at 100%, not 200%
    ([0.0667], 1.0, (0.08, 0.02)),
    ([None, 0.0], 1.0, (1.0, 0.2)),      # nothing above 0: a plain 0-100% axis
    ([12.0], None, (12.5, 2.5)),         # 5 steps of 2.5
    ([0.9, 1.2], 1.0, (1.25, 0.25)),     # a value above the cap keeps the axis honest
])
def test_nice_axis(values, cap, expected):
    top, step = svg.nice_axis(values, cap=cap)
    assert (round(top, 6), round(step, 6)) == expected


@pytest.mark.parametrize(("values", "expected"), [
    ([1], (1.0, 1.0)), ([0, 0], (1.0, 1.0)), ([7], (8.0, 2.0)), ([12], (12.0, 3.0)),
    ([40], (40.0, 10.0))])
def test_nice_axis_for_counts_has_whole_steps(values, expected):
    top, step = svg.nice_axis(values, whole=True)
    assert (top, step) == expected
    assert all(t == int(t) for t in svg.ticks(top, step))


def test_ticks_end_on_the_top():
    assert [round(t, 6) for t in svg.ticks(0.4, 0.1)] == [0, 0.1, 0.2, 0.3, 0.4]
    assert [round(t, 6) for t in svg.ticks(1.0, 0.3)] == [0, 0.3, 0.6, 0.9, 1.0]


def test_visible_labels_never_overlap_and_keep_the_latest():
    labels = [dt.date(2023 + (10 + m) // 12, (10 + m) % 12 + 1, 1).strftime("%b %Y")
              for m in range(36)]
    xs = [40 + 500 * i / 35 for i in range(36)]
    widths = [svg.text_width(t) for t in labels]
    kept = svg.visible_labels(xs, widths, 0, 640)
    assert kept[-1] == 35 and 4 <= len(kept) < 36
    spans = [(xs[i] - widths[i] / 2, xs[i] + widths[i] / 2) for i in kept]
    assert all(a[1] + 8 <= b[0] + 1e-9 for a, b in zip(spans, spans[1:], strict=False))


def test_reference_labels_are_moved_apart():
    placed = svg._place_labels([100.0, 103.0, 50.0], 13, 20, 200)
    assert placed[2] == 50.0 and placed[1] - placed[0] >= 13


# --- line chart --------------------------------------------------------------------------
def _points(values):
    return [svg.Point(f"P{i}", v, f"{i} of 10") for i, v in enumerate(values)]


def test_line_chart_has_text_alternative_axes_and_gaps():
    out = svg.line_chart("c1", _points([0.1, 0.2, None, 0.4, 0.3]), title="T", desc="D",
                         y_title="% of referrals", x_title="Month, Jan to May",
                         fmt=pct_axis, refs=[svg.RefLine("England 2024", 0.25, "england"),
                                             svg.RefLine("Target", 0.26, "target")],
                         y_cap=1.0)
    root = _parse(out)
    assert root.get("role") == "img"
    tid, did = root.get("aria-labelledby").split()
    assert root.find(f"s:title[@id='{tid}']", NS).text == "T"
    assert root.find(f"s:desc[@id='{did}']", NS).text == "D"
    texts = [t.text for t in root.iter(f"{{{NS['s']}}}text")]
    assert "% of referrals" in texts and "Month, Jan to May" in texts
    assert "0%" in texts and "40%" in texts  # 0 to 40% in steps of 10%
    assert "England 2024 25%" in texts and "Target 26%" in texts
    # the gap splits the line: two paths, four points (no point drawn at 0 for the gap)
    assert len(root.findall("s:path[@class='series']", NS)) == 2
    circles = root.findall("s:circle[@class='point']", NS)
    assert len(circles) == 4
    # the latest figure is written next to its point
    assert root.find("s:text[@class='latest']", NS).text == "30%"
    # England's and the target's labels, 1 point apart, do not overlap
    ys = sorted(float(t.get("y")) for t in root.iter(f"{{{NS['s']}}}text")
                if t.text and t.text.startswith(("England", "Target")))
    assert ys[1] - ys[0] >= svg.FONT_PX


def test_line_chart_point_heights_are_proportional():
    root = _parse(svg.line_chart("c2", _points([0.0, 0.5, 1.0]), title="T", desc="D",
                                 y_title="y", x_title="x", fmt=pct_axis, y_cap=1.0))
    ys = [float(c.get("cy")) for c in root.findall("s:circle", NS)]
    assert ys[0] > ys[1] > ys[2]
    assert abs((ys[0] - ys[1]) - (ys[1] - ys[2])) < 0.2


def test_line_chart_refuses_a_series_without_figures():
    with pytest.raises(ValueError, match="not available"):
        svg.line_chart("c3", _points([None, None]), title="T", desc="D", y_title="y",
                       x_title="x", fmt=pct_axis)


def test_line_chart_with_one_period():
    root = _parse(svg.line_chart("c4", [svg.Point("27 Nov 2026", 0.9)], title="T", desc="D",
                                 y_title="y", x_title="x", fmt=pct_axis, y_cap=1.0))
    assert len(root.findall("s:circle", NS)) == 1


def test_line_chart_escapes_text():
    out = svg.line_chart("c5", [svg.Point("<b>", 0.5)], title="a & b", desc="<x>",
                         y_title="y", x_title="x", fmt=pct_axis)
    root = _parse(out)  # well-formed XML
    assert root.find("s:title", NS).text == "a & b"


# --- bar chart ---------------------------------------------------------------------------
def test_bar_chart_widths_and_suppressed_rows():
    out = svg.bar_chart("b1", [svg.Bar("Team A", 0.5), svg.Bar("Team B", None,
                                                                "suppressed: fewer than 5"),
                               svg.Bar("Team C", 1.0)],
                        title="T", desc="D", x_title="% of referrals", fmt=pct_axis,
                        max_value=1.0)
    root = _parse(out)
    rects = root.findall("s:rect[@class='bar']", NS)
    assert len(rects) == 2  # no bar (and no zero) for the suppressed team
    assert abs(float(rects[1].get("width")) - 2 * float(rects[0].get("width"))) < 0.2
    assert root.find("s:text[@class='no-figure']", NS).text == "suppressed: fewer than 5"
    texts = [t.text for t in root.iter(f"{{{NS['s']}}}text")]
    assert "100%" in texts and "% of referrals" in texts


def test_bar_chart_truncates_long_labels_but_keeps_them_in_the_tooltip():
    long = "x" * 80
    root = _parse(svg.bar_chart("b2", [svg.Bar(long, 0.2)], title="T", desc="D",
                                x_title="x", fmt=pct_axis, max_label_chars=20))
    label = next(t for t in root.iter(f"{{{NS['s']}}}text") if t.find("s:title", NS) is not None)
    assert label.find("s:title", NS).text == long
    assert len("".join(label.itertext())) < 110


# --- figures -----------------------------------------------------------------------------
def _month_rows(pairs, start=dt.date(2024, 1, 1), team=None, partial_last=False):
    rows = []
    for i, (n, d) in enumerate(pairs):
        y, m = divmod(start.month - 1 + i, 12)
        period = dt.date(start.year + y, m + 1, 1)
        rows.append(Row(period, period.strftime("%b %Y"), n, d, team=team,
                        partial=partial_last and i == len(pairs) - 1))
    return rows


def test_rolling_12_headline_sums_counts_and_leaves_the_partial_month_out():
    # 25 complete months of 1 of 4, then month 26 partial (9 of 9, must not count)
    pairs = [(1, 4)] * 12 + [(2, 4)] * 13 + [(9, 9)]
    t = figures.trend(_month_rows(pairs, partial_last=True), "rolling_12")
    assert t.headline.label == "12 months to Jan 2026"
    assert (t.headline.numerator, t.headline.denominator) == (24, 48)
    assert t.previous.label == "12 months to Jan 2025"
    assert (t.previous.numerator, t.previous.denominator) == (13, 48)
    assert t.points[10] is None and t.points[11].rate == 12 / 48  # first full window
    assert t.rolling and len(t.points) == 25


def test_rolling_window_with_a_month_without_counts_has_no_figure():
    pairs = [(1, 4)] * 11 + [(None, None)] + [(1, 4)]
    rows = _month_rows(pairs)
    assert figures.window(rows, 11) is None
    assert figures.window(rows, 12) is None
    # a month missing from the mart: no 12-month figure across the hole
    holed = _month_rows([(1, 4)] * 13)
    del holed[5]
    assert figures.window(holed, 11) is None


def test_latest_headline_for_a_yearly_mart():
    rows = [Row(dt.date(2025, 3, 31), "2024-25", 1, 4), Row(dt.date(2026, 3, 31), "2025-26",
                                                            0, 0),
            Row(dt.date(2026, 11, 27), "2026-27 to date", 2, 5, to_date=True)]
    t = figures.trend(rows, "latest")
    assert t.headline.label == "2026-27 to date" and t.headline.rate == 0.4
    assert t.previous.label == "2024-25"  # 2025-26 has no figure (0 of 0)
    assert [f.rate for f in t.points] == [0.25, None, 0.4]


def test_authority_rows_sum_teams_and_a_suppressed_team_hides_the_total():
    a = _month_rows([(1, 5), (2, 6)], team="North")
    b = _month_rows([(3, 7), (4, 8)], team="South")
    total = figures.authority_rows(a + b)
    assert [(r.numerator, r.denominator) for r in total] == [(4, 12), (6, 14)]
    b[1] = Row(b[1].period, b[1].label, None, None, team="South", suppressed=True)
    total = figures.authority_rows(a + b)
    assert (total[1].numerator, total[1].denominator) == (None, None)
    # the mart's own authority rows win over summing teams
    own = _month_rows([(9, 20), (9, 20)], team="all")
    assert [r.numerator for r in figures.authority_rows(a + own)] == [9, 9]


@pytest.mark.parametrize(("n", "d", "shown"), [(4, 40, False), (5, 40, True), (0, 4, False),
                                               (0, 5, True), (5, 5, True)])
def test_by_team_suppression_at_the_threshold(n, d, shown):
    rows = _month_rows([(n, d)], dt.date(2026, 3, 31), team="North")
    rows = [Row(r.period, "2025-26", r.numerator, r.denominator, team="North") for r in rows]
    headline = figures.Figure("2025-26", n, d, rows[0].period)
    (team,) = figures.by_team(rows, "latest", headline, threshold=5)
    assert (team.figure is not None) is shown
    if not shown:
        assert team.reason == "suppressed: fewer than 5"


def test_by_team_honours_the_marts_suppression_flag():
    rows = [Row(dt.date(2026, 3, 31), "2025-26", 50, 60, team="North", suppressed=True)]
    headline = figures.Figure("2025-26", 50, 60, dt.date(2026, 3, 31))
    (team,) = figures.by_team(rows, "latest", headline, threshold=5)
    assert team.figure is None


def test_by_team_rolling_12_sums_the_headline_months():
    north = _month_rows([(1, 10)] * 14, team="North")
    headline = figures.Figure("12 months to Feb 2025", 0, 0, dt.date(2025, 2, 1))
    (team,) = figures.by_team(north, "rolling_12", headline, threshold=5)
    assert (team.figure.numerator, team.figure.denominator) == (12, 120)


ENGLAND = Comparator("m", 0.68, 1, 2, 2024, "year ending 31 March 2024", "DfE", "c")


@pytest.mark.parametrize(("value", "better", "target", "band", "comparator", "rag"), [
    (0.96, "higher", 0.95, 0.05, None, "green"),
    (0.95, "higher", 0.95, 0.05, None, "green"),
    (0.91, "higher", 0.95, 0.05, None, "amber"),
    (0.89, "higher", 0.95, 0.05, None, "red"),
    (0.14, "lower", 0.15, 0.05, None, "green"),
    (0.19, "lower", 0.15, 0.05, None, "amber"),
    (0.21, "lower", 0.15, 0.05, None, "red"),
    (0.70, "higher", None, 0.05, ENGLAND, "green"),  # no target: judged against England
    (0.60, "higher", None, 0.05, ENGLAND, "red"),
    (0.60, "higher", None, 0.05, None, "none"),
    (None, "higher", 0.95, 0.05, ENGLAND, "none"),
])
def test_status(value, better, target, band, comparator, rag):
    s = figures.status(value, better, target, band, comparator, pct)
    assert s.rag == rag
    if target is None and comparator is not None:
        assert s.basis == "England" and "68.0%" in s.text


def test_change_direction_and_verdict():
    now, before = figures.Figure("a", 3, 10), figures.Figure("b", 2, 10)
    assert figures.change(now, before, "lower") == pytest.approx((0.1, "worse"))
    assert figures.change(now, before, "higher")[1] == "better"
    assert figures.change(now, figures.Figure("b", 0, 0), "higher") is None


# --- rows of the long KPI shape ----------------------------------------------------------
def _long(period_start, period_end, complete, n, d, grain, team="all"):
    """A row as MartReader reads it: (period_start, period_end, team, is_complete_period,
    is_suppressed, numerator, denominator)."""
    return kpi_row(period_start, period_end, team, complete, None, n, d, grain=grain)


def test_a_month_not_over_is_left_out_of_the_rolling_12_headline():
    # as_of 2026-11-20: Nov 2025 .. Oct 2026 complete with 1 of 4 each; Nov 2026 to date
    # with 9 of 9, which must count neither into the headline nor into the chart
    months = [dt.date(2025 + (10 + i) // 12, (10 + i) % 12 + 1, 1) for i in range(13)]
    rows = [_long(m, m, True, 1, 4, "month") for m in months[:-1]]
    rows.append(_long(months[-1], dt.date(2026, 11, 20), False, 9, 9, "month"))
    assert rows[-1].partial and not rows[-1].to_date and rows[-1].label == "Nov 2026"
    assert not rows[0].partial and rows[0].label == "Nov 2025"
    t = figures.trend(figures.authority_rows(rows), "rolling_12")
    assert t.headline.label == "12 months to Oct 2026"
    assert (t.headline.numerator, t.headline.denominator) == (12, 48)
    assert t.labels[-1] == "Oct 2026" and len(t.points) == 12


def test_a_year_to_date_is_the_latest_headline_labelled_to_date():
    rows = [_long(dt.date(2024, 4, 1), dt.date(2025, 3, 31), True, 3, 10, "year"),
            _long(dt.date(2025, 4, 1), dt.date(2026, 3, 31), True, 4, 10, "year"),
            _long(dt.date(2026, 4, 1), dt.date(2026, 11, 20), False, 1, 5, "year")]
    assert [r.label for r in rows] == ["2024-25", "2025-26", "2026-27 to date"]
    assert rows[-1].to_date and not rows[-1].partial
    t = figures.trend(figures.authority_rows(rows), "latest")
    assert (t.headline.numerator, t.headline.denominator) == (1, 5)
    assert t.headline.end == dt.date(2026, 11, 20)
    assert (t.previous.numerator, t.previous.denominator) == (4, 10)
    view = KpiView(kpi=None, available=True, doc_href="", doc_text="", trend=t)
    assert view.period_text == "2026-27 to date (20 Nov 2026)"


def test_team_rows_of_the_long_shape_split_the_authoritys_figure():
    m = dt.date(2026, 3, 1)
    rows = [_long(m, m, True, 6, 20, "year"), _long(m, m, True, 5, 12, "year", "North"),
            kpi_row(m, m, "South", True, True, None, None, grain="year")]
    t = figures.trend(figures.authority_rows(rows), "latest")
    assert (t.headline.numerator, t.headline.denominator) == (6, 20)  # the `all` row
    teams = {t.team: t for t in figures.by_team(rows, "latest", t.headline, threshold=5)}
    assert teams["South"].figure is None and teams["South"].reason.startswith("suppressed")
    # South alone hidden: 6 of 20 less North's 5 of 12 would give it away, so North goes too
    assert teams["North"].figure is None
    assert teams["North"].reason == "suppressed: would reveal a smaller team"
    east = _long(m, m, True, 9, 30, "year", "East")
    teams = {t.team: t for t in figures.by_team(rows + [east], "latest", t.headline, 5)}
    # the shown team with the smallest denominator (North, 12) is hidden, East (30) stays
    assert teams["North"].figure is None and teams["East"].figure.denominator == 30


def test_secondary_suppression_only_when_exactly_one_team_is_hidden():
    def team(name, n, d):
        return figures.TeamFigure(name, figures.Figure("x", n, d) if n is not None else None,
                                  "suppressed: fewer than 5" if n is None else "")
    two_hidden = [team("A", None, None), team("B", None, None), team("C", 9, 30)]
    assert figures.secondary_suppression(two_hidden, 5) == two_hidden
    none_hidden = [team("A", 5, 10), team("B", 6, 12)]
    assert figures.secondary_suppression(none_hidden, 5) == none_hidden
    # a team with nothing in the period (0 of 0) reveals nothing and is not the one hidden
    one = [team("A", None, None), team("B", 0, 0), team("C", 7, 40), team("D", 6, 25)]
    out = {t.team: t for t in figures.secondary_suppression(one, 5)}
    assert out["D"].figure is None and out["C"].figure is not None
    assert out["B"].figure is not None


def test_latest_headline_of_a_monthly_distinct_child_series_is_never_a_sum():
    """Children missing in a month count distinct children: months are not added up. The
    headline is the latest complete month's own figure; the partial month is left out."""
    pairs = [(2, 40)] * 11 + [(3, 42), (5, 41), (9, 9)]  # last: the month to date
    t = figures.trend(_month_rows(pairs, partial_last=True), "latest", monthly=True)
    assert t.headline.label == "Jan 2025" and (t.headline.numerator,
                                               t.headline.denominator) == (5, 41)
    # compared with the same month a year before, not with Dec 2024's 3 of 42
    assert t.previous.label == "Jan 2024" and t.previous.numerator == 2
    assert not t.rolling and len(t.points) == 13
    assert [f.rate for f in t.points][-2:] == [3 / 42, 5 / 41]


# --- catalogue ---------------------------------------------------------------------------
def test_catalogue_loads_and_every_definition_link_resolves():
    cat = load_catalogue(get_settings())
    ids = [k.id for k in cat.kpis]
    assert len(ids) == len(set(ids)) and len(cat.sections) >= 10
    for k in cat.kpis:
        assert (REPO / k.doc_path).exists(), f"{k.id}: {k.doc_path} does not exist"
        if k.doc_heading:
            assert doc_anchor(REPO, k), f"{k.id}: no heading starts with {k.doc_heading!r}"
    # every target belongs to a KPI (the loader refuses others) and is a fraction
    assert cat.targets and all(0 <= t.value <= 1 for t in cat.targets.values())


def test_github_slug():
    assert github_slug("Long-term stability (DfE, formerly NI 63)") == \
        "long-term-stability-dfe-formerly-ni-63"
    assert github_slug("5. Plans without timescales (project definition on the local "
                       "`ext_plan_actions` table)").startswith("5-plans-without-timescales")


def test_catalogue_errors_name_file_entry_and_field(tmp_path):
    bad = tmp_path / "catalogue.yml"
    bad.write_text("sections:\n  - id: s1\n    title: S\n    kpis:\n      - id: k1\n"
                   "        title: K\n        mart: m\n        measure: x\n"
                   "        better: up\n")
    with pytest.raises(CatalogueError, match=r"catalogue.yml: section s1, KPI k1: "
                                             r"`better` is 'up'"):
        load_catalogue(get_settings(), catalogue_file=bad)
    targets = tmp_path / "targets.yml"
    targets.write_text("targets:\n  no_such_kpi: {target: 0.5}\n")
    with pytest.raises(CatalogueError, match=r"targets.yml: targets.no_such_kpi: no KPI"):
        load_catalogue(get_settings(), targets_file=targets)
    # one way of reading a mart: the long shape (a mart's entry may only rename columns)
    wide = tmp_path / "wide.yml"
    wide.write_text("marts:\n  m:\n    wide: {x: [a, b]}\n" + bad.read_text()
                    .replace("better: up", "better: lower\n        definition: d\n"
                             "        doc: docs/report.md\n        counts: c"))
    with pytest.raises(CatalogueError, match=r"wide.yml: marts.m: unknown field\(s\) wide"):
        load_catalogue(get_settings(), catalogue_file=wide)


def test_small_number_threshold_comes_from_dbt_vars(tmp_path):
    (tmp_path / "dbt_project").mkdir()
    (tmp_path / "dbt_project" / "dbt_project.yml").write_text("vars:\n  as_of: null\n")
    assert small_number_threshold(tmp_path) == 5  # the planned default
    (tmp_path / "dbt_project" / "dbt_project.yml").write_text(
        "vars:\n  small_number_threshold: 10\n")
    assert small_number_threshold(tmp_path) == 10


def test_comparator_seed_cites_every_figure():
    text = (REPO / "dbt_project" / "seeds" / "england_comparators.csv").read_text()
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows
    reference = (REPO.parent / "shared" / "reference" / "domain-reference.md")
    ref_text = reference.read_text() if reference.exists() else None
    for r in rows:
        assert r["publication"] and r["citation"] and re.fullmatch(r"20\d\d", r["year"])
        n, d, rate = int(r["numerator"]), int(r["denominator"]), float(r["england_rate"])
        assert abs(n / d - rate) < 0.005, r["measure"]  # the published rounding
        if ref_text is not None:  # every count is the reference's, as written there
            assert f"{n:,}" in ref_text and f"{d:,}" in ref_text, r["measure"]


# --- a long, by-team mart, end to end without a database --------------------------------
class _FakeReader:
    """What build asks of the marts: a long monthly mart with teams, and nothing else."""

    def __init__(self, rows):
        self._rows = rows

    def availability(self, kpi):
        from csc_warehouse.report.data import Availability

        if kpi.mart != "mart_kpis_monthly":
            return Availability(False, f"marts.{kpi.mart} is not published tonight")
        return Availability(True)

    def rows(self, kpi):
        return self._rows

    def has_team(self, mart):
        return True

    def grain(self, mart):
        return "month"


def test_a_long_by_team_mart_becomes_a_kpi_with_one_entry():
    from csc_warehouse.report.build import kpi_view
    from csc_warehouse.report.catalogue import Catalogue, Kpi, Section
    from csc_warehouse.report.model import ReportView, SectionView
    from csc_warehouse.report.render import render_html

    kpi = Kpi(id="new_kpi", title="A new measure", mart="mart_kpis_monthly", measure="x",
              better="lower", unit="percent", definition="d", doc="docs/report.md",
              counts="referrals", section="s")
    gone = Kpi(id="gone", title="Not tonight", mart="mart_not_there", measure="y",
               better="lower", unit="percent", definition="d", doc="docs/report.md",
               counts="referrals", section="s")
    rows = (_month_rows([(3, 10)] * 13, team="North")
            + _month_rows([(0, 1)] * 13, team="South"))  # South: 13 referrals in 12 months
    cat = Catalogue(sections=(Section("s", "S", "", (kpi, gone)),), marts={}, targets={},
                    small_number_threshold=5)
    settings = get_settings()
    view = kpi_view(kpi, _FakeReader(rows), cat, {}, settings)
    assert view.available and view.trend.headline.label == "12 months to Jan 2025"
    assert (view.trend.headline.numerator, view.trend.headline.denominator) == (36, 132)
    teams = {t.team: t for t in view.teams}
    assert (teams["North"].figure.numerator, teams["North"].figure.denominator) == (36, 120)
    # South's 12 referrals are shown (>= 5); its 0 re-referrals are a count, not 1-4
    assert teams["South"].figure.denominator == 12
    assert 'class="chart"' in view.teams_chart
    missing = kpi_view(gone, _FakeReader(rows), cat, {}, settings)
    assert not missing.available and "not published" in missing.reason
    html = render_html(ReportView(title="T", night=dt.date(2025, 1, 31), meta="m",
                                  provenance="p", sections=[SectionView(cat.sections[0],
                                                                        [view, missing])],
                                  sources="s", citations=[]))
    assert html.count("<svg") == 2  # the trend and the by-team chart; none for `gone`
    assert 'data-kpi="gone" data-available="false"' in html
    assert "<script" not in html and "http://" not in html.replace(
        'xmlns="http://www.w3.org/2000/svg"', "")


def test_every_team_suppressed_draws_no_empty_chart():
    """Teams whose counts are all 1 to 4 are not shown: no by-team chart without a bar, a
    sentence instead (the authority's figure still stands)."""
    from csc_warehouse.report.build import kpi_view
    from csc_warehouse.report.catalogue import Catalogue, Kpi, Section

    kpi = Kpi(id="k", title="A measure", mart="mart_kpis_monthly", measure="x",
              better="lower", unit="percent", definition="d", doc="docs/report.md",
              counts="referrals", section="s")
    # each team's only referrals in the 12 months: 3 and 4 (under 5: suppressed)
    rows = (_month_rows([(0, 0)] * 12 + [(1, 3)], team="North")
            + _month_rows([(0, 0)] * 12 + [(2, 4)], team="South"))
    cat = Catalogue(sections=(Section("s", "S", "", (kpi,)),), marts={}, targets={},
                    small_number_threshold=5)
    view = kpi_view(kpi, _FakeReader(rows), cat, {}, get_settings())
    assert view.available
    assert view.teams_chart == "" and view.teams == []
    assert "below 5" in view.teams_note


def test_night_headline_reads_a_snapshot_including_the_month_to_date():
    """Plans open tonight (a snapshot on as_of) live in the month to date: the `night` rule
    keeps it, labelled with its date, and splits it by team; `latest` would have none."""
    night = dt.date(2026, 11, 27)
    rows = [Row(dt.date(2026, 11, 1), "Nov 2026", 12, 80, team="all", partial=True,
                end=night),
            Row(dt.date(2026, 11, 1), "Nov 2026", 7, 50, team="North", partial=True,
                end=night),
            Row(dt.date(2026, 11, 1), "Nov 2026", 5, 30, team="South", partial=True,
                end=night)]
    t = figures.trend(figures.authority_rows(rows), "night")
    assert (t.headline.label, t.headline.numerator, t.headline.denominator) == (
        "27 Nov 2026", 12, 80)
    assert t.previous is None and t.table == [("27 Nov 2026", 12, 80, 12 / 80, None)]
    assert figures.trend(figures.authority_rows(rows), "latest").headline is None
    # nothing to measure tonight (0 of 0): no headline, never an older month's snapshot
    older = Row(dt.date(2026, 10, 1), "Oct 2026", 3, 10, team="all")
    empty = Row(dt.date(2026, 11, 1), "Nov 2026", 0, 0, team="all", partial=True, end=night)
    assert figures.trend([older, empty], "night").headline is None
    teams = {x.team: x.figure for x in figures.by_team(rows, "night", t.headline, 5)}
    assert (teams["North"].numerator, teams["North"].denominator) == (7, 50)
    assert (teams["South"].numerator, teams["South"].denominator) == (5, 30)


def test_catalogue_names_published_marts_and_their_current_measures():
    """Every KPI reads a mart the dbt project publishes today (a model under models/marts)
    and a measure that mart writes: a renamed or removed measure fails here, not as a
    silent "not available" in the report."""
    cat = load_catalogue(get_settings())
    marts = {p.stem: p for p in (REPO / "dbt_project" / "models" / "marts").rglob("*.sql")}
    for k in cat.kpis:
        assert k.mart in marts, f"{k.id}: marts.{k.mart} is not a published model"
        if k.mart == "data_completeness":
            continue  # its measures are the night's check names (expectations/)
        sql_text = marts[k.mart].read_text()
        yml = "".join(p.read_text() for p in marts[k.mart].parent.glob("_*.yml"))
        assert f"'{k.measure}'" in sql_text + yml, f"{k.id}: {k.mart} has no {k.measure}"


class _WorklistReader:
    def __init__(self, sizes):
        self.sizes = sizes

    def worklist_sizes(self):
        return ("mart_worklist_sizes_suppressed", self.sizes) if self.sizes is not None \
            else ("", [])

    def completeness(self, mart, as_of):
        return [("current_address: current address known", "warning", 100, 4,
                 96.0, 95.0, True)]


@pytest.mark.parametrize("published", [True, False])
def test_worklist_sizes_per_team_table_and_chart(published):
    from csc_warehouse.report.build import section_view
    from csc_warehouse.report.catalogue import Catalogue, Section
    from csc_warehouse.report.data import WorklistSize
    from csc_warehouse.report.render import _completeness

    sizes = [WorklistSize("wl_no_current_address", "all", 14, 12),
             WorklistSize("wl_no_current_address", "North", 9, 8),
             WorklistSize("wl_no_current_address", "South", None, None, suppressed=True),
             WorklistSize("wl_no_current_address", "West", None, None, suppressed=True),
             WorklistSize("wl_current_location_unknown", "all", 0, 0),
             WorklistSize("wl_current_location_unknown", "North", 0, 0),
             WorklistSize("wl_current_location_unknown", "South", 0, 0),
             WorklistSize("wl_current_location_unknown", "West", 0, 0)]
    section = Section("completeness", "C", "", (), completeness="data_completeness")
    cat = Catalogue(sections=(section,), marts={}, targets={}, small_number_threshold=5)
    view = section_view(section, _WorklistReader(sizes if published else None), cat, {},
                        get_settings(), dt.date(2026, 11, 27))
    html = _completeness(view)
    if not published:
        assert "Worklist sizes by team" in html and "Not available tonight" in html
        assert "worklist-table" not in html
        return
    assert view.worklist_teams == ["North", "South", "West"]
    root = _parse(view.worklist_chart)
    bars = root.findall(".//s:rect[@class='bar']", NS)
    assert len(bars) == 2  # 12 children; 0 is a bar of zero width, still drawn
    assert "no current address: 12 children, 14 rows" in root.find("s:desc", NS).text
    table = html.split('class="worklist-table"', 1)[1]
    # one column per list (sorted), one row per team after the authority's
    heads = re.findall(r'<th scope="col"[^>]*>(.*?)</th>', table)
    assert heads[1:] == ["current location unknown", "no current address"]
    rows = {m[0]: re.findall(r"<td[^>]*>(.*?)</td>", m[1]) for m in
            re.findall(r'<tr[^>]*><th scope="row">(.*?)</th>(.*?)</tr>', table)}
    assert rows == {"All teams": ["<strong>0</strong>", "<strong>12</strong>"],
                    "North": ["0", "8"], "South": ["0", "*"], "West": ["0", "*"]}
