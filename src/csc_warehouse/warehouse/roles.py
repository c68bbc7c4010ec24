"""Database roles for readers of the warehouse.

- ``cscw_bi``: reads ``marts`` and nothing else (BI tools: Power BI, Metabase).
- ``cscw_casework``: also reads the worklists in ``analytics`` (``wl_*``), for the teams
  that fix records.

Passwords come from CSCW_BI_PASSWORD / CSCW_CASEWORK_PASSWORD; without one the role exists
but cannot log in.
"""

from __future__ import annotations

import os

from psycopg2 import sql

ROLES = {"cscw_bi": "CSCW_BI_PASSWORD", "cscw_casework": "CSCW_CASEWORK_PASSWORD"}


def ensure_roles(cur) -> None:
    for role, env in ROLES.items():
        cur.execute("select 1 from pg_roles where rolname = %s", (role,))
        if cur.fetchone() is None:
            cur.execute(sql.SQL("create role {} nologin").format(sql.Identifier(role)))
        password = os.environ.get(env)
        if password:
            cur.execute(
                sql.SQL("alter role {} login password %s").format(sql.Identifier(role)),
                (password,),
            )
        # readers see nothing but what is granted below
        for schema in ("raw", "staging", "intermediate", "analytics", "dq", "cscw_private",
                       "marts_audit", "reference"):
            cur.execute(
                sql.SQL("revoke all on schema {} from {}").format(
                    sql.Identifier(schema), sql.Identifier(role)
                )
            ) if _schema_exists(cur, schema) else None
    cur.execute("revoke all on schema public from public")


def _schema_exists(cur, schema: str) -> bool:
    cur.execute("select 1 from pg_namespace where nspname = %s", (schema,))
    return cur.fetchone() is not None


def grant_published(cur) -> None:
    """Grant the readers the (newly swapped-in) marts schema."""
    ensure_roles(cur)
    for role in ROLES:
        cur.execute(sql.SQL("grant usage on schema marts to {}").format(sql.Identifier(role)))
        cur.execute(
            sql.SQL("grant select on all tables in schema marts to {}").format(
                sql.Identifier(role)
            )
        )
        cur.execute(
            sql.SQL("revoke all on schema marts_audit from {}").format(sql.Identifier(role))
        )
