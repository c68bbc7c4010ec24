"""Each published night's headline KPI figures, kept one row per night (spec section 11,
docs/measures/teams-and-trends.md).

dbt builds ``mart_kpi_headlines`` (tonight's headline figures, long shape) into
``marts_audit``; the publish step swaps it in and, in the same transaction, calls
:func:`record_headlines`, which copies it into ``dq.kpi_headlines_nightly`` as one row for
the night. A night that fails before publishing adds no row (the transaction never runs or
rolls back); a night published again (a re-run of the same drop) keeps the row written
first: the history is never rewritten. The published view ``marts.mart_kpi_headlines_nightly``
reads it back in the long shape, so "as reported on the night" can be compared with "as
recorded now" (the monthly series).
"""

from __future__ import annotations

import datetime as dt
import logging

log = logging.getLogger(__name__)

HISTORY = "dq.kpi_headlines_nightly"
HEADLINES = "marts.mart_kpi_headlines"


def record_headlines(cur, run_id: str, as_of: dt.date, batch_id: str | None) -> bool:
    """Insert tonight's headlines (the just-published ``marts.mart_kpi_headlines``) as the
    night's row; False when there is nothing to record or the night already has its row."""
    cur.execute("select to_regclass(%s), to_regclass(%s)", (HISTORY, HEADLINES))
    history, headlines = cur.fetchone()
    if history is None or headlines is None:
        log.warning("nightly headlines not recorded: %s or %s does not exist",
                    HISTORY, HEADLINES)
        return False
    cur.execute(
        f"""insert into {HISTORY} (as_of, run_id, batch_id, published_at, headlines)
            select %s, %s, %s, now(),
                   coalesce(jsonb_agg(to_jsonb(h) order by h.measure, h.team), '[]'::jsonb)
            from {HEADLINES} as h
            on conflict (as_of) do nothing""",
        (as_of, run_id, batch_id),
    )
    return cur.rowcount == 1
