"""dbt's own unit tests (the hand-worked cases beside every model) run in CI through pytest.

They execute in the warehouse against mocked inputs; dbt introspects the real parent
relations for column types, so they run after a full build of the models."""

from __future__ import annotations

import re

import pytest
import yaml

from conftest import REPO


@pytest.fixture(scope="module")
def cscw(built_warehouse):
    """The built warehouse's own database (dbt introspects its relations)."""
    return built_warehouse["cscw"]


def test_every_dbt_unit_test_passes(cscw, built_warehouse):
    proc = cscw.run("dbt", "test", "--select", "test_type:unit", check=False)
    out = proc.stdout + proc.stderr
    m = re.search(r"dbt test: (\d+) nodes, (\d+) failed", out)
    assert m, out[-3000:]
    nodes, failed = int(m.group(1)), int(m.group(2))
    assert failed == 0 and proc.returncode == 0, out[-6000:]
    # every unit test declared beside the models ran (a selector typo would run none)
    declared = sum(
        len(yaml.safe_load(p.read_text()).get("unit_tests") or [])
        for p in (REPO / "dbt_project" / "models").rglob("_*__models.yml")
    )
    # dbt also reports the project's on-run-start hooks as nodes of the command
    project = yaml.safe_load((REPO / "dbt_project" / "dbt_project.yml").read_text())
    hooks = len(project.get("on-run-start") or [])
    assert nodes - hooks == declared >= 43
