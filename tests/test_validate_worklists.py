"""The warning expectations and the worklists agree: GX's unexpected_count for each warning
equals its worklist's row count, night by night, and the worklists list the injected faults.

Uses the write-audit-publish nights (the ``nights`` scenario of tests/conftest.py, run
once per session on their own database).
"""

from __future__ import annotations

import csv

import pytest

from csc_warehouse.config import PROJECT_ROOT
from csc_warehouse.validate.run import _gx_query, checked_columns
from csc_warehouse.validate.suites import load_suite, load_suites

WARNINGS = load_suite(PROJECT_ROOT / "expectations" / "warnings.yml")
CHECKS = [(e.name, e.worklist) for _, e in WARNINGS.expectations]


@pytest.fixture(scope="module")
def three(nights):
    return nights


@pytest.mark.parametrize("night", ["warnings", "critical", "good"])
@pytest.mark.parametrize(("check", "worklist"), CHECKS, ids=[w for _, w in CHECKS])
def test_gx_unexpected_count_equals_worklist_rows(three, night, check, worklist):
    n = three.nights[night]
    rows = three.cscw.query(
        "select unexpected_count, element_count, success from dq.validation_results "
        "where run_id = %s and expectation = %s", (n.run_id, check))
    assert len(rows) == 1, f"{check}: no result for night {n.date}"
    unexpected, element_count, _ = rows[0]
    assert unexpected == len(n.worklists[worklist]), (check, worklist)
    assert element_count is not None and element_count >= unexpected


def test_the_faulty_night_fails_warnings_and_lists_the_records(three):
    n = three.nights["warnings"]
    failing = [c for c, _ in CHECKS if three.cscw.query(
        "select not success from dq.validation_results where run_id = %s "
        "and expectation = %s", (n.run_id, c)) == [(True,)]]
    assert "step_downs: step-down to early help authorised" in failing
    # the list is the step-downs of the last 12 months without approval (fct_threshold_
    # transitions, section 7): each names a CIN episode the drop delivered without the
    # authorisation, closed by as_of; the injected blank RC9 authorisations are among them
    # (other closures may be unauthorised too: the generator authorises them by chance)
    rows = n.worklists["wl_step_down_without_authorisation"]
    night = n.date.isoformat()
    with (n.drop / "ssd_cin_episodes.csv").open(newline="") as f:
        unauthorised = {r["cine_referral_id"]: r for r in csv.DictReader(f)
                        if not (r["ext_close_authorised_by"].strip()
                                and r["ext_close_authorised_date"])}
    listed = {r["referral_id"] for r in rows}
    injected = {f["key"] for f in n.injected if f["kind"] == "blank_rc9_authorisation"}
    assert listed and listed <= set(unauthorised)
    assert listed & injected
    year_before = n.date.replace(year=n.date.year - 1).isoformat()
    for r in rows:
        assert year_before < str(r["transition_date"]) <= night
        assert unauthorised[r["referral_id"]]["cine_close_date"] <= night
        assert r["what_is_missing"] == "authorised by; authorised date"
    # missing postcodes of current placements show up as "valid postcode": exactly the
    # injected ones on a placement open on the night of a child looked after that night
    # (worked out from the drop's files; the warning night injects no overlaps, so a child
    # has at most one open placement)

    def open_on(start: str, end: str) -> bool:
        return start <= night and (not end or night < end)

    with (n.drop / "ssd_cla_episodes.csv").open(newline="") as f:
        looked_after = {r["clae_person_id"] for r in csv.DictReader(f)
                        if open_on(r["clae_cla_episode_start_date"],
                                   r["clae_cla_episode_ceased_date"])}
    with (n.drop / "ssd_cla_placement.csv").open(newline="") as f:
        current = {r["clap_cla_placement_id"] for r in csv.DictReader(f)
                   if r["clap_person_id"] in looked_after
                   and open_on(r["clap_cla_placement_start_date"],
                               r["clap_cla_placement_end_date"])}
    no_postcode = {f["key"] for f in n.injected if f["kind"] == "missing_postcode"}
    flagged = {r["placement_id"] for r in n.worklists["wl_current_location_unknown"]
               if "valid postcode" in r["what_is_missing"]}
    assert flagged and flagged == no_postcode & current


def test_summary_reports_warnings_with_their_worklists(three):
    import json

    run_id = three.nights["warnings"].run_id
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in run_id)
    summary = json.loads((three.cscw.home / "reports" / "runs" / f"{safe}.json").read_text())
    warnings = {w["check"]: w for w in summary["validation"]["warnings"]}
    assert set(warnings) == {c for c, _ in CHECKS}
    for check, worklist in CHECKS:
        assert warnings[check]["worklist"] == f"analytics.{worklist}"


def _plan_nodes(node: dict):
    yield node
    for child in node.get("Plans", []):
        yield from _plan_nodes(child)


def test_every_asset_is_one_set_based_pass(three):
    """No asset query of any suite, as GX materialises it, runs a subquery per row (a
    correlated `exists`/`in`: hashed or not, the planner may re-run it for every row, and the
    check's cost then grows with the square of the authority): PostgreSQL's plan has no
    SubPlan node. Joins, aggregates and window functions only. docs/performance.md."""
    night = three.nights["good"].date
    for suite in load_suites(PROJECT_ROOT / "expectations"):
        for asset in suite.assets:
            query = _gx_query(asset.render(night), checked_columns(asset))
            (plan,), = three.cscw.query("explain (format json) " + query)
            relations = {n.get("Parent Relationship") for n in _plan_nodes(plan[0]["Plan"])}
            assert "SubPlan" not in relations, f"{suite.name}/{asset.name}: a per-row subquery"


def test_an_asset_whose_query_fails_fails_its_checks_and_the_rest_still_run(cscw):
    """Fail closed: GX materialises an asset's query before any expectation runs, so a query
    that cannot run (a missing relation or column) fails every expectation of its asset with
    the database's reason, and the next assets are still checked."""
    from csc_warehouse.config import get_settings
    from csc_warehouse.validate.run import run_suites
    from csc_warehouse.validate.suites import AssetSpec, ExpectationSpec, SuiteSpec

    def not_null(asset: str, column: str) -> ExpectationSpec:
        return ExpectationSpec(f"{asset}: {column} not null",
                               "expect_column_values_to_not_be_null", {"column": column})

    suite = SuiteSpec("probe", "critical", "", (
        AssetSpec("missing_table", "select x from staging.no_such_model", "x",
                  (not_null("missing_table", "x"), not_null("missing_table", "y"))),
        AssetSpec("missing_column", "select 1 as a", "a", (not_null("missing_column", "zz"),)),
        AssetSpec("next", "select 1 as a union all select null", "a",
                  (not_null("next", "a"),)),
    ))
    got = {o.expectation: o
           for o in run_suites(cscw.url, get_settings(), [suite], data_docs=False)}
    assert list(got) == [e.name for _, e in suite.expectations]
    for name in ("missing_table: x not null", "missing_table: y not null"):
        assert not got[name].success
        assert 'relation "staging.no_such_model" does not exist' in got[name].observed_value
    assert not got["missing_column: zz not null"].success
    assert 'column "zz" does not exist' in got["missing_column: zz not null"].observed_value
    after = got["next: a not null"]
    assert (after.success, after.unexpected_count, after.element_count) == (False, 1, 2)


def test_an_asset_whose_input_is_absent_is_not_available(cscw):
    """An asset whose ``available_when`` answers false is not run: each of its expectations
    is recorded as not available (success, no counts), neither 0 failures nor every row
    failing; an asset whose input is there runs as before."""
    from csc_warehouse.config import get_settings
    from csc_warehouse.validate.run import run_suites
    from csc_warehouse.validate.suites import AssetSpec, ExpectationSpec, SuiteSpec

    def authorised(asset: str) -> ExpectationSpec:
        return ExpectationSpec(f"{asset}: authorised", "expect_column_values_to_be_in_set",
                               {"column": "ok", "value_set": [True]})

    rows = "select 'a' as k, false as ok union all select 'b', false"
    suite = SuiteSpec("probe", "warning", "", (
        AssetSpec("absent", rows, "k", (authorised("absent"),), available_when="select false"),
        AssetSpec("present", rows, "k", (authorised("present"),), available_when="select true"),
    ))
    got = {o.expectation: o
           for o in run_suites(cscw.url, get_settings(), [suite], data_docs=False)}
    absent = got["absent: authorised"]
    assert absent.success
    assert absent.observed_value.startswith("not available")
    assert (absent.element_count, absent.unexpected_count) == (None, None)
    present = got["present: authorised"]
    assert (present.success, present.unexpected_count, present.element_count) == (False, 2, 2)
