"""Superset on the marts, tested as a person uses it.

`cscw bi up` on a generated authority (the session's published warehouse), then headless
Chromium (Debian's /usr/bin/chromium, driven by Playwright) logs in through Superset's real
login page, opens every dashboard of bi/superset/assets, waits until each chart has drawn
(a number, a table or a canvas; an error tile has none of these), and reads one big number
per dashboard against the value the mart holds (queried here with hand-written SQL).
Screenshots go to CSCW_HOME/reports/bi/ (and to $CSCW_BI_SHOTS when set, for people to look
at). Another test proves Superset's login reads nothing but `marts`.

Marked `bi`. Outside CI a missing prerequisite (Chromium, Python 3.11 for Superset's own
environment) skips with the reason; in CI (CI set) it fails.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import psycopg2
import pytest
import yaml

from conftest import REPO

pytestmark = pytest.mark.bi

CHROMIUM = Path(os.environ.get("CSCW_CHROMIUM", "/usr/bin/chromium"))
ASSETS = REPO / "bi" / "superset" / "assets"
ADMIN_PASSWORD = "test-only-superset-admin"
#: per viz type, what a drawn chart contains (an error tile contains none of these)
DRAWN = {
    "big_number_total": ".header-line",
    "table": "table tbody tr",
    "pivot_table_v2": "table tbody tr",
    "echarts_timeseries_bar": "canvas, svg",
    "echarts_timeseries_line": "canvas, svg",
}
ERROR_TILE = "[role=alert], .ant-alert-error, [data-test=error-message]"

#: the big numbers of each dashboard and the value the mart holds, by hand-written SQL
BIG_NUMBERS = {
    "threshold-decisions": [(
        "Step-downs to early help, last 12 months",
        """select sum(numerator) from marts.mart_threshold_kpis_monthly
           where measure = 'step_downs_to_eh' and team = 'all'
             and period_start > date_trunc('month', as_of) - interval '12 months'""",
        lambda v: f"{v:,}",
    ), (
        "Plans without timescales, data date",
        """select numerator from marts.mart_practice_kpis_monthly
           where measure = 'plans_without_timescales' and team = 'all'
             and period_start = date_trunc('month', as_of)""",
        lambda v: f"{v:,}",
    )],
    "placement-stability": [(
        "Looked-after children on the data date",
        "select count(*) from marts.mart_placement_stability",
        lambda v: f"{v:,}",
    )],
    "data-completeness": [(
        "Checks run, latest night",
        """select count(*) from marts.data_completeness
           where published_at = (select max(published_at) from marts.data_completeness)""",
        lambda v: f"{v:,}",
    )],
}


def _require(ok: bool, reason: str) -> None:
    if ok:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI: {reason}")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _dashboards() -> dict[str, dict]:
    """slug -> {title, charts: {chart name: viz type}} from the assets (what must show)."""
    charts = {}
    for path in (ASSETS / "charts").glob("*.yaml"):
        c = yaml.safe_load(path.read_text())
        charts[c["uuid"]] = (c["slice_name"], c["viz_type"])
    out = {}
    for path in (ASSETS / "dashboards").glob("*.yaml"):
        d = yaml.safe_load(path.read_text())
        on_it = [charts[item["meta"]["uuid"]] for item in d["position"].values()
                 if isinstance(item, dict) and item.get("type") == "CHART"]
        out[d["slug"]] = {"title": d["dashboard_title"], "charts": dict(on_it)}
    return out


DASHBOARDS = _dashboards()


@pytest.fixture(scope="module")
def cscw(built_warehouse):
    """This module works on the built warehouse's own database (tests/conftest.py)."""
    return built_warehouse["cscw"]


@pytest.fixture(scope="module")
def superset(cscw, built_warehouse):
    """`cscw bi up` on the session's published warehouse; `cscw bi down` afterwards."""
    _require(CHROMIUM.exists(), f"no Chromium at {CHROMIUM} (Debian: apt-get install "
                                "chromium)")
    _require(shutil.which("python3.11") is not None or Path("/usr/bin/python3.11").exists(),
             "no Python 3.11 on the machine for Superset's own environment")
    env = {**cscw.env, "CSCW_SUPERSET_PORT": str(_free_port()),
           "CSCW_SUPERSET_ADMIN_PASSWORD": ADMIN_PASSWORD}
    if env.get("CSCW_WAREHOUSE_URL"):
        env.setdefault("CSCW_BI_PASSWORD", "test-only-bi-password")
    else:  # the embedded warehouse: `bi up` generates the cscw_bi password
        env.pop("CSCW_BI_PASSWORD", None)

    def cscw_bi(*args: str, check: bool = True) -> subprocess.CompletedProcess:
        proc = subprocess.run([sys.executable, "-m", "csc_warehouse.cli", "bi", *args],
                              env=env, capture_output=True, text=True, timeout=900, cwd=REPO)
        if check and proc.returncode != 0:
            raise AssertionError(f"cscw bi {' '.join(args)} exited {proc.returncode}\n"
                                 f"{proc.stdout}\n{proc.stderr}")
        return proc

    started = time.monotonic()
    up = cscw_bi("up")
    took = time.monotonic() - started
    try:
        yield {"up": up, "env": env, "url": up.stdout.strip().splitlines()[-1],
               "cscw_bi": cscw_bi, "home": Path(env["CSCW_HOME"]), "up_seconds": took}
    finally:
        cscw_bi("down", check=False)


@pytest.fixture(scope="module")
def browser_page(superset):
    """Headless Chromium, logged in through Superset's login page."""
    from playwright.sync_api import sync_playwright

    url = superset["url"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        context = browser.new_context(viewport={"width": 1600, "height": 1200})
        pg = context.new_page()
        pg.set_default_timeout(120_000)
        outside: list[str] = []
        pg.on("requestfinished", lambda r: outside.append(r.url)
              if not r.url.startswith(url) and not r.url.startswith(("data:", "blob:"))
              else None)
        pg.goto(f"{url}/login/")
        pg.locator("#username").fill("admin")
        pg.locator("#password").fill(ADMIN_PASSWORD)
        pg.get_by_role("button", name="Sign in").click()
        pg.wait_for_url(re.compile(r".*/superset/welcome/.*"))
        pg.outside_requests = outside  # type: ignore[attr-defined]
        yield pg
        context.close()
        browser.close()


def _scram_matches(verifier: str, password: str) -> bool:
    """Does PostgreSQL's SCRAM-SHA-256 verifier belong to this password (RFC 5802)?"""
    import base64
    import hashlib
    import hmac

    m = re.fullmatch(r"SCRAM-SHA-256\$(\d+):([^$]+)\$([^:]+):(.+)", verifier)
    assert m, "not a SCRAM-SHA-256 verifier"
    iterations, salt, stored_key = int(m[1]), base64.b64decode(m[2]), base64.b64decode(m[3])
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    return hashlib.sha256(client_key).digest() == stored_key


def test_bi_up_serves_and_lists_the_dashboards(superset, cscw):
    up = superset["up"]
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", superset["url"])
    for slug, d in DASHBOARDS.items():
        assert f"/superset/dashboard/{slug}/ ({len(d['charts'])} charts)" in up.stderr
    assert "login: admin" in up.stderr
    status = superset["cscw_bi"]("status")
    assert status.stdout.startswith("serving: " + superset["url"])
    # the generated secrets stay under CSCW_HOME/secrets, readable by the owner only
    secrets = superset["home"] / "secrets"
    for name in ("superset_secret_key", "cscw_bi.password"):
        if name == "cscw_bi.password" and superset["env"].get("CSCW_WAREHOUSE_URL"):
            continue
        assert (secrets / name).stat().st_mode & 0o077 == 0, name
    assert (superset["home"] / "superset" / "superset.db").exists()
    if not superset["env"].get("CSCW_WAREHOUSE_URL"):
        # the generated password is the one the cscw_bi role now has (its SCRAM verifier)
        password = (secrets / "cscw_bi.password").read_text().strip()
        [(verifier,)] = cscw.query(
            "select rolpassword from pg_authid where rolname = 'cscw_bi' and rolcanlogin")
        assert _scram_matches(verifier, password)
    print(f"\ncscw bi up took {superset['up_seconds']:.0f}s")


@pytest.mark.parametrize("slug", sorted(DASHBOARDS))
def test_dashboard_renders_and_shows_the_marts(slug, superset, browser_page, cscw):
    page = browser_page
    expected = DASHBOARDS[slug]
    page.goto(f"{superset['url']}/superset/dashboard/{slug}/")
    page.get_by_text(expected["title"]).first.wait_for()
    for name, viz in expected["charts"].items():
        chart = page.locator(f'[data-test="chart-grid-component"][data-test-chart-name="{name}"]')
        chart.wait_for()
        chart.locator(DRAWN[viz]).first.wait_for()
        assert chart.locator(ERROR_TILE).count() == 0, f"{slug}: {name!r} shows an error"
    shown = page.locator('[data-test="chart-grid-component"]').count()
    assert shown == len(expected["charts"]), f"{slug}: {shown} charts on the page"

    for name, sql, fmt in BIG_NUMBERS[slug]:
        [(value,)] = cscw.query(sql)
        number = page.locator(
            f'[data-test="chart-grid-component"][data-test-chart-name="{name}"] .header-line')
        assert number.inner_text().strip() == fmt(value), name

    page.wait_for_timeout(2000)  # let the charts' drawing animations finish
    reports = superset["home"] / "reports" / "bi"
    reports.mkdir(parents=True, exist_ok=True)
    shot = reports / f"{slug}.png"
    page.screenshot(path=str(shot), full_page=True)
    if os.environ.get("CSCW_BI_SHOTS"):
        Path(os.environ["CSCW_BI_SHOTS"]).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(os.environ["CSCW_BI_SHOTS"]) / shot.name)
    assert page.outside_requests == [], "the browser reached outside the server"


def _sql_through_superset(page, url: str, sql: str) -> tuple[int, dict]:
    """Run SQL in SQL Lab's API as the logged-in user, on the warehouse database."""
    api = page.context.request
    csrf = api.get(f"{url}/api/v1/security/csrf_token/").json()["result"]
    databases = api.get(f"{url}/api/v1/database/").json()["result"]
    [db] = [d for d in databases if d["database_name"] == "CSC warehouse (marts)"]
    resp = api.post(f"{url}/api/v1/sqllab/execute/",
                    headers={"X-CSRFToken": csrf, "Referer": url},
                    data={"database_id": db["id"], "sql": sql, "runAsync": False,
                          "schema": "marts", "tab": "test"})
    return resp.status, resp.json()


def test_superset_reads_nothing_but_the_marts(superset, browser_page):
    page = browser_page
    url = superset["url"]
    status, body = _sql_through_superset(
        page, url, "select count(*) as n from marts.mart_threshold_kpis_monthly")
    assert status == 200, body
    assert body["data"][0]["n"] > 0

    status, body = _sql_through_superset(
        page, url, "select * from analytics.fct_threshold_transitions limit 1")
    assert status >= 400, body
    assert "permission denied" in str(body).lower(), body

    # the connection Superset holds is cscw_bi's (Superset refuses current_user in SQL)
    api = page.context.request
    [db] = [d for d in api.get(f"{url}/api/v1/database/").json()["result"]
            if d["database_name"] == "CSC warehouse (marts)"]
    uri = api.get(f"{url}/api/v1/database/{db['id']}/connection").json()["result"]
    assert re.fullmatch(r"postgresql\+psycopg2://cscw_bi(:X+)?@[\w.]+:\d+/\w+",
                        uri["sqlalchemy_uri"]), uri
    assert not uri["allow_dml"]


# ------------------------------------------------------------------ the assets themselves
def _datasets() -> dict[str, dict]:
    return {d["uuid"]: d for d in (yaml.safe_load(p.read_text())
                                   for p in (ASSETS / "datasets").rglob("*.yaml"))}


def _marts_read(dataset: dict) -> set[str]:
    return set(re.findall(r"\bmarts\.(\w+)", dataset["sql"]))


def test_datasets_read_only_published_marts():
    """Every dataset is SQL on `marts` relations only (the cscw_bi role could not read
    anything else anyway; this keeps the assets honest before they reach Superset)."""
    models = {p.stem for p in (REPO / "dbt_project" / "models" / "marts").rglob("*.sql")}
    for ds in _datasets().values():
        assert ds["schema"] == "marts", ds["table_name"]
        sql = re.sub(r"extract\s*\(\s*\w+\s+from", "extract(", ds["sql"], flags=re.I)
        relations = re.findall(r"\b(?:from|join)\s+([\w.\"]+)", sql, re.I)
        assert relations, ds["table_name"]
        for rel in relations:
            schema, _, table = rel.partition(".")
            assert schema == "marts" and table in models, (ds["table_name"], rel)


def test_charts_use_only_their_datasets_columns_and_metrics():
    """A chart names metrics and columns of its own dataset (a renamed column fails here,
    not as an error tile in the browser)."""
    datasets = _datasets()
    for path in (ASSETS / "charts").glob("*.yaml"):
        c = yaml.safe_load(path.read_text())
        ds = datasets[c["dataset_uuid"]]
        metrics = {m["metric_name"] for m in ds["metrics"]}
        columns = {col["column_name"] for col in ds["columns"]}
        p = c["params"]
        used = [m for m in p.get("metrics", []) + [p.get("metric")] if isinstance(m, str)]
        assert set(used) <= metrics, (path.name, set(used) - metrics)
        names = [*p.get("groupby", []), *p.get("all_columns", []),
                 *p.get("groupbyRows", []), *p.get("groupbyColumns", []),
                 *([p["x_axis"]] if p.get("x_axis") else [])]
        assert set(names) <= columns, (path.name, set(names) - columns)


def test_letters_dashboard_has_by_team_and_plans_without_timescales_charts():
    """The letter's dashboard splits step-downs and stepping back up by team and month, from
    the small-number-suppressed mart, and shows plans without timescales."""
    datasets = _datasets()
    charts = [yaml.safe_load(p.read_text()) for p in (ASSETS / "charts").glob("*.yaml")]
    on_it = DASHBOARDS["threshold-decisions"]["charts"]
    by_team = [c for c in charts if c["slice_name"] in on_it
               and c["params"].get("groupbyRows") == ["team"]
               and c["params"].get("groupbyColumns") == ["month"]]
    metrics = {m for c in by_team for m in c["params"]["metrics"]}
    assert {"step_downs_to_eh", "eh_stepped_back_up"} <= metrics
    for c in by_team:
        assert _marts_read(datasets[c["dataset_uuid"]]) == {
            "mart_threshold_kpis_monthly_suppressed"}
        assert "blank: 1 to 4" in c["slice_name"]  # a hidden count is not read as 0
    # every time-series chart says what its axes are
    for c in charts:
        if c["viz_type"].startswith("echarts_timeseries"):
            assert c["params"].get("x_axis_title") and c["params"].get("y_axis_title"), \
                c["slice_name"]
    plans = [c for c in charts if c["slice_name"] in on_it
             and datasets[c["dataset_uuid"]]["table_name"] == "plans_without_timescales"]
    assert {c["viz_type"] for c in plans} == {"big_number_total", "table"}


def test_every_dataset_runs_as_cscw_bi_on_tonights_marts(cscw):
    """Each dataset's SQL runs on the published marts as cscw_bi (no missing mart or column,
    nothing outside `marts`), and the by-team dataset has team rows."""
    rows = {}
    for ds in _datasets().values():
        conn = psycopg2.connect(cscw.url)
        try:
            with conn.cursor() as cur:
                cur.execute("set role cscw_bi")
                cur.execute(f"select * from ({ds['sql'].rstrip().rstrip(';')}) as d limit 1000")
                cols = [d[0] for d in cur.description]
                rows[ds["table_name"]] = [dict(zip(cols, r, strict=True))
                                          for r in cur.fetchall()]
        finally:
            conn.close()
        declared = {c["column_name"] for c in ds["columns"]}
        assert declared <= set(cols), (ds["table_name"], declared - set(cols))
    teams = {r["team"] for r in rows["threshold_kpis_by_team"]}
    assert teams and "all" not in teams
    [authority] = [r for r in rows["plans_without_timescales"] if r["is_authority"]]
    [(n, d)] = cscw.query("""select numerator, denominator from marts.mart_practice_kpis_monthly
                             where measure = 'plans_without_timescales' and team = 'all'
                               and period_start = date_trunc('month', as_of)""")
    assert (authority["plans_without_timescales"], authority["plans_open"]) == (n, d)


def test_every_dashboard_is_a_dbt_exposure_on_the_marts_it_reads():
    exposures = yaml.safe_load(
        (REPO / "dbt_project" / "models" / "marts" / "_exposures.yml").read_text())["exposures"]
    by_label = {e["label"]: e for e in exposures}
    datasets = _datasets()
    charts = {c["uuid"]: c for c in (yaml.safe_load(p.read_text())
                                     for p in (ASSETS / "charts").glob("*.yaml"))}
    for path in (ASSETS / "dashboards").glob("*.yaml"):
        d = yaml.safe_load(path.read_text())
        exposure = by_label.get(d["dashboard_title"])
        assert exposure, f"no exposure for {d['dashboard_title']!r}"
        assert exposure["type"] == "dashboard"
        assert exposure["url"].endswith(f"/superset/dashboard/{d['slug']}/")
        marts = set()
        for item in d["position"].values():
            if isinstance(item, dict) and item.get("type") == "CHART":
                marts |= _marts_read(datasets[charts[item["meta"]["uuid"]]["dataset_uuid"]])
        refs = {re.fullmatch(r"ref\('(\w+)'\)", r).group(1) for r in exposure["depends_on"]}
        assert refs == marts, d["dashboard_title"]
    assert len(exposures) == len(list((ASSETS / "dashboards").glob("*.yaml")))


def test_status_and_down_without_a_server(tmp_path):
    env = {**os.environ, "CSCW_HOME": str(tmp_path), "CSCW_SUPERSET_PORT": str(_free_port())}
    run = [sys.executable, "-m", "csc_warehouse.cli", "bi"]
    status = subprocess.run([*run, "status"], env=env, capture_output=True, text=True,
                            check=False, cwd=REPO)
    assert status.returncode == 3
    assert status.stdout.startswith("not running: http://127.0.0.1:")
    down = subprocess.run([*run, "down"], env=env, capture_output=True, text=True,
                          check=False, cwd=REPO)
    assert down.returncode == 0 and "not running" in down.stderr
