"""The retention of raw: the last CSCW_RAW_KEEP_BATCHES loaded nights stay in
``raw.<table>`` in full (older ones live on in ``raw.record_history``)."""

from __future__ import annotations

from collections.abc import Callable

import psycopg2
import psycopg2.errors

from csc_warehouse.warehouse.raw_partitions import drop_batches

#: how long the retention waits for readers of raw.<table> (dropping a partition locks its
#: parent against them) before it leaves the old nights to the next load
LOCK_TIMEOUT = "10s"


def apply_retention(conn, batch_id: str, tables: list[str], keep: int,
                    progress: Callable[[str], None], lock_timeout: str = LOCK_TIMEOUT) -> None:
    """The retention, in its own transaction after the night is in: a reader holding a
    raw table (an analyst's long query) postpones it instead of holding up the load."""
    try:
        with conn.cursor() as cur:
            cur.execute("set local lock_timeout = %s", (lock_timeout,))
            prune(cur, batch_id, tables, keep, progress)
        conn.commit()
    except psycopg2.errors.LockNotAvailable:
        conn.rollback()
        progress("retention postponed: a raw table is in use; the next load removes the "
                 "older nights")


def prune(cur, batch_id: str, tables: list[str], keep: int,
          progress: Callable[[str], None]) -> None:
    """Keep the last ``keep`` loaded nights (and this one) in raw.<table>."""
    cur.execute(
        """select batch_id from raw.load_batches
           where raw_pruned_at is null and status in ('loaded', 'superseded')
             and history_applied is not null
             and batch_id <> %s
             and batch_id not in (select batch_id from raw.load_batches
                                  where status = 'loaded'
                                  order by drop_date desc, finished_at desc
                                  limit %s)""",
        (batch_id, keep),
    )
    old = [r[0] for r in cur.fetchall()]
    if not old:
        return
    progress(f"retention: removing {len(old)} older batch(es) from raw tables")
    drop_batches(cur, tables, old)
    cur.execute("update raw.load_batches set raw_pruned_at = now() where batch_id = any(%s)",
                (old,))
