"""Database roles for readers of the warehouse.

- ``cscw_bi``: reads ``marts`` and nothing else (BI tools: Power BI, Metabase).
- ``cscw_casework``: reads ``marts`` and the worklists ``analytics.wl_*``, for the teams that
  fix records; nothing else in ``analytics``.

Neither role can read raw, staging, intermediate, the rest of analytics, dq, reference,
marts_audit or cscw_private. Passwords come from CSCW_BI_PASSWORD / CSCW_CASEWORK_PASSWORD
(never from the repository); they are hashed client-side (SCRAM-SHA-256) so the clear text
never reaches the server or its logs. A role created without a password cannot log in (a
password set by hand is left alone).

The publish step calls :func:`grant_published` inside the swap transaction, so the roles and
their grants are (re)applied every published night; the worklist models also re-grant
``cscw_casework`` when dbt rebuilds them (their ``grants:`` config), so caseworkers keep
their lists on a night whose marts are not published.
"""

from __future__ import annotations

from psycopg2 import sql
from psycopg2.extensions import encrypt_password

from csc_warehouse.config import ROLE_PASSWORD_VARIABLES, get_settings

#: role -> the variable holding its password (config.py reads it)
ROLES = ROLE_PASSWORD_VARIABLES
BI = "cscw_bi"
CASEWORK = "cscw_casework"
PUBLISHED_SCHEMA = "marts"
#: schemas a reader must never see (everything but the published marts)
RESTRICTED_SCHEMAS = ("raw", "raw_incoming", "staging", "intermediate", "analytics", "dq",
                      "cscw_private", "marts_audit", "reference", "public")
WORKLIST_PREFIX = "wl_"


def _hashed_password(cur, role: str, password: str) -> str:
    try:
        return encrypt_password(password, role, cur, "scram-sha-256")
    except Exception:  # noqa: BLE001 - old libpq/server: md5 still never sends clear text
        return encrypt_password(password, role, None, "md5")


def ensure_roles(cur) -> None:
    """Create the reader roles (idempotent), set their passwords from the environment and
    take away anything but what :func:`grant_published` grants."""
    passwords = get_settings().role_passwords
    for role in ROLES:
        ident = sql.Identifier(role)
        cur.execute("select 1 from pg_roles where rolname = %s", (role,))
        if cur.fetchone() is None:
            cur.execute(sql.SQL("create role {} nologin nosuperuser nocreatedb nocreaterole "
                                "noinherit").format(ident))
        password = passwords.get(role)
        if password:
            cur.execute(
                sql.SQL("alter role {} login password {}").format(
                    ident, sql.Literal(_hashed_password(cur, role, password))
                )
            )
        # readers see nothing but what is granted below
        for schema in RESTRICTED_SCHEMAS:
            if _schema_exists(cur, schema):
                cur.execute(sql.SQL("revoke all on schema {} from {}").format(
                    sql.Identifier(schema), ident))
                cur.execute(sql.SQL("revoke all on all tables in schema {} from {}").format(
                    sql.Identifier(schema), ident))
    cur.execute("revoke all on schema public from public")


def _schema_exists(cur, schema: str) -> bool:
    cur.execute("select 1 from pg_namespace where nspname = %s", (schema,))
    return cur.fetchone() is not None


def grant_worklists(cur) -> list[str]:
    """Let cscw_casework read analytics.wl_* (and nothing else in analytics)."""
    if not _schema_exists(cur, "analytics"):
        return []
    cur.execute(
        """select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
           where n.nspname = 'analytics' and c.relkind in ('r', 'v', 'm', 'p')
             and starts_with(c.relname, %s) order by 1""",
        (WORKLIST_PREFIX,),
    )
    tables = [r[0] for r in cur.fetchall()]
    role = sql.Identifier(CASEWORK)
    cur.execute(sql.SQL("grant usage on schema analytics to {}").format(role))
    for t in tables:
        cur.execute(sql.SQL("grant select on {} to {}").format(
            sql.Identifier("analytics", t), role))
    return tables


def grant_published(cur) -> None:
    """Grant the readers the (newly swapped-in) marts schema, and casework its worklists."""
    ensure_roles(cur)
    for role in ROLES:
        ident = sql.Identifier(role)
        cur.execute(sql.SQL("grant usage on schema {} to {}").format(
            sql.Identifier(PUBLISHED_SCHEMA), ident))
        cur.execute(sql.SQL("grant select on all tables in schema {} to {}").format(
            sql.Identifier(PUBLISHED_SCHEMA), ident))
    grant_worklists(cur)
