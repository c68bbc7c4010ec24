"""raw.<table> is partitioned by load batch: names and DDL of one night's partitions.

The SSD loader fills a night's tables in ``raw_incoming`` (each file COPYed and checked in
its own transaction), then attaches them all as partitions of ``raw.<table>`` in the one
transaction that records the batch as loaded: readers see a whole night or none of it. A
load that dies before that leaves only ``raw_incoming`` tables, which the next load drops.
"""

from __future__ import annotations

import hashlib
import re

from psycopg2 import sql

INCOMING = "raw_incoming"
_MAX_IDENT = 63


def partition_name(table: str, batch_id: str) -> str:
    """``<table>__<batch id>`` as an identifier (lower case, ``_`` for anything else; a
    hash when it would pass PostgreSQL's 63-character limit)."""
    name = f"{table}__{re.sub(r'[^0-9a-z]+', '_', batch_id.lower())}"
    if len(name) > _MAX_IDENT:
        name = f"{table[:40]}__{hashlib.sha256(batch_id.encode()).hexdigest()[:16]}"
    return name


def create_partition(cur, table: str, batch_id: str) -> None:
    """The (empty) partition of ``raw.<table>`` for one batch, created when missing."""
    cur.execute(
        sql.SQL("create table if not exists {} partition of {} for values in ({})").format(
            sql.Identifier("raw", partition_name(table, batch_id)),
            sql.Identifier("raw", table),
            sql.Literal(batch_id),
        )
    )


def attach_incoming(cur, table: str, batch_id: str) -> None:
    """Attach ``raw_incoming.<table>`` as the batch's partition of ``raw.<table>`` and move it
    to ``raw``. Its CHECK (_batch_id = batch) spares PostgreSQL the validation scan."""
    part = partition_name(table, batch_id)
    cur.execute(
        sql.SQL("alter table {} attach partition {} for values in ({})").format(
            sql.Identifier("raw", table), sql.Identifier(INCOMING, table), sql.Literal(batch_id)
        )
    )
    cur.execute(sql.SQL("alter table {} rename to {}").format(
        sql.Identifier(INCOMING, table), sql.Identifier(part)))
    cur.execute(sql.SQL("alter table {} set schema raw").format(sql.Identifier(INCOMING, part)))


def analyze_batch(cur, tables: list[str], batch_id: str) -> None:
    """Statistics for the night's partitions (autovacuum comes later, if ever, and never
    analyses a partitioned parent): without them dbt's first queries on a large authority
    get plans that take minutes instead of seconds (docs/performance.md)."""
    for table in tables:
        part = partition_name(table, batch_id)
        cur.execute("select to_regclass(%s)", (f"raw.{part}",))
        if cur.fetchone()[0] is not None:
            cur.execute(sql.SQL("analyze {}").format(sql.Identifier("raw", part)))


def drop_batches(cur, tables: list[str], batch_ids: list[str]) -> None:
    """Drop the partitions of these batches (a superseded night, the retention)."""
    for batch_id in batch_ids:
        for table in tables:
            cur.execute(sql.SQL("drop table if exists {}").format(
                sql.Identifier("raw", partition_name(table, batch_id))))


def clear_incoming(cur) -> None:
    """Drop every table left in ``raw_incoming`` (debris of an interrupted load). Only ever
    called by the loader holding the load lock."""
    for kind, what in (("r", "table"), ("S", "sequence")):  # tables first: their own
        cur.execute(                                         # sequences go with them
            "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
            "where n.nspname = %s and c.relkind = %s",
            (INCOMING, kind),
        )
        for (name,) in cur.fetchall():
            cur.execute(sql.SQL("drop {} if exists {} cascade").format(
                sql.SQL(what), sql.Identifier(INCOMING, name)))
