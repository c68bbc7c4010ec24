"""raw.record_history: every version of every record, across all nights (SCD2 by drop).

Applied after a night's load has committed, in its own transaction, from the night's raw
partition: versions whose record changed or disappeared are closed at this drop date, new
versions are opened. A version's ``row_hash`` is the md5 of the record's contract columns
and ``_extra`` as raw holds them (normalised by the loader).

It is not part of the load's transaction on purpose: the load (COPY, checks, quarantine,
attach) is what has to be fast and atomic; history is derived from raw and can always be
re-applied. A night whose history has not been applied keeps its raw partition (the
retention only removes nights that are in history).
"""

from __future__ import annotations

import datetime as dt

from psycopg2 import sql

from csc_warehouse.contract import Contract, load_contract
from csc_warehouse.warehouse.db import connect

HISTORY_UPDATED = "history updated"


def record_history(url: str, batch_id: str) -> str:
    """Bring raw.record_history up to the loaded batch; returns the note also appended to
    the batch's message in raw.load_batches.

    Idempotent: a batch already applied (or deliberately left out) is not applied again.
    Earlier nights still waiting for their history (a history step that failed) are applied
    first, in date order, so no night's versions are skipped."""
    contract = load_contract()
    conn = connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("select pg_advisory_xact_lock(hashtext('cscw_load'))")
            cur.execute("set local jit = off; set local work_mem = '256MB'")
            cur.execute(
                "select drop_date, status, history_applied, finished_at "
                "from raw.load_batches where batch_id = %s", (batch_id,))
            row = cur.fetchone()
            if row is None or row[1] != "loaded":
                raise ValueError(f"batch {batch_id} is not a loaded batch")
            if row[2] is not None:
                return "history already applied" if row[2] else "history kept (decided before)"
            cur.execute(
                """select batch_id from raw.load_batches
                   where status = 'loaded' and history_applied is null
                     and raw_pruned_at is null and batch_id <> %s
                     and (drop_date, finished_at) < (%s, %s)
                   order by drop_date, finished_at""",
                (batch_id, row[0], row[3]))
            note = ""
            for b in [*(r[0] for r in cur.fetchall()), batch_id]:
                note = _apply_batch(cur, contract, b)
        conn.commit()
        return note
    finally:
        conn.close()


def _apply_batch(cur, contract: Contract, batch_id: str) -> str:
    cur.execute("select drop_date from raw.load_batches where batch_id = %s", (batch_id,))
    drop_date = cur.fetchone()[0]
    cur.execute(
        "select table_name from raw.load_files where batch_id = %s "
        "and status = 'loaded' order by table_name", (batch_id,))
    loaded = [r[0] for r in cur.fetchall() if r[0] in contract.tables]
    note = _apply(cur, contract, drop_date, batch_id, loaded)
    cur.execute(
        """update raw.load_batches set message = message || '; ' || %s,
               history_applied = %s
           where batch_id = %s""",
        (note, note == HISTORY_UPDATED, batch_id),
    )
    return note


def _row_hash(table) -> sql.Composable:
    content = sql.SQL(", ").join(sql.SQL("r.{}").format(sql.Identifier(c))
                                 for c in [*table.column_names, "_extra"])
    return sql.SQL("md5(row({})::text)::uuid").format(content)


def _apply(cur, contract: Contract, drop_date: dt.date, batch_id: str,
           loaded_tables: list[str]) -> str:
    """Bring raw.record_history up to this snapshot, set-based. Returns a status note.

    Drops are applied in date order. Re-loading the latest night (a corrected drop for
    the same date) first undoes that night's changes; loading a night older than the
    latest one in history (a late re-run) leaves history as it is.
    """
    cur.execute(
        """select max(drop_date) from raw.load_batches
           where history_applied and batch_id <> %s
             and status in ('loaded', 'superseded')""",
        (batch_id,),
    )
    latest = cur.fetchone()[0]
    if latest is not None and latest > drop_date:
        return f"history kept (a later night, {latest}, is already in it)"
    if latest is not None and latest == drop_date:
        cur.execute("delete from raw.record_history where valid_from_drop = %s",
                    (drop_date,))
        cur.execute(
            """update raw.record_history set valid_to_drop = null, valid_to_batch = null
               where valid_to_drop = %s""",
            (drop_date,),
        )
        cur.execute(
            """update raw.load_batches set history_applied = false
               where drop_date = %s and batch_id <> %s""",
            (drop_date, batch_id),
        )
    # the raw rows were just inserted (no statistics yet): without this the planner
    # picks a nested loop per history row; the comparisons are whole-table hash joins
    cur.execute("set local enable_nestloop = off")
    for name in loaded_tables:  # an absent table says nothing about its records
        table = contract.tables[name]
        tbl = sql.Identifier("raw", name)
        key = sql.Identifier(table.key.name)
        # the record: contract columns and _extra, nulls stripped (built explicitly:
        # cheaper than to_jsonb(row) minus the metadata keys, and the same value)
        row_hash = _row_hash(table)
        record = sql.SQL("jsonb_strip_nulls(jsonb_build_object({}))").format(
            sql.SQL(", ").join(sql.SQL("{}, r.{}").format(sql.Literal(c), sql.Identifier(c))
                               for c in [*table.column_names, "_extra"]))
        cur.execute("select exists (select 1 from raw.record_history "
                    "where table_name = %s and valid_to_drop is null)", (name,))
        if not cur.fetchone()[0]:
            # nothing open (the table's first night, or all its records were gone):
            # every record opens a version, no comparison needed
            cur.execute(
                sql.SQL(
                    "insert into raw.record_history (table_name, record_key, row_hash, "
                    "valid_from_drop, valid_from_batch, record) "
                    "select %s, r.{key}, {row_hash}, %s, %s, {record} from {tbl} r "
                    "where r._batch_id = %s"
                ).format(tbl=tbl, key=key, record=record, row_hash=row_hash),
                (name, drop_date, batch_id, batch_id),
            )
            continue
        cur.execute(
            sql.SQL(
                "update raw.record_history h set valid_to_drop = %s, valid_to_batch = %s "
                "where h.table_name = %s and h.valid_to_drop is null "
                "and not exists (select 1 from {tbl} r where r._batch_id = %s "
                "and r.{key} = h.record_key and {row_hash} = h.row_hash)"
            ).format(tbl=tbl, key=key, row_hash=row_hash),
            (drop_date, batch_id, name, batch_id),
        )
        cur.execute(
            sql.SQL(
                "insert into raw.record_history (table_name, record_key, row_hash, "
                "valid_from_drop, valid_from_batch, record) "
                "select %s, r.{key}, {row_hash}, %s, %s, {record} from {tbl} r "
                "where r._batch_id = %s and not exists (select 1 from raw.record_history h "
                "where h.table_name = %s and h.valid_to_drop is null "
                "and h.record_key = r.{key})"
            ).format(tbl=tbl, key=key, record=record, row_hash=row_hash),
            (name, drop_date, batch_id, batch_id, name),
        )
    cur.execute("set local enable_nestloop = on")
    return HISTORY_UPDATED
