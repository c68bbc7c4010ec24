"""The embedded warehouse: starts, is reused, recovers from a killed server, stops."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time

import psycopg2
import pytest

from csc_warehouse.config import Settings
from csc_warehouse.warehouse.embedded import EmbeddedWarehouse


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def embedded(tmp_path):
    settings = Settings(home=tmp_path / "home", warehouse_url=None, pg_port=_free_port(),
                        reject_threshold=0.01)
    wh = EmbeddedWarehouse(settings)
    yield wh
    wh.stop()


def _select_one(url: str) -> int:
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("select 1")
            return cur.fetchone()[0]
    finally:
        conn.close()


def test_start_listens_on_tcp_and_socket_then_stops(embedded):
    url = embedded.start()
    assert url.startswith(f"postgresql://postgres@127.0.0.1:{embedded.port}/")
    assert _select_one(url) == 1
    # the Unix socket too
    conn = psycopg2.connect(host=str(embedded.socket_dir), port=embedded.port, user="postgres",
                            dbname="warehouse")
    conn.close()
    st = embedded.status()
    assert st.running and st.pid and st.port == embedded.port
    assert embedded.stop() is True
    assert not embedded.status().running
    assert embedded.stop() is False  # stopping a stopped server is fine


def test_second_start_reuses_the_running_server(embedded):
    embedded.start()
    pid = embedded.status().pid
    t = time.monotonic()
    embedded.start()
    assert embedded.status().pid == pid
    assert time.monotonic() - t < 2


def test_concurrent_starts_are_safe(embedded):
    urls, errors = [], []

    def go():
        try:
            urls.append(embedded.start())
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=go) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(set(urls)) == 1
    assert _select_one(urls[0]) == 1


def test_recovers_from_a_killed_server_and_its_stale_pid_file(embedded):
    url = embedded.start()
    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("create table kept (v int); insert into kept values (42)")
    conn.close()
    pid = embedded.status().pid
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while embedded._pid_is_our_postgres(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    # the pid file still names the dead postmaster
    assert (embedded.pgdata / "postmaster.pid").exists()
    assert "stale" in embedded.status().detail
    url = embedded.start()
    conn = psycopg2.connect(url)
    with conn.cursor() as cur:
        cur.execute("select v from kept")
        assert cur.fetchone() == (42,)  # nothing already written was lost
    conn.close()
