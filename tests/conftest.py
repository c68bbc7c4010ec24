"""Shared fixtures: the session's server and the scenarios on it.

Integration tests run against ONE server per test session (``server``): the embedded default
(a fresh CSCW_HOME in a temp folder, on a free port) or, when CSCW_WAREHOUSE_URL is set, that
server. Every scenario has a database of its own on it, so no test reads another's
leftovers:

- ``db``: a fresh bootstrapped database per test (the loader tests);
- ``cscw``: a fresh warehouse per test module, with the real CLI bound to it (``cscw.run``
  runs ``cscw`` in a subprocess) and ``cscw.query`` to read it;
- ``built_warehouse``: one clean generated night through ``cscw run`` (session);
- ``nights``: the three write-audit-publish nights of tests/scenarios.py (session).

Tests that run the whole nightly DAG are marked ``dag`` (``pytest -m dag`` selects them,
``-m "not dag"`` leaves them out); every test on the server is marked ``integration``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import psycopg2
import pytest
from psycopg2.extensions import make_dsn, parse_dsn

from csc_warehouse.config import get_settings
from csc_warehouse.generate import generate_drop
from csc_warehouse.warehouse import warehouse_url
from csc_warehouse.warehouse.embedded import EmbeddedWarehouse
from csc_warehouse.warehouse.schemas import bootstrap
from scenarios import Nights, run_three_nights

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
        conn = psycopg2.connect(self.url)
        try:
            with conn.cursor() as cur:
                cur.execute(sql, params)
                return cur.fetchall() if cur.description else []
        finally:
            conn.close()


@pytest.fixture(scope="session")
def server() -> Iterator[CscwSession]:
    """The session's PostgreSQL server: the embedded default (a fresh CSCW_HOME in a temp
    folder, on a free port) or, when CSCW_WAREHOUSE_URL is set, that server. Tests do not
    use its database: each scenario gets a database of its own (``new_scenario``)."""
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
    settings = get_settings()
    url = warehouse_url(settings)
    session = CscwSession(home=home, env=env, url=url)
    try:
        yield session
    finally:
        if embedded:
            EmbeddedWarehouse(settings).stop()
        shutil.rmtree(home, ignore_errors=True)
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _create_database(server: CscwSession, prefix: str) -> tuple[str, Callable[[], None]]:
    """A new, empty database on the session's server: its URL (a libpq URL, as the CLI
    takes it), and what drops it."""
    params = parse_dsn(server.url)
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(make_dsn(**{**params, "dbname": "postgres"}))
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'create database "{name}"')

    def drop() -> None:
        with admin.cursor() as cur:
            cur.execute(f'drop database "{name}" with (force)')
        admin.close()

    return urlunparse(urlparse(server.url)._replace(path=f"/{name}")), drop


@contextmanager
def new_scenario(server: CscwSession, name: str) -> Iterator[CscwSession]:
    """A scenario: its own database on the session's server and its own CSCW_HOME (reports,
    archive, landing), with the CLI bound to them. Airflow's metadata and the dbt manifest
    are the session's (no scenario reads another's runs from them: run ids and reports are
    the scenario's)."""
    url, drop = _create_database(server, f"cscw_{re.sub(r'[^a-z0-9]+', '_', name.lower())}")
    home = Path(tempfile.mkdtemp(prefix=f"cscw-scenario-{name}-"))
    shared_airflow = server.home / "airflow"
    shared_airflow.mkdir(parents=True, exist_ok=True)
    (home / "airflow").symlink_to(shared_airflow, target_is_directory=True)
    env = {**server.env, "CSCW_HOME": str(home), "CSCW_WAREHOUSE_URL": url,
           "CSCW_DBT_TARGET_PATH": str(server.home / "dbt-target")}
    try:
        yield CscwSession(home=home, env=env, url=url)
    finally:
        drop()
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="module")
def cscw(server: CscwSession, request: pytest.FixtureRequest) -> Iterator[CscwSession]:
    """A scenario of the test module's own: a fresh warehouse database, and the CLI bound
    to it (``cscw.run``) and ``cscw.query`` to read it."""
    with new_scenario(server, request.module.__name__.removeprefix("test_")) as session:
        yield session


@pytest.fixture(scope="session")
def built_warehouse(server: CscwSession, tmp_path_factory: pytest.TempPathFactory
                    ) -> Iterator[dict]:
    """Scenario: one clean generated night, run through ``cscw run``, on its own database,
    for tests that only need a fully built warehouse (every model materialised). Its CLI
    session is ``built_warehouse["cscw"]``."""
    night = dt.date(2026, 11, 27)
    drop = tmp_path_factory.mktemp("landing") / night.isoformat()
    gen = generate_drop(drop, children=150, years=4, as_of=night, seed=11)
    with new_scenario(server, "built") as session:
        proc = session.run("run", "--drop", str(drop))
        yield {"drop": drop, "gen": gen, "proc": proc, "night": night, "cscw": session}


@pytest.fixture(scope="session")
def nights(server: CscwSession, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nights]:
    """Scenario: the three write-audit-publish nights (tests/scenarios.py), run once per
    session on their own database."""
    with new_scenario(server, "wap") as session:
        yield run_three_nights(session, tmp_path_factory.mktemp("quality_drops"))


@pytest.fixture
def db(server: CscwSession, tmp_path: Path):
    """A fresh, bootstrapped database on the session's server (dropped afterwards), and
    Settings whose CSCW_HOME is tmp_path/home: for loader tests that must start empty."""
    url, drop = _create_database(server, "cscw_test")
    settings = dataclasses.replace(get_settings(), home=tmp_path / "home")
    bootstrap(url, settings)
    yield url, settings
    drop()


def q(url: str, sql: str, params: tuple | None = None) -> list[tuple]:
    """Run one statement on ``url``; rows when it returns any."""
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


#: the fixtures that run the whole nightly DAG
_DAG_SCENARIOS = {"cscw", "built_warehouse", "nights"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that use the warehouse are integration tests (CI runs them twice: on the
    embedded default and on the machine's PostgreSQL); those on a scenario that runs the
    nightly DAG are ``dag`` tests too."""
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if "server" in fixtures:
            item.add_marker(pytest.mark.integration)
        if fixtures & _DAG_SCENARIOS:
            item.add_marker(pytest.mark.dag)
