"""The GX suites (expectations/*.yml) cover the extract contract, so they cannot drift apart.

No warehouse needed: these read the YAML, the contract and the dbt staging models.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from csc_warehouse.contract import load_contract
from csc_warehouse.validate.suites import (
    AssetSpec,
    ExpectationSpec,
    as_of_literal,
    load_suite,
    load_suites,
    render_query,
)

REPO = Path(__file__).resolve().parents[1]
EXPECTATIONS = REPO / "expectations"
STAGING = REPO / "dbt_project" / "models" / "staging" / "ssd"
WORKLISTS = REPO / "dbt_project" / "models" / "analytics" / "worklists"


def _staging_models() -> dict[str, tuple[str, str]]:
    """contract table -> (staging model name, its SQL)."""
    out = {}
    for p in STAGING.glob("stg_ssd__*.sql"):
        text = p.read_text()
        m = re.search(r"source\('ssd',\s*'(\w+)'\)", text)
        if m:
            out[m.group(1)] = (p.stem, text)
    return out


def _staging_name(sql_text: str, contract_column: str) -> str:
    """The name staging gives a contract column (``col[::type] as name``, or unchanged)."""
    m = re.search(rf"\b{contract_column}\b(?:::\w+)?\s+as\s+(\w+)", sql_text)
    return m.group(1) if m else contract_column


@pytest.fixture(scope="module")
def suites():
    return {s.name: s for s in load_suites(EXPECTATIONS)}


@pytest.fixture(scope="module")
def critical(suites):
    return suites["critical"]


def _asset_for(critical, table: str) -> AssetSpec:
    assets = [a for a in critical.assets if a.contract_table == table]
    assert len(assets) == 1, f"{table}: expected one critical asset, found {len(assets)}"
    return assets[0]


def test_severities(suites):
    assert suites["critical"].severity == "critical"
    assert suites["warnings"].severity == "warning"


@pytest.mark.parametrize("table", sorted(load_contract().tables))
def test_every_contract_key_is_unique_and_not_null(critical, table):
    stg = _staging_models()
    model, text = stg[table]
    asset = _asset_for(critical, table)
    key = load_contract().table(table).key.name
    assert asset.key == _staging_name(text, key), f"{table}: asset key is not {key}"
    assert f"staging.{model}" in asset.query
    checks = {(e.type, e.column) for e in asset.expectations}
    assert ("expect_column_values_to_not_be_null", asset.key) in checks
    assert ("expect_column_values_to_be_unique", asset.key) in checks


REFERENCES = [
    (t.name, c.name, c.references)
    for t in load_contract().tables.values()
    for c in t.columns
    if c.references
]


@pytest.mark.parametrize(("table", "column", "references"), REFERENCES,
                         ids=[f"{t}.{c}" for t, c, _ in REFERENCES])
def test_every_reference_has_a_critical_expectation(critical, table, column, references):
    stg = _staging_models()
    asset = _asset_for(critical, table)
    matches = [e for e in asset.expectations if e.meta.get("contract_column") == column]
    assert len(matches) == 1, f"{table}.{column} -> {references}: no critical expectation"
    exp = matches[0]
    assert exp.meta["references"] == references
    assert exp.type == "expect_column_values_to_be_in_set"
    assert exp.kwargs["value_set"] == [True]
    # the asset computes the flag from the referenced table's staging model and column, in
    # one set-based pass: a left join to the referenced keys (distinct, so no row of the
    # asset is repeated), null when the reference is blank
    ref_table, ref_col = references.split(".")
    ref_model, ref_sql = stg[ref_table]
    own_col = _staging_name(stg[table][1], column)
    ref_name = _staging_name(ref_sql, ref_col)
    join = re.search(
        rf"\bleft join \(select distinct {ref_name} from staging\.{ref_model}\) as (\w+) "
        rf"on \1\.{ref_name} = t\.{own_col}(?: |$)",
        asset.query,
    )
    assert join, f"{table}.{column}: no left join to {references}"
    alias = join.group(1)
    assert re.search(
        rf"case when t\.{own_col} is not null then {alias}\.{ref_name} is not null end "
        rf"as {exp.column}\b",
        asset.query,
    ), f"{table}.{column}: the flag {exp.column} does not check {references}"
    assert f"from staging.{stg[table][0]} as t " in asset.query
    assert "exists (" not in asset.query, "a per-row subquery: use the left join"


def test_no_expectation_claims_a_reference_the_contract_lacks(critical):
    claimed = {(a.contract_table, e.meta["contract_column"])
               for a, e in critical.expectations if "contract_column" in e.meta}
    assert claimed == {(t, c) for t, c, _ in REFERENCES}


def test_every_span_table_ends_on_or_after_it_starts(critical):
    """Every staging model with a start and an end is checked end >= start."""
    spans = 0
    for table, (_model, text) in _staging_models().items():
        starts = re.findall(r"as (start_date|referral_date)\b", text)
        ends = re.findall(r"as (end_date|close_date|authorised_date)\b", text)
        if not (starts and ends):
            continue
        spans += 1
        asset = _asset_for(critical, table)
        pairs = [e for e in asset.expectations
                 if e.type == "expect_column_pair_values_a_to_be_greater_than_b"]
        assert pairs, f"{table}: no end-on-or-after-start check"
        e = pairs[0]
        assert (e.kwargs["column_A"], e.kwargs["column_B"]) == (ends[0], starts[0])
        assert e.kwargs["or_equal"] is True
    assert spans >= 12


def test_overlapping_placements_and_required_columns_are_critical(critical):
    names = {e.name for _, e in critical.expectations}
    assert "placement_overlaps: no overlapping placements" in names
    assert "load_files: required columns present" in names


def test_warnings_have_thresholds_and_worklists(suites):
    warnings = suites["warnings"]
    assert len(warnings.expectations) >= 4
    for asset, e in warnings.expectations:
        assert e.mostly is not None and 0 < e.mostly <= 1, e.name
        assert e.worklist and e.worklist.startswith("wl_"), e.name
        assert (WORKLISTS / f"{e.worklist}.sql").exists(), e.worklist
        assert "{as_of}" in asset.query, f"{asset.name} must use the night's as_of"


def test_postcode_rule_is_the_same_in_gx_and_the_worklist(suites):
    query = next(a.query for a in suites["warnings"].assets if a.name == "current_location")
    regex = re.search(r"!~ '([^']+)'", query).group(1)
    assert regex in (WORKLISTS / "wl_current_location_unknown.sql").read_text()
    pattern = re.compile(regex)
    for ok in ("SW1A 1AA", "M1 1AE", "B33 8TH", "CR2 6XH", "DN55 1PT", "EC1A1BB"):
        assert pattern.match(ok), ok
    for bad in ("", "SW1A", "12345", "SW1A 1A", "NOT A POSTCODE"):
        assert not pattern.match(bad), bad


def test_as_of_is_substituted_as_a_date_literal():
    q = "select * from t where d <= {as_of} and x ~ '[0-9]{1,2}'"
    assert render_query(q, dt.date(2026, 11, 27)) == (
        "select * from t where d <= date '2026-11-27' and x ~ '[0-9]{1,2}'"
    )
    assert as_of_literal(dt.date(2026, 1, 2)) == "date '2026-01-02'"
    for bad in ("2026-11-27'; drop table x; --", dt.datetime(2026, 1, 1)):
        with pytest.raises(TypeError):
            as_of_literal(bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="as_of"):
        render_query(q, None)


def test_required_columns_placeholder_lists_the_contract():
    rendered = render_query("select * from ({required_columns}) as r (t, c)")
    for t in load_contract().tables.values():
        for c in t.required_columns:
            assert f"('{t.name}', '{c}')" in rendered


def test_suite_file_rules(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("name: x\nseverity: fatal\nassets: []\n")
    with pytest.raises(ValueError, match="severity"):
        load_suite(bad)
    bad.write_text(
        "name: x\nseverity: warning\nassets:\n- name: a\n  query: select 1 -- c\n"
        "  expectations: []\n"
    )
    with pytest.raises(ValueError, match="comments"):
        load_suite(bad)
    bad.write_text(
        "name: x\nseverity: warning\nassets:\n- name: a\n  query: select 1 as c\n"
        "  expectations:\n  - {type: expect_column_values_to_not_be_null, column: c, "
        "mostly: 1.5}\n"
    )
    with pytest.raises(ValueError, match="mostly"):
        load_suite(bad)


def test_gx_materialises_only_the_columns_the_expectations_read(suites):
    """Each asset's query is materialised once (GX temporary table) with only its key and
    checked columns; an asset with a table-level expectation keeps every column."""
    from csc_warehouse.validate.run import _gx_query, checked_columns

    addresses = next(a for a in suites["critical"].assets if a.name == "addresses")
    assert checked_columns(addresses) == ["address_id", "person_exists", "end_date",
                                          "start_date"]
    assert _gx_query("with x as (select 1 as a) select * from x", ["a"]) == (
        "select a from (with x as (select 1 as a) select * from x) as asset")
    for suite in suites.values():
        for asset in suite.assets:
            cols = checked_columns(asset)
            assert cols and cols[0] == asset.key, asset.name
            for e in asset.expectations:
                assert e.column in cols, (asset.name, e.name)
    table_level = AssetSpec("rows", "select 1 as a", "a", (ExpectationSpec(
        "rows: count", "expect_table_row_count_to_be_between", {"min_value": 1}),))
    assert checked_columns(table_level) is None
    assert _gx_query("select 1 as a", None) == "select 1 as a"
    assert _gx_query("with x as (select 1 as a) select * from x", None).startswith(
        "select * from (with x")
    odd = AssetSpec("odd", "select 1 as \"A b\"", "A b", (ExpectationSpec(
        "odd: nn", "expect_column_values_to_not_be_null", {"column": "A b"}),))
    assert checked_columns(odd) is None
