"""The SSD raw load against the session's warehouse: every test gets its own fresh
database on that server (bootstrapped), so tests never see each other's batches."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from pathlib import Path

import psycopg2
import psycopg2.errors
import pytest

from conftest import q
from csc_warehouse.config import get_settings
from csc_warehouse.drop import DropError, open_drop, write_manifest
from csc_warehouse.load.ssd import SsdLoader

PERSON_HEADER = "pers_person_id,pers_sex,pers_ethnicity,pers_dob,pers_forename"


def write_drop(root: Path, night: str, files: dict[str, bytes | str], manifest: bool = False,
               **manifest_extra) -> Path:
    d = root / night
    d.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (d / name).write_bytes(content.encode() if isinstance(content, str) else content)
    if manifest:
        m = write_manifest(d, dt.date.fromisoformat(night))
        if manifest_extra:
            m.update(manifest_extra)
            (d / "manifest.json").write_text(json.dumps(m))
    return d


def run_sql(url: str, statement: str) -> None:
    """Execute and commit one statement (``q`` only reads)."""
    conn = psycopg2.connect(url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(statement)
    finally:
        conn.close()


def people(n: int, start: int = 1) -> str:
    return "".join(f"P{i},M,WBRI,2010-01-{1 + i % 28:02d},Name{i}\n"
                   for i in range(start, start + n))


def snapshot(url: str) -> dict[str, list]:
    """Every raw table's full contents (sorted), for before/after comparisons."""
    from csc_warehouse.contract import load_contract

    out = {}
    tables = [*load_contract().tables, "load_files", "rejects", "record_history",
              "load_source_files"]
    for t in tables:
        out[t] = sorted(map(str, q(url, f"select to_jsonb(t) from raw.{t} t")))
    out["load_batches"] = sorted(map(str, q(
        url, "select batch_id, status, history_applied, raw_pruned_at, message "
        "from raw.load_batches")))
    return out


# --- encodings and CSV dialects: values arrive exactly -------------------------------------
NASTY = "Zoë “Jo”, O’Brien – née Brontë"
MULTILINE = 'Line one, with comma\nline "two"'
CASES = {
    "utf8": (f'{PERSON_HEADER}\nP1,F,WBRI,2010-01-02,"{NASTY.replace(chr(34), chr(34) * 2)}"\n'
             .encode()),
    "utf8_bom": (b"\xef\xbb\xbf" + f"{PERSON_HEADER}\nP1,F,WBRI,2010-01-02,\"{NASTY}\"\n"
                 .encode()),
    "cp1252": f"{PERSON_HEADER}\r\nP1,F,WBRI,2010-01-02,\"{NASTY}\"\r\n".encode("cp1252"),
    "crlf_embedded_newline": (
        f'{PERSON_HEADER}\r\nP1,F,WBRI,2010-01-02,"{MULTILINE.replace(chr(34), chr(34) * 2)}"'
        "\r\n".encode()
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_encodings_line_endings_and_quoting_arrive_exactly(db, tmp_path, case):
    url, settings = db
    expected = MULTILINE if case == "crlf_embedded_newline" else NASTY
    drop = write_drop(tmp_path, "2026-01-05", {"ssd_person.csv": CASES[case]})
    report = SsdLoader(url, settings).load(open_drop(drop))
    assert report.tables["ssd_person"].rows_loaded == 1
    assert report.tables["ssd_person"].encoding == ("WIN1252" if case == "cp1252" else "UTF8")
    (name, person_id), = q(url, "select pers_forename, pers_person_id from raw.ssd_person")
    assert name == expected  # never mangled, never truncated
    assert person_id == "P1"  # the BOM is not part of the first column


def test_configured_encoding_is_honoured(db, tmp_path):
    url, settings = db
    content = f"{PERSON_HEADER}\nP1,F,WBRI,2010-01-02,Brontë\n".encode("cp1252")
    drop = write_drop(tmp_path, "2026-01-05", {"ssd_person.csv": content}, manifest=True,
                      encoding="utf8")
    with pytest.raises(DropError, match=r"ssd_person\.csv: unreadable encoding"):
        SsdLoader(url, settings).load(open_drop(drop))


# --- row-level quarantine ----------------------------------------------------------------
def test_row_level_faults_are_quarantined_with_file_row_column_value_reason(db, tmp_path):
    url, settings = db
    body = (
        f"{PERSON_HEADER}\n"
        "P1,1,WBRI,2010-01-02 13:45:00,Ann\n"       # row 2: legacy sex 1 -> M, time dropped
        "P2,f,WBRI,2011-02-30,Bea\n"                # row 3: 30 February
        "P3,X,WBRI,2012-03-04,Cat\n"                # row 4: unknown sex code
        ",F,WBRI,2012-03-04,Dot\n"                  # row 5: missing key
        "P5,F,WBRI,2012-03-04,Eve\n"                # row 6: duplicate key
        "P5,F,WBRI,2012-03-05,Fay\n"                # row 7: duplicate key
        "p6,f,WBRI,04/03/2012,Gus\n"                # row 8: UK date not configured
        "P7,F,WBRI,,\n"                             # row 9: empty = NULL, fine
    ) + people(400, start=100)
    drop = write_drop(tmp_path, "2026-01-05", {"ssd_person.csv": body})
    settings = dataclasses.replace(settings, reject_threshold=0.05)
    report = SsdLoader(url, settings).load(open_drop(drop))
    t = report.tables["ssd_person"]
    assert (t.rows_in_file, t.rows_loaded, t.rows_rejected) == (408, 402, 6)
    rejects = q(url, "select source_file, row_number, column_name, value, reason "
                     "from raw.rejects order by row_number, column_name")
    assert rejects == [
        ("ssd_person.csv", 3, "pers_dob", "2011-02-30", "unparseable date (expected YYYY-MM-DD)"),
        ("ssd_person.csv", 4, "pers_sex", "X", "unknown code (not on the sex list)"),
        ("ssd_person.csv", 5, "pers_person_id", None, "missing key"),
        ("ssd_person.csv", 6, "pers_person_id", "P5", "duplicate key (2 rows share it)"),
        ("ssd_person.csv", 7, "pers_person_id", "P5", "duplicate key (2 rows share it)"),
        ("ssd_person.csv", 8, "pers_dob", "04/03/2012", "unparseable date (expected YYYY-MM-DD)"),
    ]
    rows = dict((r[0], r[1:]) for r in q(
        url, "select pers_person_id, pers_sex, pers_dob, pers_forename, _row_number, "
             "_source_file, _file_sha256, _batch_id, _drop_date from raw.ssd_person "
             "where pers_person_id in ('P1', 'P7')"))
    sha = hashlib.sha256(body.encode()).hexdigest()
    assert rows["P1"][:6] == ("M", "2010-01-02", "Ann", 2, "ssd_person.csv", sha)
    assert rows["P1"][6] == report.batch_id and rows["P1"][7] == dt.date(2026, 1, 5)
    assert rows["P7"][1:3] == (None, None)  # empty string = NULL, and not a reject


def test_uk_dates_when_configured_per_file(db, tmp_path):
    url, settings = db
    drop = write_drop(tmp_path, "2026-01-05", {
        "ssd_person.csv": f"{PERSON_HEADER}\nP1,F,WBRI,4/3/2012,A\nP2,F,WBRI,2012-03-05,B\n"},
        manifest=True)
    m = json.loads((drop / "manifest.json").read_text())
    m["files"]["ssd_person.csv"]["date_format"] = "uk"
    (drop / "manifest.json").write_text(json.dumps(m))
    SsdLoader(url, settings).load(open_drop(drop))
    assert q(url, "select pers_dob from raw.ssd_person order by 1") == [
        ("2012-03-04",), ("2012-03-05",)]


def test_too_many_rejects_rejects_the_whole_drop(db, tmp_path):
    url, settings = db
    body = f"{PERSON_HEADER}\n" + people(98) + "P900,Q,WBRI,2010-01-01,A\nP901,F,WBRI,x,B\n"
    drop = write_drop(tmp_path, "2026-01-05", {"ssd_person.csv": body})
    with pytest.raises(DropError) as e:
        SsdLoader(url, settings).load(open_drop(drop))
    msg = str(e.value)
    assert "ssd_person.csv" in msg and "2 of 100 rows" in msg and "1% threshold" in msg
    assert q(url, "select count(*) from raw.ssd_person") == [(0,)]
    assert q(url, "select status from raw.load_batches") == [("rejected",)]


# --- file-level rejection ------------------------------------------------------------------
GOOD_PERSON = f"{PERSON_HEADER}\n" + people(3)


def _bad_drops(root: Path) -> dict[str, tuple[Path, str]]:
    out = {}
    out["missing_column"] = (write_drop(root / "a", "2026-01-05", {
        "ssd_person.csv": "pers_person_id,pers_sex,pers_dob\nP1,F,2010-01-01\n"}),
        r"ssd_person\.csv: missing required column pers_ethnicity")
    out["xlsx_named_csv"] = (write_drop(root / "b", "2026-01-05", {
        "ssd_person.csv": b"PK\x03\x04\x14\x00\x06\x00" + b"x" * 50}),
        r"ssd_person\.csv: not a CSV file \(it is a ZIP/XLSX workbook\)")
    out["xlsx_file"] = (write_drop(root / "c", "2026-01-05", {
        "ssd_person.xlsx": b"PK\x03\x04", "ssd_missing.csv": "x\n"}),
        r"ssd_person\.xlsx: not a CSV file")
    out["unreadable_encoding"] = (write_drop(root / "d", "2026-01-05", {
        "ssd_person.csv": GOOD_PERSON.encode() + b"P9,F,WBRI,2010-01-01,\x81\x8d\xff\n"}),
        r"ssd_person\.csv: unreadable encoding")
    out["binary"] = (write_drop(root / "e", "2026-01-05", {
        "ssd_person.csv": GOOD_PERSON.encode() + b"\x00\x00\x00"}),
        r"ssd_person\.csv: not a CSV file \(it contains NUL bytes\)")
    d = write_drop(root / "f", "2026-01-05", {"ssd_person.csv": GOOD_PERSON}, manifest=True)
    (d / "ssd_person.csv").unlink()
    out["manifest_missing_file"] = (d, r"ssd_person\.csv: listed in manifest\.json but missing")
    d = write_drop(root / "g", "2026-01-05", {"ssd_person.csv": GOOD_PERSON}, manifest=True)
    m = json.loads((d / "manifest.json").read_text())
    m["files"]["ssd_person.csv"]["rows"] = 4
    (d / "manifest.json").write_text(json.dumps(m))
    out["manifest_row_count"] = (d, r"ssd_person\.csv: 3 data rows, but manifest\.json says 4")
    d = write_drop(root / "h", "2026-01-05", {"ssd_person.csv": GOOD_PERSON}, manifest=True)
    (d / "ssd_person.csv").write_text(GOOD_PERSON.replace("Name1", "Name9"))
    out["manifest_checksum"] = (d, r"ssd_person\.csv: sha256 does not match manifest\.json")
    out["malformed_csv"] = (write_drop(root / "i", "2026-01-05", {
        "ssd_person.csv": GOOD_PERSON + 'P8,F,WBRI,2010-01-01,"unterminated\n'}),
        r"ssd_person\.csv: not a well-formed CSV file")
    out["ragged_row"] = (write_drop(root / "j", "2026-01-05", {
        "ssd_person.csv": GOOD_PERSON + "P8,F,WBRI,2010-01-01,A,extra\n"}),
        r"ssd_person\.csv: not a well-formed CSV file: extra data")
    return out


@pytest.mark.parametrize("case", [
    "missing_column", "xlsx_named_csv", "xlsx_file", "unreadable_encoding", "binary",
    "manifest_missing_file", "manifest_row_count", "manifest_checksum", "malformed_csv",
    "ragged_row"])
def test_file_level_faults_reject_the_drop_naming_file_and_cause(db, tmp_path, case):
    url, settings = db
    drop, pattern = _bad_drops(tmp_path)[case]
    with pytest.raises(DropError, match=pattern):
        SsdLoader(url, settings).load(open_drop(drop))
    assert q(url, "select count(*) from raw.ssd_person") == [(0,)]
    assert q(url, "select count(*) from raw.load_batches where status = 'loaded'") == [(0,)]


def test_empty_file_after_a_night_with_rows_is_rejected_unless_allowed(db, tmp_path):
    url, settings = db
    missing_header = ("miss_table_id,miss_person_id,miss_missing_episode_start_date,"
                      "miss_missing_episode_type,miss_missing_episode_end_date\n")
    night1 = write_drop(tmp_path, "2026-01-05", {
        "ssd_person.csv": GOOD_PERSON,
        "ssd_missing.csv": missing_header + "M1,P1,2025-12-01,M,2025-12-02\n"})
    SsdLoader(url, settings).load(open_drop(night1))
    night2 = write_drop(tmp_path, "2026-01-06", {
        "ssd_person.csv": GOOD_PERSON, "ssd_missing.csv": missing_header})
    with pytest.raises(DropError, match=r"ssd_missing\.csv: empty, but the table had 1 rows "
                                        r"last night.*CSCW_ALLOW_EMPTY_TABLES"):
        SsdLoader(url, settings).load(open_drop(night2))
    allowed = dataclasses.replace(settings, allow_empty_tables=frozenset({"ssd_missing"}))
    report = SsdLoader(url, allowed).load(open_drop(night2))
    assert report.tables["ssd_missing"].rows_loaded == 0
    # the record disappeared: history closes it at night 2
    assert q(url, "select valid_from_drop, valid_to_drop from raw.record_history "
                  "where table_name = 'ssd_missing'") == [
        (dt.date(2026, 1, 5), dt.date(2026, 1, 6))]


def test_allow_empty_tables_is_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("CSCW_ALLOW_EMPTY_TABLES", " ssd_missing , EXT_PLAN_ACTIONS")
    s = get_settings()
    assert s.may_be_empty("ssd_missing") and s.may_be_empty("ext_plan_actions")
    assert not s.may_be_empty("ssd_person")


def test_a_failed_drop_leaves_raw_unchanged_and_earlier_batches_intact(db, tmp_path):
    url, settings = db
    night1 = write_drop(tmp_path, "2026-01-05", {"ssd_person.csv": GOOD_PERSON})
    first = SsdLoader(url, settings).load(open_drop(night1))
    before = snapshot(url)
    # night 2: ssd_person (loaded first, alphabetically after nothing) is fine, but the
    # ssd_professionals file fails the threshold -> the whole drop rolls back
    night2 = write_drop(tmp_path, "2026-01-06", {
        "ssd_person.csv": GOOD_PERSON + people(5, start=50),
        "ssd_professionals.csv": "prof_professional_id,prof_agency_worker_flag\nW1,maybe\n"})
    with pytest.raises(DropError, match=r"ssd_professionals\.csv: 1 of 1 rows"):
        SsdLoader(url, settings).load(open_drop(night2))
    after = snapshot(url)
    batches_after = after.pop("load_batches")
    batches_before = before.pop("load_batches")
    assert after == before  # every raw table, history and quarantine untouched
    assert set(batches_before) < set(batches_after)  # only the rejection is recorded
    assert q(url, "select batch_id, status from raw.load_batches order by drop_date") == [
        (first.batch_id, "loaded"), (q(url, "select batch_id from raw.load_batches "
                                            "where drop_date = '2026-01-06'")[0][0], "rejected")]
    assert q(url, "select count(*) from raw.ssd_person where _batch_id = %s",
             (first.batch_id,)) == [(3,)]


# --- idempotency, archive ------------------------------------------------------------------
def test_loading_the_same_drop_twice_changes_nothing(db, tmp_path):
    url, settings = db
    drop = write_drop(tmp_path, "2026-01-05", {
        "ssd_person.csv": GOOD_PERSON + "P9,Z,WBRI,2010-01-01,bad sex\n" + people(200, 10)},
        manifest=True)
    first = SsdLoader(url, settings).load(open_drop(drop))
    before = snapshot(url)
    second = SsdLoader(url, settings).load(open_drop(drop))
    assert second.already_loaded and second.batch_id == first.batch_id
    assert second.rows_loaded == first.rows_loaded == 203
    assert second.rows_rejected == first.rows_rejected == 1
    assert snapshot(url) == before


def test_archive_by_drop_date_and_checksum_never_overwrites(db, tmp_path):
    url, settings = db
    drop = write_drop(tmp_path, "2026-01-05", {"ssd_person.csv": GOOD_PERSON}, manifest=True)
    SsdLoader(url, settings).load(open_drop(drop))
    sha1 = hashlib.sha256(GOOD_PERSON.encode()).hexdigest()
    first = settings.archive / "2026-01-05" / sha1[:16] / "ssd_person.csv"
    assert first.read_text() == GOOD_PERSON
    assert len(list((settings.archive / "2026-01-05" / "manifests").iterdir())) == 1
    # a corrected drop for the same night: a second copy beside the first, which stays
    corrected = GOOD_PERSON + people(1, start=77)
    (drop / "ssd_person.csv").write_text(corrected)
    write_manifest(drop, dt.date(2026, 1, 5))
    report = SsdLoader(url, settings).load(open_drop(drop))
    sha2 = hashlib.sha256(corrected.encode()).hexdigest()
    assert (settings.archive / "2026-01-05" / sha2[:16] / "ssd_person.csv").read_text() \
        == corrected
    assert first.read_text() == GOOD_PERSON
    assert len(list((settings.archive / "2026-01-05" / "manifests").iterdir())) == 2
    # the corrected batch supersedes the first; raw holds the night once
    assert q(url, "select status, count(*) from raw.load_batches group by 1 order by 1") == [
        ("loaded", 1), ("superseded", 1)]
    assert q(url, "select count(*), min(_batch_id) from raw.ssd_person") == [
        (4, report.batch_id)]


# --- history across nights, retention ----------------------------------------------------
@pytest.fixture(scope="module")
def two_nights(tmp_path_factory):
    from csc_warehouse.generate import generate_drop

    root = tmp_path_factory.mktemp("nights")
    n1, n2 = dt.date(2026, 11, 27), dt.date(2026, 12, 11)
    for night in (n1, n2):
        generate_drop(root / night.isoformat(), children=60, years=2, seed=3, as_of=night)
    return root / n1.isoformat(), root / n2.isoformat()


def test_two_nights_keep_provenance_and_history_answers_night_n(db, two_nights):
    url, settings = db
    n1, n2 = (open_drop(p) for p in two_nights)
    b1 = SsdLoader(url, settings).load(n1)
    b2 = SsdLoader(url, settings).load(n2)
    # both snapshots in raw with their provenance; the latest is what staging reads
    assert q(url, "select _drop_date, count(distinct _batch_id) from raw.ssd_person "
                  "group by 1 order by 1") == [(n1.drop_date, 1), (n2.drop_date, 1)]
    assert q(url, """select batch_id from raw.load_batches where status = 'loaded'
                     order by drop_date desc, finished_at desc limit 1""") == [(b2.batch_id,)]
    # something changed between the nights (the generator moves time on two weeks)
    changed = q(url, """select table_name, record_key from raw.record_history
                        where valid_to_drop = %s order by 1, 2 limit 1""", (n2.drop_date,))
    assert changed, "no record changed between the two nights"
    table, key = changed[0]
    key_col = {"ssd_person": "pers_person_id"}.get(table)
    as_n1 = q(url, "select raw.record_as_of(%s, %s, %s)", (table, key, n1.drop_date))[0][0]
    as_n2 = q(url, "select raw.record_as_of(%s, %s, %s)", (table, key, n2.drop_date))[0][0]
    assert as_n1 is not None and as_n1 != as_n2
    # night N's version is exactly the row raw held for night N
    from csc_warehouse.contract import load_contract

    key_col = load_contract().tables[table].key.name
    raw_n1 = q(url, f"""select jsonb_strip_nulls(to_jsonb(r) - array['_batch_id',
                       '_drop_date', '_source_file', '_file_sha256', '_row_number',
                       '_loaded_at', '_row_hash'])
                       from raw.{table} r where _batch_id = %s and {key_col} = %s""",
               (b1.batch_id, key))[0][0]
    assert as_n1 == raw_n1
    versions = q(url, "select valid_from_drop, valid_to_drop from raw.record_versions(%s, %s)",
                 (table, key))
    assert versions[0] == (n1.drop_date, n2.drop_date)
    # unchanged records have one open version; counts add up
    (open_n,), = q(url, "select count(*) from raw.record_history where valid_to_drop is null")
    (rows_n2,), = q(url, "select count(*) from raw.ssd_person where _batch_id = %s",
                    (b2.batch_id,))
    assert open_n == b2.rows_loaded and rows_n2 == b2.tables["ssd_person"].rows_loaded


def test_retention_keeps_k_nights_in_raw_and_history_for_all(db, two_nights):
    url, settings = db
    keep1 = dataclasses.replace(settings, raw_keep_batches=1)
    n1, n2 = (open_drop(p) for p in two_nights)
    b1 = SsdLoader(url, keep1).load(n1)
    b2 = SsdLoader(url, keep1).load(n2)
    assert q(url, "select distinct _batch_id from raw.ssd_person") == [(b2.batch_id,)]
    assert q(url, "select raw_pruned_at is not null from raw.load_batches "
                  "where batch_id = %s", (b1.batch_id,)) == [(True,)]
    key = q(url, "select pers_person_id from raw.ssd_person limit 1")[0][0]
    assert q(url, "select raw.record_as_of('ssd_person', %s, %s) is not null",
             (key, n1.drop_date)) == [(True,)]
    history = snapshot(url)["record_history"]
    # a late re-run of night N re-loads its rows (they were pruned) but leaves history
    again = SsdLoader(url, keep1).load(n1)
    assert not again.already_loaded and again.batch_id == b1.batch_id
    assert snapshot(url)["record_history"] == history
    assert q(url, """select batch_id from raw.load_batches where status = 'loaded'
                     order by drop_date desc limit 1""") == [(b2.batch_id,)]


def test_the_single_parse_date_check_agrees_with_iso_date(db):
    """The loader's fast path (cscw_private.is_iso_date) returns exactly what
    cscw_private.iso_date returns, and marks every non-blank value it cannot parse."""
    from psycopg2 import sql

    from csc_warehouse.load.row_checks import BAD_DATE as _BAD_DATE
    from csc_warehouse.load.row_checks import date_expr as _date_expr

    url, _ = db
    values = ["2026-11-27", " 2026-11-27 ", "2026-11-27 10:00:00", "2026-11-27T10:00",
              "2026-02-30", "2024-02-29", " 999-01-01", "0999-01-01", "", "  ", None, "!",
              "27/11/2026", "1/2/2026", "abcd-ef-gh", "2026-1-01", "2026-11-27x"]
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("set datestyle = 'ISO, YMD'")
            for uk in (False, True):
                cur.execute(sql.SQL(
                    "select v, {}, cscw_private.iso_date(v, %s) from unnest(%s::text[]) v"
                ).format(_date_expr(sql.SQL("v"), uk)), (uk, values))
                for v, ours, reference in cur.fetchall():
                    blank = v is None or not v.strip()
                    expected = reference if reference or blank else _BAD_DATE
                    assert ours == expected, (uk, v)
    finally:
        conn.close()


# --- the fast path: canonical rows skip the full checks, and that changes nothing ----------
def test_canonical_predicates_accept_only_what_the_full_checks_leave_unchanged(db):
    """A value the cheap predicate calls canonical is exactly what the full normalisation
    (``_clean_select``'s expressions) would store; the optimistic and the safe date form
    agree wherever the optimistic one does not raise."""
    from psycopg2 import sql

    from csc_warehouse.contract import Column, load_contract
    from csc_warehouse.load.canonical import column_predicate
    from csc_warehouse.load.row_checks import date_expr as _date_expr

    url, _ = db
    contract = load_contract()
    dates = ["2026-11-27", " 2026-11-27", "2026-11-27 ", "2026-11-27 10:00", "2024-02-29",
             "0999-01-01", "27/11/2026", "2026-1-01", "2026-11-7 ", "abcd-ef-gh",
             "-100-01-01", "2023-02-30",
             "2026/11/27", "  ", "x", None]
    ids = ["P1", " P1", "P1 ", "  ", "P 1", "p1", None]
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("set datestyle = 'ISO, YMD'")
            col = Column("v", "date", "a date")
            raised = []
            for optimistic in (False, True):
                pred = column_predicate(col, contract, conn.server_version, optimistic)
                query = sql.SQL("select {}, {} from (select %s::text as v) t").format(
                    pred, _date_expr(sql.Identifier("v"), False))
                for v in dates:
                    try:
                        cur.execute(query, (v,))
                    except psycopg2.DataError:
                        assert optimistic, v  # only the optimistic form may raise
                        conn.rollback()
                        cur.execute("set datestyle = 'ISO, YMD'")
                        raised.append(v)
                        continue
                    canonical, normalised = cur.fetchone()
                    if canonical:
                        assert normalised == v, v
                    assert canonical == (v is None or v in ("2026-11-27", "2024-02-29",
                                                            "0999-01-01")), (optimistic, v)
            # then the loader runs the safe form
            assert raised == ["abcd-ef-gh", "-100-01-01", "2023-02-30"]
            pred = column_predicate(Column("v", "id", "an id"), contract, conn.server_version)
            cur.execute(sql.SQL("select v, {}, nullif(btrim(v), '') from unnest({}::text[]) v")
                        .format(pred, sql.Literal(ids)))
            for v, canonical, normalised in cur.fetchall():
                assert canonical == (v is None or v in ("P1", "P 1", "p1")), v
                if canonical:
                    assert normalised == v
    finally:
        conn.close()
    # a code is canonical only when the list's normalisation keeps it as it is
    from csc_warehouse.load.canonical import canonical_codes

    for cl in contract.code_lists.values():
        for code in canonical_codes(cl):
            assert cl.normalise(code) == code, (cl.name, code)


def test_a_key_equal_to_another_once_trimmed_is_a_duplicate(db, tmp_path):
    url, settings = db
    body = (f"{PERSON_HEADER}\nP9,F,WBRI,2010-01-02,A\n P9 ,F,WBRI,2010-01-03,B\n"
            + people(400, start=100))
    drop = write_drop(tmp_path, "2026-01-05", {"ssd_person.csv": body})
    SsdLoader(url, settings).load(open_drop(drop))
    assert q(url, "select row_number, value, reason from raw.rejects order by 1") == [
        (2, "P9", "duplicate key (2 rows share it)"),
        (3, " P9 ", "duplicate key (2 rows share it)")]
    assert q(url, "select count(*) from raw.ssd_person where btrim(pers_person_id) = 'P9'") == [
        (0,)]


def test_each_night_is_one_partition_and_an_interrupted_load_leaves_no_trace(db, tmp_path):
    """Debris of a load that died between its COPY and its attach (a table left in
    raw_incoming) is dropped by the next load; a rejected drop leaves raw_incoming empty."""
    url, settings = db
    run_sql(url, "create table raw_incoming.ssd_person (pers_person_id text, _row_number "
                 "bigint generated always as identity); create sequence raw_incoming.stray")
    in_incoming = ("select count(*) from pg_class c join pg_namespace n "
                   "on n.oid = c.relnamespace where n.nspname = 'raw_incoming'")
    assert q(url, in_incoming) == [(3,)]  # the table, its identity sequence, a sequence
    good = write_drop(tmp_path, "2026-01-05", {"ssd_person.csv": f"{PERSON_HEADER}\n"
                                               + people(50)})
    report = SsdLoader(url, settings).load(open_drop(good))
    assert q(url, in_incoming) == [(0,)]
    assert q(url, """select c.relname from pg_inherits i join pg_class c on c.oid = i.inhrelid
                     where i.inhparent = 'raw.ssd_person'::regclass""") == [
        (f"ssd_person__{report.batch_id.replace('-', '_')}",)]
    bad = write_drop(tmp_path, "2026-01-06", {"ssd_person.csv": f"{PERSON_HEADER}\n"
                                              + "P1,F,WBRI,2010-13-01,A\n" * 5 + people(20)})
    with pytest.raises(DropError, match="over the 1% threshold"):
        SsdLoader(url, settings).load(open_drop(bad))
    assert q(url, in_incoming) == [(0,)]
    assert q(url, "select count(*), min(_batch_id) from raw.ssd_person") == [
        (50, report.batch_id)]


def test_bootstrap_moves_an_unpartitioned_raw_table_into_partitions(db):
    """An older warehouse's plain raw table becomes one partition per batch, row for row."""
    from csc_warehouse.warehouse.schemas import bootstrap

    url, settings = db
    run_sql(url, "drop table raw.ssd_person")
    run_sql(url, """create table raw.ssd_person (pers_person_id text, pers_sex text,
              _batch_id text not null, _drop_date date not null, _source_file text not null,
              _file_sha256 text not null, _row_number bigint not null,
              _loaded_at timestamptz not null, _extra jsonb, _row_hash uuid)""")
    run_sql(url, """insert into raw.ssd_person select 'P' || i, 'F', b, '2026-01-01', 'f.csv', 'x',
              i, now(), null, null
              from generate_series(1, 5) i, unnest(array['b-1', 'b-2']) b""")
    # dbt's staging views read the raw tables
    run_sql(url, "create schema if not exists staging; create view staging.stg_ssd__persons "
                 "as select pers_person_id from raw.ssd_person")
    before = sorted(q(url, "select pers_person_id, _batch_id, _row_number "
                           "from raw.ssd_person"))
    bootstrap(url, settings)
    assert q(url, "select relkind from pg_class where oid = 'raw.ssd_person'::regclass") == [
        ("p",)]
    assert sorted(q(url, "select pers_person_id, _batch_id, _row_number "
                         "from raw.ssd_person")) == before
    assert q(url, """select count(*) from pg_inherits
                     where inhparent = 'raw.ssd_person'::regclass""") == [(2,)]


def test_columns_outside_the_contract_go_to_extra_as_delivered(db, tmp_path):
    url, settings = db
    header = f"{PERSON_HEADER},notes,_batch_id"  # a local column, and one named like ours
    body = (f"{header}\nP1,F,WBRI,2010-01-02,Ann,\"\",x\n"
            "P2,f,WBRI,2010-01-03,Bea,\"said \"\"hi\"\"\",y\n")
    drop = write_drop(tmp_path, "2026-01-05", {"ssd_person.csv": body})
    report = SsdLoader(url, settings).load(open_drop(drop))
    assert report.tables["ssd_person"].extra_columns == ["notes", "_batch_id"]
    rows = q(url, "select pers_person_id, pers_sex, _extra, _batch_id from raw.ssd_person "
                  "order by 1")
    assert rows == [("P1", "F", {"notes": "", "_batch_id": "x"}, report.batch_id),
                    ("P2", "F", {"notes": 'said "hi"', "_batch_id": "y"}, report.batch_id)]
    # a COPY error names the file's column, not the loader's work column
    short = f"{header}\nP1,F,WBRI,2010-01-02,Ann,n\n"
    bad = write_drop(tmp_path / "b", "2026-01-06", {"ssd_person.csv": short})
    with pytest.raises(DropError, match=r'ssd_person\.csv: not a well-formed CSV file: '
                                        r'missing data for column "_batch_id"'):
        SsdLoader(url, settings).load(open_drop(bad))
    short = f"{header}\nP1,F,WBRI,2010-01-02,Ann\n"
    bad = write_drop(tmp_path / "c", "2026-01-07", {"ssd_person.csv": short})
    with pytest.raises(DropError, match=r'missing data for column "notes"'):
        SsdLoader(url, settings).load(open_drop(bad))


def test_a_date_the_cast_refuses_in_any_way_is_quarantined_not_a_crash(db, tmp_path):
    url, settings = db
    body = (f"{PERSON_HEADER}\nP1,F,WBRI,-100-01-01,A\nP2,F,WBRI,+123-45-67,B\n"
            + people(400, start=100))
    drop = write_drop(tmp_path, "2026-01-05", {"ssd_person.csv": body})
    report = SsdLoader(url, settings).load(open_drop(drop))
    assert report.tables["ssd_person"].rows_rejected == 2
    assert q(url, "select row_number, value, reason from raw.rejects order by 1") == [
        (2, "-100-01-01", "unparseable date (expected YYYY-MM-DD)"),
        (3, "+123-45-67", "unparseable date (expected YYYY-MM-DD)")]


def test_a_column_an_older_contract_had_stays_in_raw_and_loads_null(db, tmp_path):
    url, settings = db
    run_sql(url, "alter table raw.ssd_person add column pers_retired text")
    drop = write_drop(tmp_path, "2026-01-05", {"ssd_person.csv": f"{PERSON_HEADER}\n"
                                               + people(5)})
    SsdLoader(url, settings).load(open_drop(drop))
    assert q(url, "select count(*), count(pers_retired) from raw.ssd_person") == [(5, 0)]


def test_history_left_out_by_a_failed_step_is_applied_before_the_next_night(db, two_nights):
    """Night N loads but its history step never runs; night N+1's history step applies N
    first, so N's versions are there; a second call changes nothing."""
    from csc_warehouse.load.history import record_history

    url, settings = db
    n1, n2 = (open_drop(p) for p in two_nights)
    b1 = SsdLoader(url, settings, history=False).load(n1)
    b2 = SsdLoader(url, settings, history=False).load(n2)
    assert q(url, "select count(*) from raw.record_history") == [(0,)]
    assert record_history(url, b2.batch_id) == "history updated"
    assert q(url, "select batch_id, history_applied from raw.load_batches order by 1") == [
        (b1.batch_id, True), (b2.batch_id, True)]
    first = q(url, "select min(valid_from_drop) from raw.record_history")
    assert first == [(n1.drop_date,)]
    before = snapshot(url)
    assert record_history(url, b2.batch_id) == "history already applied"
    assert snapshot(url) == before
    # N+1 was compared with N: what changed between the nights closed at N+1
    assert q(url, "select count(*) > 0 from raw.record_history "
                  "where valid_to_drop = %s", (n2.drop_date,)) == [(True,)]


def test_a_bad_file_beside_a_large_one_rejects_the_drop_and_leaves_nothing(db, tmp_path):
    """Files are COPYed and checked on several connections at once: the first failure
    (a malformed small file) stops the others, names its file, and leaves raw and
    raw_incoming as they were."""
    url, settings = db
    settings = dataclasses.replace(settings, load_connections=2)
    good = write_drop(tmp_path / "a", "2026-01-05", {"ssd_person.csv": f"{PERSON_HEADER}\n"
                                                     + people(10)})
    first = SsdLoader(url, settings).load(open_drop(good))
    before = snapshot(url)
    contacts = ("cont_contact_id,cont_person_id,cont_contact_date,cont_contact_source_code\n"
                + "".join(f"C{i},P{i % 10 + 1},2025-01-{1 + i % 28:02d},10\n"
                          for i in range(60000)))
    from csc_warehouse.contract import load_contract

    missing = load_contract().tables["ssd_missing"].required_columns
    bad = write_drop(tmp_path / "b", "2026-01-06", {
        "ssd_person.csv": f"{PERSON_HEADER}\n" + people(60000),
        "ssd_contacts.csv": contacts,
        # the smallest file: an unterminated quote
        "ssd_missing.csv": ",".join(missing) + "\n" + ",".join(["x"] * (len(missing) - 1))
                           + ',"M\n',

    })
    with pytest.raises(DropError, match=r"ssd_missing\.csv: not a well-formed CSV file"):
        SsdLoader(url, settings).load(open_drop(bad))
    in_incoming = ("select count(*) from pg_class c join pg_namespace n "
                   "on n.oid = c.relnamespace where n.nspname = 'raw_incoming'")
    assert q(url, in_incoming) == [(0,)]
    after = snapshot(url)
    assert after.pop("load_batches") != before.pop("load_batches")  # the rejection, recorded
    assert after == before
    assert q(url, "select status from raw.load_batches order by started_at") == [
        ("loaded",), ("rejected",)]
    assert q(url, "select distinct _batch_id from raw.ssd_person") == [(first.batch_id,)]


def test_a_reader_holding_a_raw_table_postpones_the_retention_not_the_load(db, two_nights):
    url, settings = db
    keep1 = dataclasses.replace(settings, raw_keep_batches=1)
    n1, n2 = (open_drop(p) for p in two_nights)
    b1 = SsdLoader(url, keep1).load(n1)
    reader = psycopg2.connect(url)  # an analyst's open transaction on raw
    try:
        with reader.cursor() as cur:
            cur.execute("select count(*) from raw.ssd_person")
        notes: list[str] = []
        loader = SsdLoader(url, keep1, progress=notes.append)
        loader.retention_lock_timeout = "200ms"
        b2 = loader.load(n2)
        assert any(n.startswith("retention postponed") for n in notes)
    finally:
        reader.close()
    # the night is in; the older night is still there, and goes with the next load (here:
    # a re-run of the same night, which is otherwise a no-op)
    assert q(url, "select _batch_id, count(*) > 0 from raw.ssd_person group by 1 "
                  "order by 1") == sorted([(b1.batch_id, True), (b2.batch_id, True)])
    assert SsdLoader(url, keep1).load(n2).already_loaded
    assert q(url, "select distinct _batch_id from raw.ssd_person") == [(b2.batch_id,)]


def test_the_nights_partitions_have_statistics_after_the_load(db, tmp_path):
    """The loader analyses the night's partitions (dbt's first plans on a large authority
    depend on it); reltuples is -1 for a table never analysed."""
    url, settings = db
    good = write_drop(tmp_path, "2026-01-05", {"ssd_person.csv": f"{PERSON_HEADER}\n"
                                               + people(50)})
    report = SsdLoader(url, settings).load(open_drop(good))
    part = f"ssd_person__{report.batch_id.replace('-', '_')}"
    assert q(url, "select reltuples from pg_class where oid = %s::regclass",
             (f"raw.{part}",)) == [(50.0,)]
