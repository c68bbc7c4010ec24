"""Placement stability: the dbt marts against the independent pandas cross-check.

``placement_crosscheck`` computes, from the SSDA903 sample returns alone (no SQL shared with
the models), for 31 March of each year: children looked after (V3/V4 left out), those with
3+ placements in the year, and the long-term-stability numerator and denominator.

- ``test_crosscheck_figures_on_the_samples`` pins those figures (fast, no warehouse).
- ``test_marts_equal_the_crosscheck`` loads the five returns through the real CLI
  (``cscw run --drop DIR --format 903 --as-of 2022-03-31``) and asserts the published mart
  and the as_of fact give the same numbers as the independent check computed on the same
  episodes (the ones the loader quarantined for not chaining are left out of both, by the
  file and row that ``raw.rejects`` names). What it expects of the loader: ONE drop folder
  named 2022-03-31 holding the five returns as the samples name them (``2017-episodes.csv``
  ... ``2021-header.csv``, ``<YEAR>-reviews.csv`` etc.), stacked by the loader with the
  same (CHILD, DECOM) = one episode and the latest YEAR's values winning; periods of care,
  placements and legal-status spans mapped as extract-contract.md describes.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import pytest

import placement_crosscheck as pc

SAMPLES = (
    Path(__file__).resolve().parents[2] / "shared" / "samples" / "cs-demand-model" / "combined"
)
AS_OF = dt.date(2022, 3, 31)

#: (31 March, CLA, 3+ placements, long-term denominator, long-term numerator), from the spec
#: alone - see the module docstring of placement_crosscheck for the readings of the mapping.
#: Version 2, section 7 lowered the long-term denominators (v1: 26, 74, 114, 71, 45) and two
#: numerators (v1: 19 in 2020, 9 in 2021, 8 in 2022): in these fake returns 16 children
#: looked after on 31 March 2018 are in a period that began under V3/V4 and moved to another legal
#: status; their period of care starts on the day of that change, which puts some of them
#: less than 30 months before 31 March (e.g. child 284120: first episode 31 July 2016 under
#: V3, J2 from 4 March 2018 - looked after 27 days on 31 March 2018, not 20 months).
EXPECTED = [
    (dt.date(2018, 3, 31), 462, 110, 25, 7),
    (dt.date(2019, 3, 31), 287, 68, 68, 11),
    (dt.date(2020, 3, 31), 181, 34, 102, 18),
    (dt.date(2021, 3, 31), 122, 25, 68, 8),
    (dt.date(2022, 3, 31), 75, 15, 44, 7),
]

needs_samples = pytest.mark.skipif(
    not SAMPLES.is_dir() and not os.environ.get("CI"),  # in CI a missing sample fails
    reason=f"no samples at {SAMPLES}",
)


@needs_samples
def test_crosscheck_figures_on_the_samples() -> None:
    got = [
        (f.as_of, f.looked_after, f.three_plus_placements, f.long_term_denominator,
         f.long_term_numerator)
        for f in pc.yearly_figures(SAMPLES)
    ]
    assert got == EXPECTED


def test_add_months_clamps_to_month_end() -> None:
    assert pc._add_months(dt.date(2023, 1, 31), 1) == dt.date(2023, 2, 28)
    assert pc._add_months(dt.date(2024, 3, 31), -30) == dt.date(2021, 9, 30)
    assert pc._add_months(dt.date(2023, 8, 31), 6) == dt.date(2024, 2, 29)


def test_placements_follow_the_903_mapping() -> None:
    """RNE L continues a placement; P starts one; a non-X1 REC ends the period of care."""
    import pandas as pd

    d = dt.date
    eps = pd.DataFrame([
        {"CHILD": "1", "DECOM": d(2020, 1, 1), "RNE": "S", "LS": "C1", "PLACE": "U6",
         "DEC": d(2020, 3, 1), "REC": "X1"},
        {"CHILD": "1", "DECOM": d(2020, 3, 1), "RNE": "L", "LS": "C2", "PLACE": "U6",
         "DEC": d(2020, 6, 1), "REC": "X1"},
        {"CHILD": "1", "DECOM": d(2020, 6, 1), "RNE": "P", "LS": "C2", "PLACE": "K2",
         "DEC": d(2021, 1, 1), "REC": "E4A"},
        {"CHILD": "1", "DECOM": d(2021, 2, 1), "RNE": "S", "LS": "V2", "PLACE": "U4",
         "DEC": None, "REC": None},
    ])
    periods = pc.periods_of_care(eps)
    assert [(p.number, p.start, p.end) for p in periods] == [
        (1, d(2020, 1, 1), d(2021, 1, 1)), (2, d(2021, 2, 1), None)]
    places = pc.placements(periods)
    assert [(p.start, p.end, p.place) for p in places] == [
        (d(2020, 1, 1), d(2020, 6, 1), "U6"), (d(2020, 6, 1), d(2021, 1, 1), "K2"),
        (d(2021, 2, 1), None, "U4")]
    fig = pc.stability_on(d(2021, 3, 31), periods, places, {"1": d(2012, 1, 1)})
    assert (fig.looked_after, fig.three_plus_placements) == (1, 1)  # U6 + K2 + U4 in the year


@pytest.mark.integration
@needs_samples
def test_marts_equal_the_crosscheck(cscw, tmp_path: Path) -> None:
    drop = tmp_path / AS_OF.isoformat()
    drop.mkdir()
    for f in SAMPLES.glob("*.csv"):
        shutil.copy(f, drop / f.name)
    cscw.run("run", "--drop", str(drop), "--format", "903", "--as-of", AS_OF.isoformat())

    # the loader quarantines episodes that do not chain (raw.rejects names file and row);
    # the independent check leaves out exactly those rows and computes from the spec alone
    quarantined = {
        (f, n) for f, n in cscw.query(
            "select distinct source_file, row_number from raw.rejects "
            "where table_name = 'ssd_cla_episodes' and batch_id = (select batch_id from "
            "raw.load_batches where drop_date = %s and status = 'loaded')", (AS_OF,)
        )
    }
    assert quarantined, "the samples hold episodes that do not chain"
    expected = pc.yearly_figures(drop, exclude=quarantined)
    assert [f.as_of for f in expected] == [e[0] for e in EXPECTED]

    rows = cscw.query(
        "select measure, period_end, numerator, denominator from marts.mart_placement_kpis "
        "where measure in ('three_plus_placements_12m', 'long_term_stability') "
        "and team = 'all' and is_complete_period and period_end >= %s",
        (EXPECTED[0][0],),
    )
    got = {(m, p): (n, d) for m, p, n, d in rows}
    for f in expected:
        assert got[("three_plus_placements_12m", f.as_of)] == (
            f.three_plus_placements, f.looked_after), f.as_of
        assert got[("long_term_stability", f.as_of)] == (
            f.long_term_numerator, f.long_term_denominator), f.as_of

    (n, n3, lt_den, lt_num), = cscw.query(
        "select count(*), count(*) filter (where has_3plus_placements_12m), "
        "count(*) filter (where in_long_term_denominator), "
        "count(*) filter (where long_term_stable) from analytics.fct_cla_stability"
    )
    last = expected[-1]
    assert (n, n3, lt_den, lt_num) == (last.looked_after, last.three_plus_placements,
                                       last.long_term_denominator, last.long_term_numerator)
