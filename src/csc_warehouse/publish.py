"""Write-audit-publish: swap the audited marts in, atomically.

dbt builds tonight's marts into ``marts_audit``; once dbt's tests, the enforced contracts and
the critical GX suite have passed, one transaction renames ``marts`` <-> ``marts_audit``.
A BI query sees either last night's marts or tonight's, never a mix; a night that fails
before this step leaves ``marts`` exactly as it was.
"""

from __future__ import annotations

import datetime as dt

from csc_warehouse.warehouse.db import transaction

PUBLISHED = "marts"
AUDIT = "marts_audit"


def audit_tables(cur) -> list[str]:
    cur.execute(
        "select table_name from information_schema.tables where table_schema = %s "
        "order by 1",
        (AUDIT,),
    )
    return [r[0] for r in cur.fetchall()]


def publish(url: str, run_id: str, as_of: dt.date, batch_id: str | None) -> list[str]:
    """Swap marts_audit in as marts; returns the published relations."""
    with transaction(url) as cur:
        cur.execute("select pg_advisory_xact_lock(hashtext('cscw_publish'))")
        tables = audit_tables(cur)
        if not tables:
            raise RuntimeError(f"nothing to publish: schema {AUDIT} is empty")
        cur.execute(f"alter schema {PUBLISHED} rename to {PUBLISHED}_swap")
        cur.execute(f"alter schema {AUDIT} rename to {PUBLISHED}")
        cur.execute(f"alter schema {PUBLISHED}_swap rename to {AUDIT}")
        _after_swap(cur)
        cur.execute(
            """insert into dq.pipeline_runs (run_id, as_of, batch_id, status, message,
                   finished_at)
               values (%s, %s, %s, 'published', %s, now())
               on conflict (run_id) do update set status = 'published',
                   message = excluded.message, finished_at = now()""",
            (run_id, as_of, batch_id, f"published {len(tables)} relations"),
        )
    return tables


def _after_swap(cur) -> None:
    """Hook run inside the publish transaction (grants for BI roles are applied here)."""
    from csc_warehouse.warehouse.roles import grant_published

    grant_published(cur)


def record_failure(url: str, run_id: str, as_of: dt.date | None, batch_id: str | None,
                   message: str) -> None:
    with transaction(url) as cur:
        cur.execute(
            """insert into dq.pipeline_runs (run_id, as_of, batch_id, status, message,
                   finished_at)
               values (%s, coalesce(%s, current_date), %s, 'failed', %s, now())
               on conflict (run_id) do update set status = 'failed',
                   message = excluded.message, finished_at = now()""",
            (run_id, as_of, batch_id, message[:4000]),
        )
