"""The optional extension table ext_camhs_referrals (contract v2) through the SSD loader:
loaded and checked like any contract table when the drop carries it, reported absent (and
nothing fails) when it does not. Each test gets its own fresh database (``db``)."""

from __future__ import annotations

import dataclasses

from conftest import q
from csc_warehouse.contract import load_contract
from csc_warehouse.drop import open_drop
from csc_warehouse.load.ssd import SsdLoader
from test_load_ssd import PERSON_HEADER, people, write_drop

CAMHS_HEADER = ",".join(load_contract().table("ext_camhs_referrals").column_names)


def _camhs_rows(n: int) -> str:
    """n well-formed referrals of P1..Pn: accepted, seen 10 weeks later, closed."""
    return "".join(
        f"CAMH{i:04d},P{i},2025-03-03,y,2025-05-12,2025-09-01,Treatment completed\n"
        for i in range(1, n + 1)
    )


def test_the_header_is_the_contract_of_spec_section_10():
    assert CAMHS_HEADER == (
        "camh_referral_id,camh_person_id,camh_referral_date,camh_accepted,"
        "camh_first_appointment_date,camh_closed_date,camh_outcome"
    )
    t = load_contract().table("ext_camhs_referrals")
    assert t.key.name == "camh_referral_id"
    assert t.required_columns == ["camh_referral_id", "camh_person_id", "camh_referral_date"]
    assert t.column("camh_accepted").code_list == "yes_no"


def test_camhs_referrals_load_with_a_bad_date_quarantined(db, tmp_path):
    url, settings = db
    body = (
        f"{CAMHS_HEADER}\n"
        + _camhs_rows(300)                                        # rows 2-301
        + "CAMH9001,P1,2025-13-01,Y,,,\n"                          # row 302: month 13
        + "CAMH9002,P2,2025-04-01,,,,\n"                          # row 303: open, undecided
        + "CAMH9003,P3,2025-04-01,maybe,,,\n"                     # row 304: not a Y/N
        + "CAMH9004,P4,2025-04-01,N,,2025-04-20,Not accepted\n"   # row 305: closed unseen
    )
    drop = write_drop(tmp_path, "2026-01-05", {
        "ssd_person.csv": f"{PERSON_HEADER}\n" + people(300, start=1),
        "ext_camhs_referrals.csv": body,
    })
    settings = dataclasses.replace(settings, reject_threshold=0.05)
    report = SsdLoader(url, settings).load(open_drop(drop))

    t = report.tables["ext_camhs_referrals"]
    assert t.status == "loaded"
    assert (t.rows_in_file, t.rows_loaded, t.rows_rejected) == (304, 302, 2)
    assert "ext_camhs_referrals" not in report.absent_tables
    assert q(url, "select source_file, row_number, column_name, value, reason from raw.rejects "
                  "order by row_number") == [
        ("ext_camhs_referrals.csv", 302, "camh_referral_date", "2025-13-01",
         "unparseable date (expected YYYY-MM-DD)"),
        ("ext_camhs_referrals.csv", 304, "camh_accepted", "maybe",
         "unknown code (not on the yes_no list)"),
    ]
    # codes upper-cased, blanks null, dates as delivered
    assert q(url, "select camh_referral_id, camh_accepted, camh_first_appointment_date, "
                  "camh_closed_date, camh_outcome from raw.ext_camhs_referrals "
                  "where camh_referral_id in ('CAMH0001', 'CAMH9002', 'CAMH9004') order by 1") == [
        ("CAMH0001", "Y", "2025-05-12", "2025-09-01", "Treatment completed"),
        ("CAMH9002", None, None, None, None),
        ("CAMH9004", "N", None, "2025-04-20", "Not accepted"),
    ]
    assert q(url, "select status, rows_loaded from raw.load_files "
                  "where table_name = 'ext_camhs_referrals'") == [("loaded", 302)]


def test_a_drop_without_camhs_referrals_loads_and_reports_the_table_absent(db, tmp_path):
    url, settings = db
    drop = write_drop(tmp_path, "2026-01-05", {
        "ssd_person.csv": f"{PERSON_HEADER}\n" + people(5)})
    report = SsdLoader(url, settings).load(open_drop(drop))
    assert report.tables["ssd_person"].rows_loaded == 5
    assert report.tables["ext_camhs_referrals"].status == "absent"
    assert "ext_camhs_referrals" in report.absent_tables
    assert q(url, "select count(*) from raw.ext_camhs_referrals") == [(0,)]
    assert q(url, "select status, message from raw.load_files "
                  "where table_name = 'ext_camhs_referrals'") == [
        ("absent", "table absent from the drop")]
    assert q(url, "select count(*) from raw.rejects") == [(0,)]


def test_a_generated_drop_carries_camhs_referrals_the_loader_accepts(db, tmp_path):
    from csc_warehouse.generate import generate_drop

    url, settings = db
    res = generate_drop(tmp_path / "2026-11-27", children=300, years=3, seed=5, workers=1)
    assert res.rows["ext_camhs_referrals"] > 0
    report = SsdLoader(url, settings).load(open_drop(res.path))
    t = report.tables["ext_camhs_referrals"]
    assert (t.rows_loaded, t.rows_rejected) == (res.rows["ext_camhs_referrals"], 0)
