"""One run at a time per warehouse.

The lock lives in the warehouse itself, so it covers every machine that runs the night
against it (a Celery worker and an operator's shell alike): a session-level PostgreSQL
advisory lock, and beside it one row in ``dq.run_lock`` saying who holds it (host, pid,
night, since when) for the message a second run prints. An advisory lock belongs to its
connection: when the holder dies (``kill -9``, a lost machine) PostgreSQL ends the session
and the lock with it, so a crashed run never blocks the next one. The row is only a label:
it is trusted while the lock is held and overwritten by the next holder.

``cscw run`` holds the lock for the whole night (load, dbt, validation, publish). The DAG's
own warehouse-writing tasks (load_raw, validate, publish) take it for their duration when
they run without it (under the scheduler), and skip it in a process that already holds it
(``cscw run`` runs the DAG in-process).
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psycopg2.extensions

from csc_warehouse.warehouse.db import connect

#: the advisory lock's key (one per database: advisory locks are per database)
LOCK_KEY = "cscw_night"
POLL_SECONDS = 2.0

_held_here = False
#: set in the environment of a process holding the lock (its task subprocesses inherit it)
HELD_VARIABLE = "CSCW_RUN_LOCK_HELD"


class RunLocked(RuntimeError):
    """Another run holds the warehouse and did not finish within the wait."""


def _setup(cur) -> None:
    cur.execute("create schema if not exists dq")
    cur.execute(
        """create table if not exists dq.run_lock (
               id boolean primary key default true check (id),
               host text not null, pid integer not null, night date,
               since timestamptz not null default now())"""
    )


def holder(conn: psycopg2.extensions.connection) -> str:
    """Who holds the lock, as the row says it (host, pid, night, since)."""
    with conn.cursor() as cur:
        cur.execute("select to_regclass('dq.run_lock') is not null")
        row = None
        if cur.fetchone()[0]:
            cur.execute("select host, pid, night, since from dq.run_lock")
            row = cur.fetchone()
    if row is None:
        return "another run (no details recorded)"
    host, pid, night, since = row
    return (f"the run of night {night} on host {host}, pid {pid}, since "
            f"{since.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S} UTC")


@contextmanager
def hold(url: str, night: dt.date | None, wait: float,
         say: Callable[[str], None] = print) -> Iterator[None]:
    """Hold the warehouse's run lock for the block: wait up to ``wait`` seconds for another
    holder (saying so once), then raise :class:`RunLocked` naming it."""
    global _held_here
    if _held_here or os.environ.get(HELD_VARIABLE):
        yield
        return
    conn = connect(url, autocommit=True)
    try:
        with conn.cursor() as cur:
            deadline = time.monotonic() + wait
            told = False
            while True:
                cur.execute("select pg_try_advisory_lock(hashtext(%s))", (LOCK_KEY,))
                if cur.fetchone()[0]:
                    break
                who = holder(conn)
                if time.monotonic() >= deadline:
                    raise RunLocked(
                        f"the warehouse is busy: {who} holds it (waited {wait:.0f}s, "
                        "CSCW_RUN_LOCK_WAIT); nothing was done for this night, run it again "
                        "when that run has finished")
                if not told:
                    say(f"waiting up to {wait:.0f}s (CSCW_RUN_LOCK_WAIT) for {who} to finish")
                    told = True
                time.sleep(min(POLL_SECONDS, max(0.0, deadline - time.monotonic())))
            _setup(cur)
            cur.execute(
                """insert into dq.run_lock (host, pid, night) values (%s, %s, %s)
                   on conflict (id) do update set host = excluded.host, pid = excluded.pid,
                       night = excluded.night, since = now()""",
                (socket.gethostname(), os.getpid(), night),
            )
        _held_here = True
        os.environ[HELD_VARIABLE] = str(os.getpid())
        try:
            yield
        finally:
            _held_here = False
            os.environ.pop(HELD_VARIABLE, None)
            with conn.cursor() as cur:
                cur.execute("delete from dq.run_lock")
                cur.execute("select pg_advisory_unlock(hashtext(%s))", (LOCK_KEY,))
    finally:
        conn.close()
