#!/usr/bin/env bash
# Runs once, when the warehouse volume is first initialised (postgres image's
# /docker-entrypoint-initdb.d). Creates `cscw`, the owner of database `warehouse`.
#
#   postgres   superuser, for the administrator only (CSCW_WAREHOUSE_ADMIN_PASSWORD)
#   cscw       LOGIN CREATEROLE, owns database `warehouse` and its public schema; the
#              pipeline connects as cscw (CSCW_WAREHOUSE_URL) and creates the schemas
#              (raw, staging, analytics, marts, marts_audit, dq, cscw_private) and the
#              roles cscw_bi (reads marts only) and the caseworker role.
#
# The password is passed as a psql variable (:'pw'), so it is quoted safely and never
# appears in the SQL text or the server log.
set -euo pipefail

if [[ -z "${CSCW_WAREHOUSE_PASSWORD:-}" ]]; then
    echo "10-cscw-owner.sh: CSCW_WAREHOUSE_PASSWORD is not set" >&2
    exit 1
fi
if [[ "${CSCW_WAREHOUSE_PASSWORD}" == *CHANGE_ME* || "${POSTGRES_PASSWORD:-}" == *CHANGE_ME* ]]; then
    echo "10-cscw-owner.sh: a warehouse password is still a CHANGE_ME placeholder; fill in .env" >&2
    exit 1
fi

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
     -v pw="$CSCW_WAREHOUSE_PASSWORD" -v db="$POSTGRES_DB" <<'SQL'
select format('create role cscw login createrole password %L', :'pw')
 where not exists (select from pg_roles where rolname = 'cscw') \gexec
select format('alter role cscw login createrole password %L', :'pw') \gexec
select format('alter database %I owner to cscw', :'db') \gexec
-- PostgreSQL >= 15: the public schema belongs to pg_database_owner (now cscw) and
-- PUBLIC may not create in it. Say so explicitly anyway.
revoke create on schema public from public;
-- BI and caseworker roles must not wander into the maintenance database.
revoke connect on database postgres from public;
SQL
echo "10-cscw-owner.sh: role cscw owns database ${POSTGRES_DB}"
