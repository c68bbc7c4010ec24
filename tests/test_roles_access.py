"""Reader roles with real logins: cscw_bi reads the published marts and nothing else;
cscw_casework also reads the worklists (analytics.wl_*), and nothing else in analytics.

The embedded server trusts local connections, so these tests prove the privileges, not the
passwords; they do check that a password from the environment is stored (hashed) and that
the role can log in.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlparse, urlunparse

import psycopg2
import pytest
from psycopg2 import errors, sql

from csc_warehouse.config import ROLE_PASSWORD_VARIABLES
from csc_warehouse.warehouse.db import transaction
from csc_warehouse.warehouse.roles import grant_published

BI_PASSWORD = "test-only-bi-password"
CASEWORK_PASSWORD = "test-only-casework-password"


@pytest.fixture(scope="module")
def warehouse(nights):
    cscw = nights.cscw  # a published warehouse with worklists
    mp = pytest.MonkeyPatch()
    mp.setenv("CSCW_BI_PASSWORD", BI_PASSWORD)
    mp.setenv("CSCW_CASEWORK_PASSWORD", CASEWORK_PASSWORD)
    with transaction(cscw.url) as cur:  # what the publish step runs, with passwords set
        grant_published(cur)
    yield cscw
    mp.undo()
    # roles are the server's, not the database's: leave no password (or login) behind
    with transaction(cscw.url) as cur:
        for role in ROLE_PASSWORD_VARIABLES:
            cur.execute(sql.SQL("alter role {} nologin password null").format(
                sql.Identifier(role)))


@contextmanager
def _as(url: str, role: str, password: str) -> Iterator[psycopg2.extensions.connection]:
    """A real login as the role (autocommit: each probe is its own transaction)."""
    u = urlparse(url)
    netloc = f"{role}:{password}@{u.hostname}:{u.port}"
    conn = psycopg2.connect(urlunparse(u._replace(netloc=netloc)))
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("select current_user")
            assert cur.fetchone()[0] == role
        yield conn
    finally:
        conn.close()


def _can_read(conn, relation: str) -> bool:
    with conn.cursor() as cur:
        try:
            cur.execute(f"select * from {relation} limit 1")
            cur.fetchall()
            return True
        except errors.InsufficientPrivilege:
            return False


def _relations(cscw, schema: str, like: str = "%") -> list[str]:
    return [f"{schema}.{r[0]}" for r in cscw.query(
        "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
        "where n.nspname = %s and c.relkind in ('r', 'v', 'm') and c.relname like %s "
        "order by 1", (schema, like))]


FORBIDDEN = ["raw.ssd_person", "raw.load_batches", "staging.stg_ssd__persons",
             "analytics.fct_caseload", "dq.validation_results", "dq.pipeline_runs",
             "cscw_private.pseudonym_key"]


def test_passwords_come_from_the_environment_and_are_hashed(warehouse):
    rows = warehouse.query(
        "select rolname, rolcanlogin, rolsuper, left(rolpassword, 13) from pg_authid "
        "where rolname in ('cscw_bi', 'cscw_casework') order by 1")
    assert rows == [("cscw_bi", True, False, "SCRAM-SHA-256"),
                    ("cscw_casework", True, False, "SCRAM-SHA-256")]


@pytest.mark.parametrize(("role", "password"), [("cscw_bi", BI_PASSWORD),
                                                ("cscw_casework", CASEWORK_PASSWORD)])
def test_both_roles_read_every_published_mart(warehouse, role, password):
    marts = _relations(warehouse, "marts")
    assert "marts.data_completeness" in marts and len(marts) >= 3
    with _as(warehouse.url, role, password) as conn:
        assert {m: _can_read(conn, m) for m in marts} == dict.fromkeys(marts, True)


@pytest.mark.parametrize(("role", "password"), [("cscw_bi", BI_PASSWORD),
                                                ("cscw_casework", CASEWORK_PASSWORD)])
def test_neither_role_reads_raw_staging_dq_audit_or_private(warehouse, role, password):
    audit = _relations(warehouse, "marts_audit")[:2]
    assert audit
    with _as(warehouse.url, role, password) as conn:
        for rel in FORBIDDEN + audit:
            assert not _can_read(conn, rel), f"{role} can read {rel}"
        with conn.cursor() as cur, pytest.raises(errors.InsufficientPrivilege):
            cur.execute("select cscw_private.child_key('P000001')")


def test_bi_cannot_read_the_worklists(warehouse):
    worklists = _relations(warehouse, "analytics", "wl\\_%")
    assert len(worklists) >= 4
    with _as(warehouse.url, "cscw_bi", BI_PASSWORD) as conn:
        for wl in worklists:
            assert not _can_read(conn, wl), wl


def test_casework_reads_the_worklists_and_nothing_else_in_analytics(warehouse):
    worklists = _relations(warehouse, "analytics", "wl\\_%")
    others = [r for r in _relations(warehouse, "analytics") if r not in worklists]
    assert others
    with _as(warehouse.url, "cscw_casework", CASEWORK_PASSWORD) as conn:
        for wl in worklists:
            assert _can_read(conn, wl), wl
        for rel in others:
            assert not _can_read(conn, rel), rel


def test_worklists_rebuilt_by_dbt_keep_the_casework_grant(warehouse, nights):
    """dbt recreates the worklist tables every night; their post-hook re-grants them. The
    critical night shows the post-hook alone: dbt rebuilt wl_*, publish never ran."""
    n2 = nights.nights["critical"]
    assert n2.proc.returncode == 1
    grants = n2.worklist_grants
    assert len(grants) >= 4 and all(grants.values()), grants
