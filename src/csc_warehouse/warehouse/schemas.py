"""Create the warehouse's schemas, bookkeeping tables and raw tables, idempotently.

Schemas:
  raw          loaded files, one table per contract table, partitioned by load batch (one
               partition per night), every row with batch metadata (the last
               CSCW_RAW_KEEP_BATCHES nights in full); record_history (SCD2: every
               version of every record, by drop date, for all nights); load_batches,
               load_files, load_source_files and rejects (the quarantine); the functions
               raw.record_versions(table, key) and raw.record_as_of(table, key, night)
  staging      dbt views over the latest snapshot
  analytics    person-level facts and worklists (restricted)
  marts        what BI reads (pseudonymised); swapped in whole by the publish step
  marts_audit  where tonight's marts are built and audited before publishing
  raw_incoming the loader's work tables of the load in progress (attached to raw as
               partitions when the whole drop has passed; anything left here is debris of
               an interrupted load and is dropped by the next one)
  dq           validation results
  cscw_private helper functions and the pseudonymisation key (owner only)
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac  # noqa: F401  (documented: child_key is HMAC-SHA256, tested against this module)
import secrets

from psycopg2 import sql

from csc_warehouse.config import Settings
from csc_warehouse.contract import Contract, load_contract
from csc_warehouse.warehouse.db import transaction
from csc_warehouse.warehouse.raw_partitions import INCOMING, partition_name

SCHEMAS = ("raw", INCOMING, "staging", "analytics", "marts", "marts_audit", "dq",
           "cscw_private")

#: metadata columns every raw row carries (name, SQL type)
RAW_METADATA_COLUMNS = (
    ("_batch_id", "text not null"),
    ("_drop_date", "date not null"),
    ("_source_file", "text not null"),
    ("_file_sha256", "text not null"),
    ("_row_number", "bigint not null"),
    ("_loaded_at", "timestamptz not null"),
    ("_extra", "jsonb"),
)

_BOOKKEEPING = """
create table if not exists raw.load_batches (
    batch_id        text primary key,
    drop_date       date not null,
    source_format   text not null,
    drop_path       text not null,
    archive_path    text,
    status          text not null,          -- loading | loaded | rejected | superseded
    message         text,
    started_at      timestamptz not null default now(),
    finished_at     timestamptz
);
create index if not exists load_batches_drop_date on raw.load_batches (drop_date);

create table if not exists raw.load_files (
    batch_id        text not null references raw.load_batches (batch_id),
    table_name      text not null,
    source_file     text,
    file_sha256     text,
    encoding        text,
    status          text not null,          -- loaded | absent | rejected
    rows_in_file    bigint,
    rows_loaded     bigint,
    rows_rejected   bigint,
    extra_columns   text[],
    columns_present text[],                 -- contract columns the file carried
    message         text,
    primary key (batch_id, table_name)
);

create table if not exists raw.rejects (
    batch_id        text not null,
    drop_date       date not null,
    table_name      text not null,
    source_file     text not null,
    row_number      bigint not null,
    column_name     text,
    value           text,
    reason          text not null,
    rejected_at     timestamptz not null default now()
);
create index if not exists rejects_batch on raw.rejects (batch_id, table_name);

-- added with history: is the batch part of raw.record_history, and when were its rows
-- removed from raw.<table> by the retention (it then re-loads when run again)
alter table raw.load_batches add column if not exists history_applied boolean;
alter table raw.load_batches add column if not exists raw_pruned_at timestamptz;

-- the input files of a batch as delivered (an SSDA903 drop has several files per raw table)
create table if not exists raw.load_source_files (
    batch_id        text not null references raw.load_batches (batch_id),
    source_file     text not null,
    file_sha256     text not null,
    encoding        text,
    role            text not null,          -- ssd table or 903 file kind (episodes, header...)
    rows_in_file    bigint,
    rows_rejected   bigint,
    status          text not null,          -- loaded | ignored
    primary key (batch_id, source_file)
);

-- SCD2 history of every record of every contract table, across all nights: a version is
-- valid from the drop that first showed it (inclusive) to the drop that first showed it
-- changed or gone (exclusive; null = still current). record = the contract columns (nulls
-- stripped) plus _extra.
create table if not exists raw.record_history (
    table_name        text not null,
    record_key        text not null,
    row_hash          uuid not null,
    valid_from_drop   date not null,
    valid_to_drop     date,
    valid_from_batch  text not null,
    valid_to_batch    text,
    record            jsonb not null,
    primary key (table_name, record_key, valid_from_drop)
);
-- (the primary key serves look-ups by record; the load's comparisons are hash joins)

-- Every version of one record: "what did this record look like, and when".
create or replace function raw.record_versions(p_table text, p_key text)
returns table (valid_from_drop date, valid_to_drop date, valid_from_batch text,
               valid_to_batch text, record jsonb)
language sql stable as $$
    select h.valid_from_drop, h.valid_to_drop, h.valid_from_batch, h.valid_to_batch, h.record
    from raw.record_history h
    where h.table_name = p_table and h.record_key = p_key
    order by h.valid_from_drop
$$;

-- The record as the drop of night p_night delivered it (no row: it was not in that night's
-- snapshot, or history holds no night that early).
create or replace function raw.record_as_of(p_table text, p_key text, p_night date)
returns jsonb language sql stable as $$
    select h.record from raw.record_history h
    where h.table_name = p_table and h.record_key = p_key
      and h.valid_from_drop <= p_night
      and (h.valid_to_drop is null or h.valid_to_drop > p_night)
$$;

create table if not exists dq.validation_results (
    run_id              text not null,
    as_of               date not null,
    batch_id            text,
    suite               text not null,
    severity            text not null,      -- critical | warning
    expectation         text not null,
    expectation_type    text not null,
    table_name          text,
    column_name         text,
    success             boolean not null,
    observed_value      text,
    element_count       bigint,
    unexpected_count    bigint,
    unexpected_percent  double precision,
    mostly              double precision,
    validated_at        timestamptz not null default now(),
    primary key (run_id, suite, expectation)
);
create index if not exists validation_results_as_of on dq.validation_results (as_of);

create table if not exists dq.pipeline_runs (
    run_id          text primary key,
    as_of           date not null,
    batch_id        text,
    status          text not null,          -- running | published | failed
    message         text,
    started_at      timestamptz not null default now(),
    finished_at     timestamptz
);

-- each published night's headline KPI figures (csc_warehouse.headlines,
-- docs/measures/teams-and-trends.md): one row per night, inserted by the publish step in the
-- swap's transaction and never rewritten; a night that is not published adds no row
create table if not exists dq.kpi_headlines_nightly (
    as_of           date primary key,
    run_id          text not null,
    batch_id        text,
    published_at    timestamptz not null default now(),
    headlines       jsonb not null
);

-- an older warehouse's code lookup: the loader checks codes inline, from the contract
drop table if exists cscw_private.code_values;

create table if not exists cscw_private.pseudonym_key (
    id          int primary key default 1 check (id = 1),
    ipad_key    bytea not null,
    opad_key    bytea not null,
    fingerprint text not null
);

-- Is (y, m, d) a real calendar date? Pure arithmetic (leap years included), so it inlines
-- and runs on every supported PostgreSQL (pg_input_is_valid needs 16+).
create or replace function cscw_private.ymd_valid(y int, m int, d int)
returns boolean language sql immutable parallel safe as $$
    select y >= 1 and m between 1 and 12 and d between 1 and case
        when m = 2 then case when (y % 4 = 0 and y % 100 <> 0) or y % 400 = 0 then 29
                             else 28 end
        when m in (4, 6, 9, 11) then 30
        else 31
    end
$$;

-- Exactly YYYY-MM-DD and a real date. The CASE guards the integer casts.
create or replace function cscw_private.is_iso_date(v text)
returns boolean language sql immutable parallel safe as $$
    select case
        when translate(v, '0123456789', '9999999999') = '9999-99-99'
            then cscw_private.ymd_valid(substr(v, 1, 4)::int, substr(v, 6, 2)::int,
                                        substr(v, 9, 2)::int)
        else false
    end
$$;

-- Normalise a date string to ISO YYYY-MM-DD; null when empty or not a valid date.
-- Accepts YYYY-MM-DD with an optional time part (truncated) and, when uk is true,
-- DD/MM/YYYY. Pure SQL (no exception per row), so the planner inlines it.
create or replace function cscw_private.iso_date(v text, uk boolean default false)
returns text language sql immutable parallel safe as $$
    select case
        when translate(substr(btrim(v), 1, 10), '0123456789', '9999999999') = '9999-99-99'
         and (length(btrim(v)) = 10
              or substr(btrim(v), 11) ~ '^[ T]\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?$')
         and cscw_private.is_iso_date(substr(btrim(v), 1, 10))
            then substr(btrim(v), 1, 10)
        when uk and translate(split_part(btrim(v), ' ', 1), '0123456789', '9999999999')
                    in ('99/99/9999', '9/99/9999', '99/9/9999', '9/9/9999')
         and (strpos(btrim(v), ' ') = 0
              or substr(btrim(v), strpos(btrim(v), ' ') + 1) ~ '^\\d{2}:\\d{2}(:\\d{2})?$')
         and cscw_private.is_iso_date(split_part(split_part(btrim(v), ' ', 1), '/', 3) || '-'
                || lpad(split_part(btrim(v), '/', 2), 2, '0') || '-'
                || lpad(split_part(split_part(btrim(v), ' ', 1), '/', 1), 2, '0'))
            then split_part(split_part(btrim(v), ' ', 1), '/', 3) || '-'
                || lpad(split_part(btrim(v), '/', 2), 2, '0') || '-'
                || lpad(split_part(split_part(btrim(v), ' ', 1), '/', 1), 2, '0')
    end
$$;

-- child_key: HMAC-SHA256 of the person id with the warehouse's secret key (hex).
-- HMAC(K, m) = H((K xor opad) || H((K xor ipad) || m)); the padded keys are stored,
-- so the secret never appears in SQL text, dbt's compiled files or logs.
create or replace function cscw_private.child_key(person_id text)
returns text language sql stable parallel safe as $$
    select encode(sha256(k.opad_key || sha256(k.ipad_key || convert_to(person_id, 'UTF8'))),
                  'hex')
    from cscw_private.pseudonym_key k
    where person_id is not null
$$;
"""


def _raw_table_ddl(contract: Contract) -> list[sql.Composed]:
    """raw.<table>: partitioned by ``_batch_id`` (one partition per loaded night: the loader
    attaches a night in one step and the retention drops one in one step)."""
    stmts: list[sql.Composed] = []
    for table in contract.tables.values():
        cols = [sql.SQL("{} text").format(sql.Identifier(c)) for c in table.column_names]
        meta = [sql.SQL(f"{name} {typ}") for name, typ in RAW_METADATA_COLUMNS]
        ident = sql.Identifier("raw", table.name)
        stmts.append(
            sql.SQL("create table if not exists {} ({}) partition by list (_batch_id)").format(
                ident, sql.SQL(", ").join(cols + meta)
            )
        )
        # a newer contract may add columns: add them to an existing table
        for c in table.column_names:
            stmts.append(
                sql.SQL("alter table {} add column if not exists {} text").format(
                    ident, sql.Identifier(c)
                )
            )
        # an older warehouse's row hash (history now hashes the rows itself) and indexes
        # (partition pruning replaces the batch index)
        stmts.append(
            sql.SQL("alter table {} drop column if exists _row_hash").format(ident)
        )
        for suffix in ("drop_date", "batch_id"):
            stmts.append(
                sql.SQL("drop index if exists {}").format(
                    sql.Identifier("raw", f"{table.name}__{suffix}")
                )
            )
    return stmts


def _partition_unpartitioned_raw(cur, contract: Contract) -> None:
    """Move an older warehouse's plain raw.<table> into the partitioned layout, one
    partition per batch, without losing a row."""
    for table in contract.tables.values():
        cur.execute(
            "select c.relkind from pg_class c join pg_namespace n on n.oid = c.relnamespace "
            "where n.nspname = 'raw' and c.relname = %s",
            (table.name,),
        )
        row = cur.fetchone()
        if row is None or row[0] != "r":
            continue
        old = f"{table.name}__unpartitioned"
        cur.execute(sql.SQL("alter table {} rename to {}").format(
            sql.Identifier("raw", table.name), sql.Identifier(old)))
        for stmt in _raw_table_ddl(dataclasses.replace(contract,
                                                       tables={table.name: table})):
            cur.execute(stmt)
        cur.execute("select column_name from information_schema.columns "
                    "where table_schema = 'raw' and table_name = %s", (old,))
        had = {r[0] for r in cur.fetchall()}  # an older contract may have had fewer
        cols = sql.SQL(", ").join(
            sql.Identifier(c)
            for c in [*table.column_names, *(name for name, _ in RAW_METADATA_COLUMNS)]
            if c in had)
        cur.execute(sql.SQL("select distinct _batch_id from {}").format(
            sql.Identifier("raw", old)))
        for (batch_id,) in cur.fetchall():
            part = sql.Identifier("raw", partition_name(table.name, batch_id))
            cur.execute(sql.SQL("create table {} partition of {} for values in ({})").format(
                part, sql.Identifier("raw", table.name), sql.Literal(batch_id)))
            cur.execute(sql.SQL("insert into {} ({}) select {} from {} where _batch_id = %s")
                        .format(part, cols, cols, sql.Identifier("raw", old)), (batch_id,))
        # cascade: dbt's staging views still point at the old table; the night's dbt run
        # builds them again, over the partitioned one
        cur.execute(sql.SQL("drop table {} cascade").format(sql.Identifier("raw", old)))


def pseudonym_secret(settings: Settings) -> bytes:
    """CSCW_PSEUDONYM_KEY, else a key generated once and kept under CSCW_HOME/secrets."""
    if settings.pseudonym_key:
        return settings.pseudonym_key.encode()
    path = settings.secrets / "pseudonym.key"
    if not path.exists():
        settings.ensure_dirs()
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip().encode()


def hmac_pads(key: bytes) -> tuple[bytes, bytes]:
    """The (K xor ipad, K xor opad) blocks of HMAC-SHA256 (RFC 2104)."""
    if len(key) > 64:
        key = hashlib.sha256(key).digest()
    key = key.ljust(64, b"\0")
    return bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)


def bootstrap(url: str, settings: Settings) -> None:
    """Create or update every schema and table the pipeline needs. Safe to run every night."""
    contract = load_contract()
    with transaction(url) as cur:
        cur.execute("select pg_advisory_xact_lock(hashtext('cscw_bootstrap'))")
        for s in SCHEMAS:
            cur.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(s)))
        cur.execute(_BOOKKEEPING)
        _partition_unpartitioned_raw(cur, contract)
        for stmt in _raw_table_ddl(contract):
            cur.execute(stmt)
        # pseudonymisation key
        ipad, opad = hmac_pads(pseudonym_secret(settings))
        fingerprint = hashlib.sha256(opad).hexdigest()[:12]
        cur.execute(
            """insert into cscw_private.pseudonym_key (id, ipad_key, opad_key, fingerprint)
               values (1, %s, %s, %s)
               on conflict (id) do update set ipad_key = excluded.ipad_key,
                   opad_key = excluded.opad_key, fingerprint = excluded.fingerprint""",
            (ipad, opad, fingerprint),
        )
