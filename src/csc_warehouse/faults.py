"""Which failures are worth retrying.

Every task of the night is idempotent (a re-run re-uses the load batch, rebuilds
marts_audit, replaces the validation results and publishes the same marts), so a
*transient* failure of the warehouse (a dropped connection, a serialisation failure, a
deadlock, a lock timeout, the server restarting) is retried by Airflow with backoff. A
*rejection* (bad input, a critical check, the warehouse busy with another run, a full disk)
is never retried: retrying cannot change its outcome, and the operator must act.
"""

from __future__ import annotations

import errno

import psycopg2
import psycopg2.errors

from csc_warehouse.warehouse.db import WarehouseUnreachable

#: errors that may pass by themselves (their SQLSTATE)
TRANSIENT_ERRORS = tuple(psycopg2.errors.lookup(code) for code in (
    "40001",  # serialization_failure
    "40P01",  # deadlock_detected
    "55P03",  # lock_not_available (lock_timeout)
    "57P01",  # admin_shutdown
    "57P02",  # crash_shutdown
    "57P03",  # cannot_connect_now (the server starting up)
    "53300",  # too_many_connections
))
#: and every connection exception (SQLSTATE class 08)
CONNECTION_EXCEPTION_CLASS = "08"


class DiskFull(RuntimeError):
    """No space left where the night writes: the night is rejected, nothing half-written."""


def disk_full(folder: object, exc: OSError) -> DiskFull:
    return DiskFull(
        f"no space left on the device of {folder} ({exc.strerror}): the night was rejected "
        "and nothing of it was kept; free space there (or move CSCW_HOME) and run the "
        "night again")


def is_disk_full(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)


def is_transient(exc: BaseException) -> bool:
    """True when retrying the same task may succeed (see the module's docstring)."""
    if isinstance(exc, (WarehouseUnreachable, *TRANSIENT_ERRORS)):
        return True  # (unreachable: the server restarting, the network blipping)
    if isinstance(exc, psycopg2.Error):
        if exc.pgcode:
            return exc.pgcode.startswith(CONNECTION_EXCEPTION_CLASS)
        # no SQLSTATE from a server: the connection itself broke (reset, closed)
        return type(exc) in (psycopg2.OperationalError, psycopg2.InterfaceError)
    return False
