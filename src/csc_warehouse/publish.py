"""Write-audit-publish: swap the audited marts in, atomically.

dbt builds tonight's marts into ``marts_audit``; once dbt's tests, the enforced contracts and
the critical GX suite have passed, one transaction renames ``marts`` <-> ``marts_audit``.
A BI query, or a BI transaction spanning several queries, sees either last night's marts or
tonight's, never a mix (the swap locks every mart first, see :func:`_lock_marts`); a night
that fails before this step leaves ``marts`` exactly as it was. The run is marked
published in dq.pipeline_runs in the same transaction, so marts.data_completeness (a view
over published runs) changes together with the marts.
"""

from __future__ import annotations

import datetime as dt
import logging
import time

from psycopg2 import errors, sql

from csc_warehouse.config import test_pause
from csc_warehouse.headlines import record_headlines
from csc_warehouse.warehouse.cancel import KEEP_MARK
from csc_warehouse.warehouse.db import transaction
from csc_warehouse.warehouse.roles import grant_published

log = logging.getLogger(__name__)

PUBLISHED = "marts"
AUDIT = "marts_audit"


#: how long one publish attempt waits for readers to finish before it retries
LOCK_TIMEOUT = "20s"
ATTEMPTS = 6


class PublishLockTimeout(RuntimeError):
    """Readers held the marts for too long: nothing was published this time."""


#: dq.pipeline_runs.status of a night that passed but is older than the published one
HELD_BACK = "held back"


def published_night(cur) -> dt.date | None:
    """The night BI reads now: the as_of of the run published last."""
    cur.execute("""select as_of from dq.pipeline_runs where status = 'published'
                   order by finished_at desc nulls last, run_id desc limit 1""")
    row = cur.fetchone()
    return row[0] if row else None


def held_back_message(night: dt.date, published: dt.date) -> str:
    return (f"night {night} is older than the published night {published}: loaded, built "
            f"and validated, NOT published (the marts still show {published}); "
            f"`cscw run --republish` publishes it on purpose")


def audit_tables(cur) -> list[str]:
    cur.execute(
        "select table_name from information_schema.tables where table_schema = %s "
        "order by 1",
        (AUDIT,),
    )
    return [r[0] for r in cur.fetchall()]


def _relations(cur, schema: str) -> list[str]:
    cur.execute(
        """select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
           where n.nspname = %s and c.relkind in ('r', 'v', 'm', 'p') order by 1""",
        (schema,),
    )
    return [r[0] for r in cur.fetchall()]


def _lock_marts(cur) -> None:
    """Take ACCESS EXCLUSIVE on every relation of both schemas before renaming them.

    Renaming a schema alone takes no lock on its tables, so a BI transaction that had read
    one mart could read the next one from the other night. With the locks, publish waits
    for transactions that have read the marts to end, and queries that start meanwhile
    wait for the swap to commit (then PostgreSQL looks the name up again and reads the new
    marts): every transaction sees one night's marts.
    """
    rels = [sql.Identifier(schema, r) for schema in (PUBLISHED, AUDIT)
            for r in _relations(cur, schema)]
    if rels:
        cur.execute(sql.SQL("lock table {} in access exclusive mode").format(
            sql.SQL(", ").join(rels)))


def _hold_back(cur, run_id: str, as_of: dt.date, batch_id: str | None,
               republish: bool) -> str | None:
    """Publishing is monotonic in the night: a night older than the published one is not
    swapped in (unless ``republish``); returns why, after recording it."""
    current = published_night(cur)
    if republish or current is None or as_of >= current:
        return None
    msg = held_back_message(as_of, current)
    cur.execute(
        """insert into dq.pipeline_runs (run_id, as_of, batch_id, status, message,
               finished_at)
           values (%s, %s, %s, %s, %s, now())
           on conflict (run_id) do update set status = excluded.status,
               message = excluded.message, finished_at = now()""",
        (run_id, as_of, batch_id, HELD_BACK, msg),
    )
    return msg


def _swap(cur, run_id: str, as_of: dt.date, batch_id: str | None,
          republish: bool = False) -> list[str] | str:
    """The publish transaction: the swapped relations, or why the night was held back."""
    cur.execute("select pg_advisory_xact_lock(hashtext('cscw_publish'))")
    held = _hold_back(cur, run_id, as_of, batch_id, republish)
    if held:
        return held
    cur.execute("set local lock_timeout = %s", (LOCK_TIMEOUT,))
    tables = audit_tables(cur)
    if not tables:
        raise RuntimeError(f"nothing to publish: schema {AUDIT} is empty")
    _lock_marts(cur)
    cur.execute(f"alter schema {PUBLISHED} rename to {PUBLISHED}_swap")
    cur.execute(f"alter schema {AUDIT} rename to {PUBLISHED}")
    cur.execute(f"alter schema {PUBLISHED}_swap rename to {AUDIT}")
    test_pause("publish")
    _after_swap(cur)
    # issue 12: the night's headline figures, one row per published night, same transaction
    record_headlines(cur, run_id, as_of, batch_id)
    cur.execute(
        """insert into dq.pipeline_runs (run_id, as_of, batch_id, status, message,
               finished_at)
           values (%s, %s, %s, 'published', %s, now())
           on conflict (run_id) do update set status = 'published',
               message = excluded.message, finished_at = now()""",
        (run_id, as_of, batch_id, f"published {len(tables)} relations"),
    )
    return tables


def publish(url: str, run_id: str, as_of: dt.date, batch_id: str | None,
            republish: bool = False) -> list[str] | str:
    """Swap marts_audit in as marts in one transaction; returns the published relations,
    or (a string) why an older night was held back (see :func:`_hold_back`).

    When readers hold the marts longer than LOCK_TIMEOUT, or a reader deadlocks with the
    swap, the attempt rolls back (the marts are untouched) and is retried.
    """
    last: Exception | None = None
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with transaction(url) as cur:
                return _swap(cur, run_id, as_of, batch_id, republish)
        except (errors.LockNotAvailable, errors.DeadlockDetected) as exc:
            last = exc
            log.warning("publish attempt %d: readers hold the marts (%s); retrying",
                        attempt, str(exc).strip().splitlines()[0])
            time.sleep(min(2 * attempt, 10))
    raise PublishLockTimeout(
        f"could not lock the marts after {ATTEMPTS} attempts; nothing published: {last}"
    )


def _after_swap(cur) -> None:
    """Hook run inside the publish transaction (grants for BI roles are applied here)."""
    grant_published(cur)


def record_failure(url: str, run_id: str, as_of: dt.date | None, batch_id: str | None,
                   message: str, status: str = "failed") -> None:
    """A night that was not published: ``failed``, or ``interrupted`` (told to stop)."""
    with transaction(url) as cur:
        cur.execute(
            KEEP_MARK + """insert into dq.pipeline_runs (run_id, as_of, batch_id, status,
                   message, finished_at)
               values (%s, coalesce(%s, current_date), %s, %s, %s, now())
               on conflict (run_id) do update set status = excluded.status,
                   message = excluded.message, finished_at = now()""",
            (run_id, as_of, batch_id, status, message[:4000]),
        )
