"""The contract as code: the YAML matches the requirement, and the files generated from it
(dbt sources, docs page) are committed up to date."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from csc_warehouse.contract import load_contract
from csc_warehouse.contract.render import rendered_files

REPO = Path(__file__).resolve().parents[1]
SPEC = REPO.parent / "shared" / "spec" / "extract-contract.md"


@pytest.mark.parametrize("path", sorted(str(p.relative_to(REPO)) for p in rendered_files(REPO)))
def test_generated_files_are_not_stale(path):
    expected = rendered_files(REPO)[REPO / path]
    actual = (REPO / path).read_text(encoding="utf-8") if (REPO / path).exists() else None
    assert actual == expected, f"{path} is stale: run `uv run cscw contract render`"


def _spec_tables() -> dict[str, tuple[str, list[str]]]:
    out = {}
    for line in SPEC.read_text(encoding="utf-8").splitlines():
        # a table added by a later contract version is marked "(v2)" after its name
        m = re.match(r"^\| (ssd_\w+|ext_\w+)(?: \(v\d+\))? \| (\w+) \| ([^|]+) \|", line)
        if m:
            out[m.group(1)] = (m.group(2), [c.strip() for c in m.group(3).split(",")])
    return out


@pytest.mark.skipif(
    not SPEC.exists() and not os.environ.get("CI"),  # in CI a missing sample fails
    reason="the requirement text is not beside the repo",
)
def test_every_table_key_and_required_column_of_the_requirement_is_in_the_contract():
    spec = _spec_tables()
    contract = load_contract()
    assert len(spec) == 19
    assert set(spec) == set(contract.tables)
    for name, (key, required) in spec.items():
        table = contract.tables[name]
        assert table.key.name == key, name
        assert set(table.required_columns) == set(required), name


def test_code_lists_of_the_requirement():
    cl = load_contract().code_lists
    assert cl["sex"].normalise("1") == "M" and cl["sex"].normalise("f") == "F"
    assert cl["legal_status"].open and cl["legal_status"].normalise("sgo") == "SGO"
    assert set(cl["reason_for_new_episode"].values) == set("SLPTBU")
    assert cl["cp_category"].normalise("Neglect") == "NEG"
    assert cl["missing_type"].normalise("away") == "A"
    assert {"E43", "E44", "E4A", "E4B", "X1"} <= set(cl["reason_episode_ceased"].values)
    assert {f"PR{i}" for i in range(6)} == set(cl["placement_provider"].values)
    assert {f"PN{i}" for i in range(8)} == set(cl["review_participation"].values)
    assert {f"RC{i}" for i in range(1, 10)} == set(cl["close_reason"].values)
    assert {f"N{i}" for i in range(10)} == set(cl["primary_need"].values)
    assert {"Z1", "Z11", "Z14", "T0", "U6", "A3", "K3"} <= set(cl["placement_type"].values)


def test_local_extensions_are_in_the_contract():
    t = load_contract().tables
    assert {"ext_close_authorised_by", "ext_close_authorised_date"} <= set(
        t["ssd_cin_episodes"].column_names)
    assert t["ext_plan_actions"].column("plan_type").code_list == "plan_type"
    assert t["ext_plan_actions"].column("target_date").type == "date"
