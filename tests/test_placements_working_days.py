"""The bank-holiday seed is generated (never hand-typed) and holds the edge days the
working-day rules are tested on."""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SEED = REPO / "dbt_project" / "seeds" / "bank_holidays.csv"


def _script():
    spec = importlib.util.spec_from_file_location(
        "generate_bank_holidays", REPO / "scripts" / "generate_bank_holidays.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_seed_is_what_the_script_generates() -> None:
    assert _script().main(["--check"]) == 0, "run: uv run python scripts/generate_bank_holidays.py"


def test_seed_covers_2000_to_2035_with_the_edge_days() -> None:
    with SEED.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    days = {r["holiday_date"] for r in rows}
    assert min(days).startswith("2000-") and max(days).startswith("2035-")
    assert len(days) == len(rows)  # unique
    for d in ("2022-04-15", "2022-04-18",  # Easter 2022
              "2022-06-02", "2022-06-03",  # platinum jubilee
              "2022-09-19",  # state funeral
              "2023-05-08",  # coronation
              "2024-03-29", "2024-04-01"):  # Easter 2024
        assert d in days, d
    assert "2022-05-30" not in days  # the 2022 spring holiday moved to 2 June
