"""child_key in the marts is an HMAC-SHA256 of the person id with the warehouse's key:
stable across nights, different under another key, equal to Python's hmac; and no
published mart column holds a person id, name, date of birth, NHS number or postcode."""

from __future__ import annotations

import hashlib
import hmac

import psycopg2
import pytest

from csc_warehouse.warehouse.schemas import hmac_pads


@pytest.fixture(scope="module")
def three(nights):
    return nights


def _py_key(secret: str, person_id: str) -> str:
    return hmac.new(secret.encode(), person_id.encode(), hashlib.sha256).hexdigest()


def test_child_key_equals_python_hmac(three):
    secret = three.cscw.env["CSCW_PSEUDONYM_KEY"]
    ids = [r[0] for r in three.cscw.query(
        "select distinct pers_person_id from raw.ssd_person order by 1 limit 50")]
    assert ids
    got = dict(three.cscw.query(
        "select p, cscw_private.child_key(p) from unnest(%s::text[]) as p", (ids,)))
    assert got == {p: _py_key(secret, p) for p in ids}


def test_mart_child_keys_are_hmacs_of_known_people_and_stable_across_nights(three):
    secret = three.cscw.env["CSCW_PSEUDONYM_KEY"]
    people = {r[0] for r in three.cscw.query("select distinct pers_person_id from raw.ssd_person")}
    expected = {_py_key(secret, p) for p in people}
    n1, n3 = three.nights["warnings"], three.nights["good"]
    assert n1.child_keys and n3.child_keys
    assert n1.child_keys <= expected and n3.child_keys <= expected
    # the same children on both nights carry the same key
    assert len(n1.child_keys & n3.child_keys) >= len(n1.child_keys) // 2


def test_child_key_differs_with_another_key(three):
    conn = psycopg2.connect(three.cscw.url)
    try:
        with conn.cursor() as cur:
            cur.execute("select cscw_private.child_key('P000001')")
            ours = cur.fetchone()[0]
            ipad, opad = hmac_pads(b"another-secret")
            cur.execute("update cscw_private.pseudonym_key set ipad_key = %s, opad_key = %s",
                        (ipad, opad))
            cur.execute("select cscw_private.child_key('P000001')")
            other = cur.fetchone()[0]
    finally:
        conn.rollback()
        conn.close()
    assert other != ours
    assert other == _py_key("another-secret", "P000001")


def test_no_mart_column_holds_identifiers(three):
    q = three.cscw.query
    exact = {r[0] for r in q(
        "select v from raw.ssd_person, lateral (values (pers_person_id), (pers_forename), "
        "(pers_surname), (pers_common_child_id), (pers_forename || ' ' || pers_surname)) "
        "as x(v) where nullif(v, '') is not null "
        "union select addr_address_postcode from raw.ssd_address "
        "union select clap_cla_placement_postcode from raw.ssd_cla_placement")}
    dobs = {r[0] for r in q("select distinct pers_dob from raw.ssd_person where pers_dob <> ''")}
    exact.discard(None)
    assert exact and dobs
    columns = q("select table_name, column_name from information_schema.columns "
                "where table_schema = 'marts' order by 1, 2")
    assert columns
    problems = []
    for table, column in columns:
        values = {r[0] for r in q(f'select distinct "{column}"::text from marts."{table}" '
                                  f'where "{column}" is not null')}
        if values & exact:
            problems.append((table, column, sorted(values & exact)[:3]))
        # a date column whose values are mostly dates of birth holds dates of birth
        if values and len(values & dobs) > max(2, len(values) // 2):
            problems.append((table, column, "dates of birth"))
    assert problems == []
