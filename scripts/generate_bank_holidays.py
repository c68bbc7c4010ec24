"""Generate dbt_project/seeds/bank_holidays.csv: England & Wales bank holidays 2000-2035.

The seed is generated, never typed by hand:

    uv run python scripts/generate_bank_holidays.py          # rewrite the seed
    uv run python scripts/generate_bank_holidays.py --check  # exit 1 if the seed is stale

Source: the ``holidays`` package, ``country_holidays('GB', subdiv='ENG')``, which includes the
one-off holidays (2002 and 2012 jubilees, 2011 and 2023 royal events, 2022 platinum jubilee
and state funeral) and the substitute days when a holiday falls at a weekend. Every
working-day rule of the warehouse (macros/working_days.sql) reads this seed.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from pathlib import Path

import holidays

FIRST_YEAR = 2000
LAST_YEAR = 2035
SEED = Path(__file__).resolve().parents[1] / "dbt_project" / "seeds" / "bank_holidays.csv"


def bank_holidays(first: int = FIRST_YEAR, last: int = LAST_YEAR) -> list[tuple[str, str]]:
    """(ISO date, name) for every England & Wales bank holiday in [first, last], sorted."""
    cal = holidays.country_holidays("GB", subdiv="ENG", years=range(first, last + 1))
    return sorted((d.isoformat(), name) for d, name in cal.items())


def render(rows: list[tuple[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["holiday_date", "name"])
    writer.writerows(rows)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the seed is out of date")
    parser.add_argument("--out", type=Path, default=SEED)
    args = parser.parse_args(argv)
    text = render(bank_holidays())
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
        if current != text:
            print(f"{args.out} is out of date: run scripts/generate_bank_holidays.py")
            return 1
        print(f"{args.out} is up to date")
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out} ({text.count(chr(10)) - 1} holidays)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
