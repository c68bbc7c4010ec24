"""SSDA903 return files mapped onto the raw SSD tables: the mapping, quarantine of broken
rows, several years in one drop, and the public fake returns in ../shared/samples."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import shutil
from pathlib import Path

import pytest

from conftest import q
from csc_warehouse import pipeline
from csc_warehouse.drop import DropError, detect_format, infer_903_drop_date, open_drop
from csc_warehouse.load.ssda903 import Ssda903Loader, check_903_drop, parse_903_date

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "903"
SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "samples"
VALIDATOR = SAMPLES / "csc-validator-be-903"
DEMAND = SAMPLES / "cs-demand-model" / "combined"
EP_HEADER = ("CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,"
             "HOME_POST,PL_POST,URN\n")


def test_903_dates():
    assert parse_903_date("05/01/2020") == dt.date(2020, 1, 5)
    assert parse_903_date(" 5/1/2020 ") == dt.date(2020, 1, 5)
    assert parse_903_date("2020-01-05") == dt.date(2020, 1, 5)
    assert parse_903_date("") is None
    for bad in ("31/02/2021", "2020/01/05", "bad", "05-01-2020"):
        with pytest.raises(ValueError):
            parse_903_date(bad)


def test_mapping_and_quarantine_of_a_broken_return(db):
    url, settings = db
    settings = dataclasses.replace(settings, reject_threshold_903=1.0)
    report = Ssda903Loader(url, settings).load(open_drop(FIXTURES / "broken"))
    assert report.drop_date == dt.date(2021, 3, 31)
    b = report.batch_id
    # --- the mapping: child 100 has two periods; the first has two placements -------------
    assert q(url, """select clae_cla_episode_id, clae_cla_id, clae_cla_episode_start_reason,
                            clae_cla_episode_ceased_date, clae_cla_episode_ceased_reason,
                            clae_cla_placement_id, clae_entered_care_date
                     from raw.ssd_cla_episodes where clae_person_id = '100' order by 1""") == [
        ("100-2020-04-01", "100-2020-04-01", "S", "2020-06-01", "X1", "100-2020-04-01-pl",
         "2020-04-01"),
        ("100-2020-06-01", "100-2020-04-01", "L", "2020-09-01", "X1", "100-2020-04-01-pl",
         "2020-04-01"),
        ("100-2020-09-01", "100-2020-04-01", "P", "2021-01-15", "E11", "100-2020-09-01-pl",
         "2020-04-01"),
        ("100-2021-03-01", "100-2021-03-01", "S", None, None, "100-2021-03-01-pl",
         "2021-03-01"),
    ]
    assert q(url, """select clap_cla_placement_id, clap_cla_id, clap_cla_placement_start_date,
                            clap_cla_placement_end_date, clap_cla_placement_type,
                            clap_cla_placement_provider, clap_cla_placement_postcode,
                            clap_cla_placement_urn, clap_cla_placement_change_reason
                     from raw.ssd_cla_placement where clap_person_id = '100' order by 1""") == [
        ("100-2020-04-01-pl", "100-2020-04-01", "2020-04-01", "2020-09-01", "U1", "PR1",
         "CD1 1AA", "SC000001", "CARPL"),
        ("100-2020-09-01-pl", "100-2020-04-01", "2020-09-01", "2021-01-15", "K2", "PR4",
         "EF1 1AA", "SC000002", None),
        ("100-2021-03-01-pl", "100-2021-03-01", "2021-03-01", None, "U4", "PR1", "GH1 1AA",
         "SC000003", None),
    ]
    assert q(url, """select lega_legal_status, lega_legal_status_start_date,
                            lega_legal_status_end_date from raw.ssd_legal_status
                     where lega_person_id = '100' order by 2""") == [
        ("C1", "2020-04-01", "2020-06-01"), ("C2", "2020-06-01", "2021-01-15"),
        ("V2", "2021-03-01", None)]
    assert q(url, "select pers_person_id, pers_sex, pers_dob, _extra->>'upn' "
                  "from raw.ssd_person order by 1") == [
        ("100", "M", "2010-02-01", "A123456789012")]
    assert q(url, "select clar_cla_id, clar_cla_review_date, clar_cla_review_participation "
                  "from raw.ssd_cla_reviews") == [("100-2020-04-01", "2020-05-01", "PN1")]
    # child 200: the broken first episode is quarantined; the next starts a period whose
    # start the data does not reach (no entered-care date)
    assert q(url, "select clae_cla_id, clae_entered_care_date from raw.ssd_cla_episodes "
                  "where clae_person_id = '200'") == [("200-2020-10-10", None)]
    # provenance: the 903 file and row each raw row came from
    assert q(url, "select _source_file, _row_number, _batch_id from raw.ssd_cla_placement "
                  "where clap_cla_placement_id = '100-2020-09-01-pl'") == [
        ("episodes.csv", 4, b)]
    # --- the quarantine: every broken row, with file, row, column, value, reason -------------
    rejects = q(url, "select table_name, source_file, row_number, column_name, value, reason "
                     "from raw.rejects where batch_id = %s order by source_file, row_number",
                (b,))
    assert rejects == [
        ("ssd_cla_episodes", "episodes.csv", 6, "DEC", "31/02/2021",
         "unparseable date (expected DD/MM/YYYY)"),
        ("ssd_cla_episodes", "episodes.csv", 8, "RNE", "Q",
         "unknown code (not on the reason_for_new_episode list)"),
        ("ssd_cla_placement", "episodes.csv", 9, "PLACE (clap_cla_placement_type)", "ZZ",
         "unknown code (not on the placement_type list)"),
        ("ssd_cla_episodes", "episodes.csv", 11, "DECOM", "05/02/2021",
         "does not chain: the previous episode ended X1 (new episode the same day) on "
         "another day"),
        ("ssd_person", "header.csv", 3, "DOB", "31/13/2011",
         "unparseable date (expected DD/MM/YYYY)"),
        ("ssd_person", "header.csv", 4, "SEX (pers_sex)", "3",
         "unknown code (not on the sex list)"),
        ("ssd_missing", "missing.csv", 2, "CHILD+MIS_START", "100/2020-05-02",
         "duplicate key (2 rows of this return share it)"),
        ("ssd_missing", "missing.csv", 3, "CHILD+MIS_START", "100/2020-05-02",
         "duplicate key (2 rows of this return share it)"),
        ("ssd_cla_reviews", "reviews.csv", 3, "REVIEW_CODE (clar_cla_review_participation)",
         "PN9", "unknown code (not on the review_participation list)"),
        ("ssd_cla_reviews", "reviews.csv", 4, "REVIEW", "bad",
         "unparseable date (expected DD/MM/YYYY)"),
    ]
    files = dict((r[0], r[1:]) for r in q(
        url, "select source_file, role, rows_in_file, rows_rejected, status "
             "from raw.load_source_files where batch_id = %s", (b,)))
    assert files == {
        "episodes.csv": ("episodes", 10, 4, "loaded"),
        "header.csv": ("header", 3, 2, "loaded"),
        "reviews.csv": ("reviews", 3, 2, "loaded"),
        "missing.csv": ("missing", 2, 2, "loaded"),
        "uasc.csv": ("uasc", None, None, "ignored"),
    }
    # tables the 903 does not feed are reported absent (measures: not available)
    absent = {t for (t,) in q(url, "select table_name from raw.load_files "
                                   "where batch_id = %s and status = 'absent'", (b,))}
    assert "ssd_cin_episodes" in absent and "ssd_cla_episodes" not in absent


def test_the_903_threshold_rejects_the_drop_naming_the_file(db):
    url, settings = db
    with pytest.raises(DropError, match=r"episodes\.csv: 4 of 10 rows quarantined \(40\.0%, "
                                        r"over the 5% CSCW_REJECT_THRESHOLD_903\)"):
        Ssda903Loader(url, settings).load(open_drop(FIXTURES / "broken"))
    assert q(url, "select count(*) from raw.ssd_cla_episodes") == [(0,)]
    assert q(url, "select status from raw.load_batches") == [("rejected",)]


def test_several_years_in_one_drop_latest_return_wins(db, tmp_path):
    url, settings = db
    drop = tmp_path / "returns"
    (drop / "2021").mkdir(parents=True)
    (drop / "2020-episodes.csv").write_text(
        EP_HEADER + "7,01/04/2019,S,C2,N1,U1,PR1,,,,,AA1 1AA,1\n"
                    "8,01/05/2019,S,V2,N1,U1,PR1,01/06/2019,E13,,,,\n")
    # the next return closes child 7's episode (the same CHILD+DECOM) and adds one
    (drop / "2021" / "episodes.csv").write_text(
        EP_HEADER + "7,01/04/2019,S,C2,N1,U1,PR1,01/07/2020,X1,CHILD,,AA1 1AA,1\n"
                    "7,01/07/2020,P,C2,N1,U4,PR4,,,,,BB1 1BB,2\n")
    assert infer_903_drop_date(drop) == dt.date(2020, 7, 1)
    d = open_drop(drop)  # a folder named neither by date nor with a manifest
    assert d.drop_date == dt.date(2020, 7, 1)
    report = Ssda903Loader(url, settings).load(d)
    assert report.tables["ssd_cla_episodes"].rows_loaded == 3
    assert q(url, """select clae_cla_episode_id, clae_cla_episode_ceased_date,
                            clae_cla_episode_ceased_reason, _source_file
                     from raw.ssd_cla_episodes order by 1""") == [
        ("7-2019-04-01", "2020-07-01", "X1", "2021/episodes.csv"),
        ("7-2020-07-01", None, None, "2021/episodes.csv"),
        ("8-2019-05-01", "2019-06-01", "E13", "2020-episodes.csv"),
    ]
    assert q(url, "select clap_cla_placement_change_reason from raw.ssd_cla_placement "
                  "where clap_cla_placement_id = '7-2019-04-01-pl'") == [("CHILD",)]


def test_a_903_drop_must_have_episodes_and_csv_files(tmp_path):
    d = tmp_path / "2021-03-31"
    d.mkdir()
    (d / "header.csv").write_text("CHILD,SEX,DOB,ETHNIC\n1,1,01/01/2010,WBRI\n")
    with pytest.raises(DropError, match="no 903 episodes file"):
        check_903_drop(open_drop(d))
    (d / "episodes.csv").write_text("CHILD,DECOM\n1,01/01/2020\n")
    with pytest.raises(DropError, match=r"episodes\.csv: missing required columns RNE, LS"):
        check_903_drop(open_drop(d))
    (d / "episodes.csv").unlink()
    (d / "episodes.xlsx").write_bytes(b"PK\x03\x04")
    with pytest.raises(DropError, match=r"episodes\.xlsx: not a CSV file"):
        check_903_drop(open_drop(d))


# --- the public fake returns ------------------------------------------------------------------
@pytest.mark.skipif(
    not VALIDATOR.is_dir() and not os.environ.get("CI"),  # in CI a missing sample fails
    reason="samples not present",
)
def test_validator_sample_loads_every_file_and_quarantines_broken_rows(db, tmp_path):
    url, settings = db
    drop = open_drop(VALIDATOR)
    report = Ssda903Loader(url, settings).load(drop)
    files = {r[0]: r[1:] for r in q(
        url, "select source_file, rows_in_file, rows_rejected, status "
             "from raw.load_source_files where batch_id = %s", (report.batch_id,))}
    assert files["episodes.csv"] == (5050, 72, "loaded")
    assert files["header.csv"] == (2675, 0, "loaded")
    assert files["reviews.csv"] == (12582, 28, "loaded")
    assert files["missing.csv"] == (43, 0, "loaded")
    assert files["uasc.csv"][2] == "ignored"
    t = report.tables
    assert t["ssd_cla_episodes"].rows_loaded == 5050 - 72
    assert t["ssd_person"].rows_loaded == 2675
    assert t["ssd_cla_reviews"].rows_loaded == 12582 - 28
    assert t["ssd_cla_placement"].rows_loaded > 0 and t["ssd_legal_status"].rows_loaded > 0
    # every quarantined row says where it is and why
    assert q(url, "select count(*) from raw.rejects where batch_id = %s and (reason is null "
                  "or row_number is null or source_file is null or column_name is null)",
             (report.batch_id,)) == [(0,)]
    reasons = dict(q(url, "select reason, count(*) from raw.rejects where batch_id = %s "
                          "group by 1", (report.batch_id,)))
    assert reasons["does not chain: starts before the previous period of care ended"] == 54
    # every period of care in raw has exactly one first episode
    assert q(url, """select count(*) from (select clae_cla_id from raw.ssd_cla_episodes
                     group by 1 having count(*) filter (where clae_cla_episode_id
                     = clae_cla_id) <> 1) x""") == [(0,)]


@pytest.mark.skipif(
    not DEMAND.is_dir() and not os.environ.get("CI"),  # in CI a missing sample fails
    reason="samples not present",
)
def test_five_years_of_demand_model_returns_load(db, tmp_path):
    url, settings = db
    drop = tmp_path / "combined"
    shutil.copytree(DEMAND, drop)
    report = Ssda903Loader(url, settings).load(open_drop(drop))
    assert report.drop_date == dt.date(2022, 3, 27)  # the latest DECOM/DEC
    files = {r[0]: r[1:] for r in q(
        url, "select source_file, rows_in_file, rows_rejected, status "
             "from raw.load_source_files where batch_id = %s", (report.batch_id,))}
    for year in range(2017, 2022):
        for kind in ("episodes", "header", "reviews", "missing"):
            assert files[f"{year}-{kind}.csv"][2] == "loaded"
        assert files[f"{year}-uasc.csv"][2] == "ignored"
    assert {y: files[f"{y}-episodes.csv"][:2] for y in range(2017, 2022)} == {
        2017: (1460, 26), 2018: (974, 13), 2019: (648, 3), 2020: (402, 3), 2021: (253, 3)}
    # episodes repeated across returns are one episode
    assert q(url, "select count(*), count(distinct (clae_person_id, "
                  "clae_cla_episode_start_date)) from raw.ssd_cla_episodes") == [(2779, 2779)]
    assert report.tables["ssd_person"].rows_loaded == 820


@pytest.mark.skipif(
    not (VALIDATOR.is_dir() and DEMAND.is_dir()) and not os.environ.get("CI"),
    reason="samples not present",
)
def test_year_prefixed_903_drops_are_detected_as_903(tmp_path):
    """A 903 drop whose files carry the return's year (``2017-episodes.csv``, the layout
    docs/loading.md documents) is SSDA903 without ``--format 903``: the public returns
    renamed that way, and the demand model's five returns as published."""
    drop = tmp_path / "renamed"
    drop.mkdir()
    for f in VALIDATOR.glob("*.csv"):
        shutil.copyfile(f, drop / f"2024-{f.name}")
    assert detect_format(drop) == "903"
    checked = pipeline.check_drop(str(drop))
    assert checked["format"] == "903"
    assert checked["files"]["2024-episodes.csv"]["kind"] == "episodes"
    assert checked["files"]["2024-header.csv"]["mapped"] is True
    underscored = tmp_path / "underscored"
    underscored.mkdir()
    shutil.copyfile(VALIDATOR / "episodes.csv", underscored / "2024_episodes.csv")
    assert detect_format(underscored) == "903"
    by_folder = tmp_path / "by-folder"
    (by_folder / "2024").mkdir(parents=True)
    shutil.copyfile(VALIDATOR / "header.csv", by_folder / "2024" / "header.csv")
    assert detect_format(by_folder) == "903"
    combined = tmp_path / "combined"
    shutil.copytree(DEMAND, combined)
    assert pipeline.check_drop(str(combined))["format"] == "903"
    # an SSD drop stays SSD, and a format given is the format used
    ssd = tmp_path / "ssd"
    ssd.mkdir()
    (ssd / "ssd_person.csv").write_text("pers_person_id\nP1\n")
    assert detect_format(ssd) == "ssd"
    assert detect_format(drop, "ssd") == "ssd"
