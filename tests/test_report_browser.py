"""The improvement report, looked at as a person would: opened in headless Chromium
(Debian's, driven by Playwright) with every network request blocked.

- The generated authority's published night: no request, no console error, every section
  with a figure draws a chart, no two labels of a chart overlap (measured in the browser,
  with the real fonts), and every headline equals the marts queried directly. A full-page
  screenshot and an A4 PDF go to CSCW_HOME/reports/ (and /tmp/report-shots) to look at.
- A drop without ssd_cla_episodes.csv (and the looked-after tables that reference it): the
  placement sections say "not available" and draw no chart; no 0% is shown for them.

Browser tests skip only outside CI when /usr/bin/chromium is missing; with CI=true a
missing browser fails (.ci/run installs Debian's chromium).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import psycopg2
import pytest

from conftest import REPO

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path("/tmp/report-shots")
NIGHT = dt.date(2026, 11, 27)
PLACEMENT_SECTIONS = ("second-time", "placements", "reviews")
CLA_FILES = ("ssd_cla_episodes.csv", "ssd_cla_placement.csv", "ssd_cla_reviews.csv")

pytestmark = pytest.mark.browser


def _chromium_or_skip() -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("CI"):
        pytest.fail(f"{CHROMIUM} is missing in CI: .ci/run installs Debian's chromium")
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium); CI runs this test")


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    _chromium_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield b
        b.close()


@dataclass
class Opened:
    page: object
    url: str
    requests: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _open_offline(browser, path: Path) -> Opened:
    """The report in a fresh context where every request but the page itself is aborted
    and counted, and every console error is kept."""
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    opened = Opened(page=page, url=path.resolve().as_uri())

    def route(r):
        if r.request.url == opened.url:
            r.continue_()
        else:
            opened.blocked.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    page.on("request", lambda req: opened.requests.append(req.url))
    page.on("console", lambda m: opened.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: opened.errors.append(str(e)))
    page.goto(opened.url, wait_until="load")
    return opened


def _assert_offline_and_clean(o: Opened) -> None:
    extra = [u for u in o.requests if u != o.url]
    assert not extra and not o.blocked, f"the report made requests: {extra + o.blocked}"
    assert not o.errors, f"console errors: {o.errors}"


def _report_path(home: Path, night: dt.date) -> Path:
    return home / "reports" / night.isoformat() / "improvement-report.html"


# --- the generated authority ---------------------------------------------------------------
@pytest.fixture(scope="module")
def published(built_warehouse, cscw):
    """The session's generated night, run again so that it is the published one (other
    modules publish other nights into the same warehouse; a re-run is idempotent)."""
    proc = cscw.run("run", "--drop", str(built_warehouse["drop"]))
    out = proc.stdout + proc.stderr
    path = _report_path(cscw.home, NIGHT)
    return {"out": out, "path": path, "cscw": cscw}


def test_the_run_prints_the_report_and_copies_it_to_latest(published):
    path = published["path"]
    # rich wraps long lines: compare without any whitespace
    assert f"improvementreport:{path}" in "".join(published["out"].split())
    assert path.exists()
    latest = path.parents[1] / "latest" / path.name
    assert latest.read_bytes() == path.read_bytes()


def test_report_command_renders_the_published_night_and_refuses_another(published):
    cscw = published["cscw"]
    proc = cscw.run("report")
    assert proc.stdout.strip().splitlines()[-1] == str(published["path"])
    wrong = cscw.run("report", "--night", "2020-01-01", check=False)
    assert wrong.returncode == 1
    assert f"describe {NIGHT}, not 2020-01-01" in wrong.stderr.replace("\n", " ")


def _expected_headline(cscw, kpi) -> tuple[int, int]:
    """The KPI's headline counts straight from its mart (SQL written here, not the
    report's code): the 12 complete months to the latest month with a figure, or the
    latest period with a figure."""
    monthly = cscw.query(f"""select 1 from marts.{kpi.mart}
                             where measure = %s and period_type = 'month' limit 1""",
                         (kpi.measure,)) if kpi.mart != "data_completeness" else []
    if monthly and kpi.headline in ("latest", "night"):
        # a month's own figure (distinct children, or a snapshot): never a sum of months;
        # `latest` leaves the month to date out, `night` (a snapshot on as_of) keeps it
        rows = cscw.query(f"""select numerator, denominator from marts.{kpi.mart}
                              where measure = %s and team = 'all' and denominator > 0
                                and (is_complete_period or %s)
                              order by period_start desc limit 1""",
                          (kpi.measure, kpi.headline == "night"))
    elif monthly:
        rows = cscw.query(f"""
            with m as (select period_start, numerator as n, denominator as d
                       from marts.{kpi.mart}
                       where measure = %s and team = 'all' and is_complete_period),
            w as (select period_start,
                         sum(n) over (order by period_start rows 11 preceding) as n12,
                         sum(d) over (order by period_start rows 11 preceding) as d12,
                         count(*) over (order by period_start rows 11 preceding) as months
                  from m)
            select n12, d12 from w where months = 12 and d12 > 0
            order by period_start desc limit 1""", (kpi.measure,))
    elif kpi.mart == "data_completeness":
        rows = cscw.query("""select records_passing, records_checked from marts.data_completeness
                             where check_name = %s and records_checked > 0
                             order by as_of desc limit 1""", (kpi.measure,))
    else:
        rows = cscw.query(f"""select numerator, denominator from marts.{kpi.mart}
                              where measure = %s and team = 'all' and denominator > 0
                              order by period_end desc limit 1""", (kpi.measure,))
    assert rows, f"{kpi.id}: the mart has no figure but the report shows one"
    return int(rows[0][0]), int(rows[0][1])


def _overlapping_labels(page) -> list[str]:
    """Pairs of text labels that overlap inside any chart, measured in the browser."""
    return page.evaluate("""() => {
        const out = [];
        for (const svg of document.querySelectorAll('svg.chart')) {
            const boxes = [...svg.querySelectorAll('text')]
                .filter(t => t.textContent.trim() && t.getBoundingClientRect().width > 0)
                .map(t => [t.textContent.trim(), t.getBoundingClientRect()]);
            for (let i = 0; i < boxes.length; i++)
                for (let j = i + 1; j < boxes.length; j++) {
                    const [a, r] = boxes[i], [b, s] = boxes[j];
                    const w = Math.min(r.right, s.right) - Math.max(r.left, s.left);
                    const h = Math.min(r.bottom, s.bottom) - Math.max(r.top, s.top);
                    if (w > 1 && h > 1) out.push(svg.id + ': "' + a + '" / "' + b + '"');
                }
        }
        return out;
    }""")


def test_report_in_chromium_offline(published, chromium):
    from csc_warehouse.config import get_settings
    from csc_warehouse.report.catalogue import load_catalogue

    cscw = published["cscw"]
    path = published["path"]
    o = _open_offline(chromium, path)
    page = o.page
    _assert_offline_and_clean(o)
    assert page.title().startswith("Children's social care: improvement report")

    # every section with a figure tonight draws a non-empty chart
    sections = page.query_selector_all("section.theme-section")
    assert len(sections) >= 10
    with_data = [s for s in sections if s.get_attribute("data-available") == "true"]
    assert len(with_data) >= 6
    for s in with_data:
        charts = s.query_selector_all("svg.chart")
        assert charts, f"section {s.get_attribute('id')} has figures but no chart"
        for c in charts:
            box = c.bounding_box()
            assert box and box["width"] > 200 and box["height"] > 80
            assert c.query_selector("path.series, circle.point, rect.bar"), c.get_attribute("id")
            assert c.query_selector("title") and c.query_selector("desc")
    assert not _overlapping_labels(page)
    # nothing wider than the window (no label runs off the page)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    # the headlines are the marts' own figures
    catalogue = load_catalogue(get_settings())
    kpis = {k.id: k for k in catalogue.kpis}
    shown = page.query_selector_all("article.kpi[data-available=true]")
    assert len(shown) >= 10
    for art in shown:
        kpi = kpis[art.get_attribute("data-kpi")]
        n, d = _expected_headline(cscw, kpi)
        assert (int(art.get_attribute("data-numerator")),
                int(art.get_attribute("data-denominator"))) == (n, d), kpi.id
        value = art.query_selector(".headline .value").inner_text()
        assert value == f"{100 * n / d:.1f}%", kpi.id
        assert f"{n:,} of {d:,}" in art.query_selector(".headline .of").inner_text()
    # the letter's themes the brief lists each have a KPI with a figure tonight
    for kid in ("children_missing", "assessments_45_working_days", "icpc_15_working_days",
                "second_period_within_12m", "second_time_looked_after_ever",
                "sgo_breakdown", "plans_without_timescales", "camhs_seen_18_weeks"):
        art = page.query_selector(f"#kpi-{kid}")
        assert art and art.get_attribute("data-available") == "true", kid
        assert art.query_selector("svg.chart path.series, svg.chart circle.point"), kid
    # the generated authority has no unplanned placement ending yet: the KPI reads the
    # practice mart and says there is nothing to measure, with no number
    [(endings,)] = cscw.query("""select coalesce(sum(denominator), 0)
                                 from marts.mart_practice_kpis_monthly
                                 where measure = 'review_after_significant_change'
                                   and team = 'all'""")
    after = page.query_selector("#kpi-review_after_placement_ending")
    assert after.get_attribute("data-available") == ("true" if endings else "false")
    if not endings:
        assert "nothing to measure yet" in after.inner_text()
    # children missing: the latest complete month's own figure, labelled with that month
    missing = page.query_selector("#kpi-children_missing")
    assert re.fullmatch(r"[A-Z][a-z]{2} \d{4}", missing.get_attribute("data-period"))
    # by team from the practice mart (a snapshot on the night, and a 12-month flow): the
    # chart, or the sentence when every team is small
    for kid in ("plans_without_timescales", "reassessed_before_step_down"):
        art = page.query_selector(f"#kpi-{kid}")
        assert art.query_selector("svg.chart[id^=teams-] rect.bar") or \
            "below 5" in art.inner_text(), kid
    # worklist sizes per team: the authority's figure per list equals the mart's
    table = page.query_selector("section#completeness table.worklist-table")
    assert table, "no worklist sizes by team"
    expected = dict(cscw.query("""select replace(substr(worklist, 4), '_', ' '), children
                                  from marts.mart_worklist_sizes_suppressed
                                  where team = 'all'"""))
    heads = [h.inner_text() for h in table.query_selector_all("thead th")][1:]
    total = [c.inner_text() for c in table.query_selector_all("tbody tr.total td")]
    assert dict(zip(heads, total, strict=True)) == {k: f"{v:,}" for k, v in expected.items()}
    teams = [h.inner_text() for h in table.query_selector_all("tbody tr:not(.total) th")]
    assert sorted(teams) == sorted(r[0] for r in cscw.query(
        "select distinct team from marts.mart_worklist_sizes_suppressed where team <> 'all'"))
    assert page.query_selector("section#completeness svg.chart[id^=worklists-] rect.bar")
    # a KPI with a stored England figure shows it, with its year
    stability = page.query_selector("#kpi-long_term_stability")
    if stability.get_attribute("data-available") == "true":
        assert "68.0%" in stability.inner_text() and "2024" in stability.inner_text()
    # not-available KPIs say so and never show a number
    for art in page.query_selector_all("article.kpi[data-available=false]"):
        assert "Not available tonight" in art.inner_text()
        assert not art.query_selector("svg")

    # for a person to look at: full-page screenshot and the A4 print
    out = path.parent
    shot, pdf = out / "improvement-report.png", out / "improvement-report.pdf"
    page.screenshot(path=str(shot), full_page=True)
    page.pdf(path=str(pdf), format="A4", print_background=True)
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 20_000
    boxes = {tuple(float(v) for v in m) for m in
             re.findall(rb"/MediaBox\s*\[0 0 ([\d.]+) ([\d.]+)\]", data)}
    # A4 portrait is 595.28 x 841.89 points (Chromium rounds to its own inches)
    assert boxes and all(abs(w - 595.3) < 2 and abs(h - 841.9) < 2 for w, h in boxes), boxes
    assert len(re.findall(rb"/Type\s*/Page\b", data)) >= 3
    assert shot.stat().st_size > 50_000
    SHOTS.mkdir(parents=True, exist_ok=True)
    for f in (shot, pdf, path):
        shutil.copy(f, SHOTS / f.name)
    page.context.close()


# --- a drop without the looked-after tables -------------------------------------------------
@pytest.fixture(scope="module")
def without_episodes(cscw, tmp_path_factory) -> Iterator[dict]:
    """A generated drop minus ssd_cla_episodes.csv (and the placement and review files,
    whose every row references it), run on its own database and CSCW_HOME."""
    from csc_warehouse.generate import generate_drop

    tmp = tmp_path_factory.mktemp("no_episodes")
    drop = tmp / NIGHT.isoformat()
    generate_drop(drop, children=120, years=3, as_of=NIGHT, seed=5)
    manifest = json.loads((drop / "manifest.json").read_text())
    for name in CLA_FILES:
        (drop / name).unlink()
        manifest["files"].pop(name)
    (drop / "manifest.json").write_text(json.dumps(manifest, indent=2))

    name = f"cscw_test_report_{uuid.uuid4().hex[:8]}"
    server = urlparse(cscw.url)
    admin = psycopg2.connect(urlunparse(server._replace(path="/postgres")))
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'create database "{name}"')
    env = dict(cscw.env)
    env["CSCW_WAREHOUSE_URL"] = urlunparse(server._replace(path=f"/{name}"))
    env["CSCW_HOME"] = str(tmp / "home")
    proc = subprocess.run([sys.executable, "-m", "csc_warehouse.cli", "run", "--drop",
                           str(drop)], env=env, capture_output=True, text=True, timeout=900,
                          cwd=REPO)
    try:
        yield {"proc": proc, "home": tmp / "home"}
    finally:
        with admin.cursor() as cur:
            cur.execute(f'drop database "{name}" with (force)')
        admin.close()


def test_without_episodes_placement_sections_are_not_available(without_episodes, chromium):
    proc = without_episodes["proc"]
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    path = _report_path(without_episodes["home"], NIGHT)
    o = _open_offline(chromium, path)
    page = o.page
    _assert_offline_and_clean(o)
    for sid in PLACEMENT_SECTIONS:
        section = page.query_selector(f"section#{sid}")
        assert section.get_attribute("data-available") == "false", sid
        assert not section.query_selector("svg"), f"{sid}: a chart without figures"
        text = section.inner_text()
        assert "Not available tonight" in text and "%" not in text, sid
        for art in section.query_selector_all("article.kpi"):
            assert art.get_attribute("data-available") == "false"
            # the glance table says the same, with no number
            row = page.query_selector(f'.glance a[href="#{art.get_attribute("id")}"]')
            row_text = row.evaluate("a => a.closest('tr').innerText")
            assert "not available tonight" in row_text and "%" not in row_text
    # children missing are counted over children looked after: not available, no 0%
    for kid in ("children_missing", "children_missing_or_away"):
        art = page.query_selector(f"#kpi-{kid}")
        assert art.get_attribute("data-available") == "false", kid
        assert "Not available tonight" in art.inner_text() and "%" not in art.inner_text()
        assert not art.query_selector("svg")
    # the threshold and referral sections, whose inputs were delivered, still draw charts
    assert page.query_selector("section#referrals-cp svg.chart")
    page.screenshot(path=str(path.with_suffix(".png")), full_page=True)
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(path.with_suffix(".png"), SHOTS / "without-episodes.png")
    page.context.close()
