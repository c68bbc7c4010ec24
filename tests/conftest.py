"""Shared fixtures.

Integration tests run against ONE warehouse per test session: the embedded default (a fresh
CSCW_HOME in a temp folder, on a free port) or, when CSCW_WAREHOUSE_URL is set, that server.
Tests that need it take the ``cscw`` fixture, which runs the real CLI in a subprocess with
the session's environment, and ``query`` to read the warehouse.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class CscwSession:
    home: Path
    env: dict[str, str]
    url: str

    def run(
        self, *args: str, check: bool = True, timeout: float = 900
    ) -> subprocess.CompletedProcess:
        """Run ``cscw <args>`` as a user would; stdout+stderr captured as text."""
        proc = subprocess.run(
            [sys.executable, "-m", "csc_warehouse.cli", *args],
            env=self.env, capture_output=True, text=True, timeout=timeout, cwd=REPO,
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"cscw {' '.join(args)} exited {proc.returncode}\n--- stdout\n{proc.stdout}"
                f"\n--- stderr\n{proc.stderr}"
            )
        return proc

    def query(self, sql: str, params: tuple | None = None) -> list[tuple]:
        import psycopg2

        conn = psycopg2.connect(self.url)
        try:
            with conn.cursor() as cur:
                cur.execute(sql, params)
                return cur.fetchall() if cur.description else []
        finally:
            conn.close()


@pytest.fixture(scope="session")
def cscw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CscwSession]:
    """A warehouse for the session, and the CLI bound to it."""
    # not under pytest's basetemp: pytest deletes older basetemps when another session
    # starts, which would pull the data directory from under a running server
    home = Path(tempfile.mkdtemp(prefix="cscw-test-home-"))
    env = dict(os.environ)
    env["CSCW_HOME"] = str(home)
    env.setdefault("CSCW_PSEUDONYM_KEY", "test-only-pseudonym-key")
    # one Cosmos task for the whole dbt build: the same models and tests as the per-node
    # rendering (tests/test_dag.py checks that one), without Airflow's per-task overhead
    env.setdefault("CSCW_DBT_TASKS", "single")
    embedded = not env.get("CSCW_WAREHOUSE_URL")
    if embedded:
        env["CSCW_PG_PORT"] = str(_free_port())
    old = {k: os.environ.get(k) for k in ("CSCW_HOME", "CSCW_PG_PORT", "CSCW_PSEUDONYM_KEY",
                                          "CSCW_DBT_TASKS")}
    os.environ.update({k: env[k] for k in old if k in env})
    from csc_warehouse.config import get_settings
    from csc_warehouse.warehouse import warehouse_url

    settings = get_settings()
    url = warehouse_url(settings)
    session = CscwSession(home=home, env=env, url=url)
    try:
        yield session
    finally:
        if embedded:
            from csc_warehouse.warehouse.embedded import EmbeddedWarehouse

            EmbeddedWarehouse(settings).stop()
        shutil.rmtree(home, ignore_errors=True)
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture(scope="session")
def built_warehouse(cscw: CscwSession, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One clean generated night, run through ``cscw run``, shared by tests that only need
    a fully built warehouse (every model materialised)."""
    import datetime as dt

    from csc_warehouse.generate import generate_drop

    night = dt.date(2026, 11, 27)
    drop = tmp_path_factory.mktemp("landing") / night.isoformat()
    gen = generate_drop(drop, children=150, years=4, as_of=night, seed=11)
    proc = cscw.run("run", "--drop", str(drop))
    return {"drop": drop, "gen": gen, "proc": proc, "night": night}


@pytest.fixture
def db(cscw: CscwSession, tmp_path: Path):
    """A fresh, bootstrapped database on the session's server (dropped afterwards), and
    Settings whose CSCW_HOME is tmp_path/home: for loader tests that must start empty."""
    import dataclasses
    import uuid

    import psycopg2
    from psycopg2.extensions import make_dsn, parse_dsn

    from csc_warehouse.config import get_settings
    from csc_warehouse.warehouse.schemas import bootstrap

    params = parse_dsn(cscw.url)
    name = f"cscw_test_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(make_dsn(**{**params, "dbname": "postgres"}))
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'create database "{name}"')
    url = make_dsn(**{**params, "dbname": name})
    settings = dataclasses.replace(get_settings(), home=tmp_path / "home")
    bootstrap(url, settings)
    yield url, settings
    with admin.cursor() as cur:
        cur.execute(f'drop database "{name}" with (force)')
    admin.close()


def q(url: str, sql: str, params: tuple | None = None) -> list[tuple]:
    """Run one statement on ``url``; rows when it returns any."""
    import psycopg2

    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall() if cur.description else []
    finally:
        conn.close()


@pytest.fixture
def query(cscw: CscwSession) -> Callable[..., list[tuple]]:
    return cscw.query


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that use the warehouse are integration tests (CI runs them twice: on the
    embedded default and on the machine's PostgreSQL)."""
    for item in items:
        if "cscw" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.integration)
