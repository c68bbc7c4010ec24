"""Connections to the warehouse."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote, unquote, urlparse

import psycopg2
import psycopg2.extensions

from csc_warehouse.config import application_name


class WarehouseUnreachable(psycopg2.OperationalError):
    """The warehouse could not be reached (its URL, without the password, in the message)."""


def redact(url: str) -> str:
    """The URL without its password (for messages and logs)."""
    u = urlparse(url)
    if u.password is None:
        return url
    netloc = u.netloc.replace(f":{u.password}@", ":***@", 1)
    return u._replace(netloc=netloc).geturl()


def check_reachable(url: str) -> None:
    """Connect once: a clear :class:`WarehouseUnreachable` instead of a traceback."""
    connect(url).close()


def connect(url: str, *, autocommit: bool = False) -> psycopg2.extensions.connection:
    try:
        conn = psycopg2.connect(url, application_name=application_name())
    except psycopg2.OperationalError as e:
        reason = (str(e).strip().splitlines() or ["no reason given"])[0]
        raise WarehouseUnreachable(
            f"cannot reach the warehouse at {redact(url)}: {reason} (check that it is "
            "running, and CSCW_WAREHOUSE_URL or CSCW_PG_PORT)") from None
    conn.autocommit = autocommit
    return conn


@contextmanager
def transaction(url: str) -> Iterator[psycopg2.extensions.cursor]:
    """One transaction: committed when the block ends, rolled back on any error."""
    conn = connect(url)
    try:
        with conn.cursor() as cur:
            yield cur
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    finally:
        conn.close()


def url_parts(url: str) -> dict[str, str]:
    """host, port, user, password, dbname of a libpq URL (for dbt profiles and GX)."""
    u = urlparse(url)
    if u.scheme not in ("postgresql", "postgres"):
        raise ValueError(f"not a PostgreSQL URL: {url!r}")
    return {
        "host": u.hostname or "127.0.0.1",
        "port": str(u.port or 5432),
        "user": unquote(u.username or "postgres"),
        "password": unquote(u.password or ""),
        "dbname": (u.path or "/postgres").lstrip("/") or "postgres",
    }


def sqlalchemy_url(url: str) -> str:
    p = url_parts(url)
    auth = quote(p["user"], safe="")
    if p["password"]:
        auth += ":" + quote(p["password"], safe="")
    return f"postgresql+psycopg2://{auth}@{p['host']}:{p['port']}/{p['dbname']}"
