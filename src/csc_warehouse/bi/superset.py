"""Superset for the warehouse: its environment, secrets, setup, and the background server.

State under CSCW_HOME:
  superset/superset.db      Superset's metadata (SQLite; never the warehouse)
  superset/superset.pid     the gunicorn server's pid (its process group)
  secrets/superset_secret_key   Superset's SECRET_KEY (generated once)
  secrets/cscw_bi.password  the cscw_bi login, generated for the embedded warehouse when
                            CSCW_BI_PASSWORD is unset
  logs/superset.log         the setup's and the server's output
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from csc_warehouse.config import PROJECT_ROOT, Settings
from csc_warehouse.warehouse.roles import BI, PUBLISHED_SCHEMA

#: Superset's own uv project (pyproject.toml, uv.lock), its config and setup script
SUPERSET_PROJECT = PROJECT_ROOT / "bi" / "superset"
#: the dashboards as code (Superset's export format)
ASSETS = SUPERSET_PROJECT / "assets"
SETUP_SCRIPT = SUPERSET_PROJECT / "cscw_superset_setup.py"
CONFIG_FILE = SUPERSET_PROJECT / "superset_config.py"
ADMIN_USER = "admin"
#: variables of the caller's Python that must not leak into Superset's interpreter
FOREIGN_ENV = ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "UV_PROJECT_ENVIRONMENT")
START_TIMEOUT_S = 240

Step = Callable[[str], AbstractContextManager[object]]


class BiError(RuntimeError):
    """A `cscw bi` step failed; the message says which and what to do."""


@dataclass(frozen=True)
class SupersetStatus:
    running: bool
    url: str
    pid: int | None
    detail: str


@dataclass
class UpResult:
    url: str
    admin_user: str
    #: set only when the admin was created just now with a generated password
    generated_admin_password: str | None = field(repr=False)
    dashboards: list[dict]
    already_running: bool


@contextmanager
def _no_step(_name: str) -> Iterator[None]:
    yield


class Superset:
    """Superset serving the warehouse's marts on 127.0.0.1:CSCW_SUPERSET_PORT."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.home = settings.superset_home
        self.pid_file = self.home / "superset.pid"
        self.log_file = settings.logs / "superset.log"
        self.secret_key_file = settings.secrets / "superset_secret_key"
        self.bi_password_file = settings.secrets / f"{BI}.password"
        self.venv = SUPERSET_PROJECT / ".venv"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.settings.superset_port}"

    # --- environment ----------------------------------------------------------------------
    def sync_env(self) -> None:
        """`uv sync --frozen` of bi/superset (fast when already in place; never the project's
        own lock, never a Python download)."""
        uv = shutil.which("uv")
        if uv is None:
            raise BiError("uv is not on PATH: install it (https://docs.astral.sh/uv/)")
        env = self._clean_env()
        env["UV_PYTHON_DOWNLOADS"] = "never"
        result = subprocess.run(
            [uv, "sync", "--frozen", "--project", str(SUPERSET_PROJECT)],
            env=env, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise BiError("could not install Superset's environment (uv sync --frozen "
                          f"--project {SUPERSET_PROJECT}); it needs Python 3.11 on the "
                          f"machine:\n{_tail(result.stderr)}")

    def _clean_env(self) -> dict[str, str]:
        return {k: v for k, v in os.environ.items() if k not in FOREIGN_ENV}

    def _superset_env(self) -> dict[str, str]:
        env = self._clean_env()
        env.update({
            "SUPERSET_CONFIG_PATH": str(CONFIG_FILE),
            "SUPERSET_HOME": str(self.home),
            "CSCW_SUPERSET_METADATA_URI": f"sqlite:///{self.home / 'superset.db'}",
            "CSCW_SUPERSET_SECRET_KEY_FILE": str(self.secret_key_file),
            "PATH": f"{self.venv / 'bin'}{os.pathsep}{env.get('PATH', '')}",
        })
        return env

    # --- secrets ----------------------------------------------------------------------------
    def _secret_file(self, path: Path, nbytes: int) -> str:
        if not path.exists():
            self.settings.ensure_dirs()
            path.write_text(secrets.token_urlsafe(nbytes))
            path.chmod(0o600)
        return path.read_text().strip()

    def bi_password(self, warehouse_url: str) -> str:
        """CSCW_BI_PASSWORD; for the embedded warehouse without it, a password generated
        once under CSCW_HOME/secrets and set on the cscw_bi role now."""
        given = self.settings.role_passwords.get(BI)
        if given:
            return given
        if not self.settings.embedded:
            raise BiError("CSCW_BI_PASSWORD is not set: Superset logs in to the warehouse "
                          f"as {BI}; set the password the nightly publish gives that role")
        password = self._secret_file(self.bi_password_file, 24)
        from csc_warehouse.warehouse.db import transaction
        from csc_warehouse.warehouse.roles import ensure_roles

        previous = os.environ.get("CSCW_BI_PASSWORD")
        os.environ["CSCW_BI_PASSWORD"] = password
        try:
            # roles.py reads the password through config.get_settings()
            with transaction(warehouse_url) as cur:
                ensure_roles(cur)
        finally:
            if previous is None:
                os.environ.pop("CSCW_BI_PASSWORD", None)
            else:
                os.environ["CSCW_BI_PASSWORD"] = previous
        return password

    # --- the warehouse ------------------------------------------------------------------------
    @staticmethod
    def bi_uri(warehouse_url: str) -> str:
        """The warehouse's address for Superset, as cscw_bi (the password goes separately)."""
        from csc_warehouse.warehouse.db import url_parts

        p = url_parts(warehouse_url)
        return f"postgresql+psycopg2://{BI}@{p['host']}:{p['port']}/{p['dbname']}"

    @staticmethod
    def check_marts(warehouse_url: str, password: str) -> None:
        """cscw_bi can log in and the marts are published."""
        import psycopg2

        from csc_warehouse.warehouse.db import url_parts

        p = url_parts(warehouse_url)
        try:
            conn = psycopg2.connect(host=p["host"], port=p["port"], dbname=p["dbname"],
                                    user=BI, password=password, application_name="cscw-bi")
        except psycopg2.OperationalError as exc:
            raise BiError(f"{BI} cannot log in to the warehouse: {str(exc).strip()}") from exc
        try:
            with conn.cursor() as cur:
                cur.execute("select count(*) from pg_tables where schemaname = %s",
                            (PUBLISHED_SCHEMA,))
                (tables,) = cur.fetchone()
        finally:
            conn.close()
        if not tables:
            raise BiError("no published marts yet: run `cscw demo` (or `cscw run --drop DIR`) "
                          "first")

    # --- setup and import ----------------------------------------------------------------------
    def setup(self, warehouse_url: str, bi_password: str) -> tuple[dict, str | None]:
        """Migrate Superset's metadata, sync its roles, make the admin, import the assets.
        Returns the setup's report and the admin password generated (if it made the admin)."""
        self.home.mkdir(parents=True, exist_ok=True)
        self.settings.ensure_dirs()
        self._secret_file(self.secret_key_file, 42)
        env = self._superset_env()
        env.update({
            "CSCW_SUPERSET_ASSETS": str(ASSETS),
            "CSCW_SUPERSET_WAREHOUSE_URI": self.bi_uri(warehouse_url),
            "CSCW_BI_PASSWORD": bi_password,
            "CSCW_SUPERSET_ADMIN_USER": ADMIN_USER,
        })
        generated = None
        if self.settings.superset_admin_password:
            env["CSCW_SUPERSET_ADMIN_PASSWORD"] = self.settings.superset_admin_password
        else:
            env.pop("CSCW_SUPERSET_ADMIN_PASSWORD", None)
            generated = secrets.token_urlsafe(12)
            env["CSCW_SUPERSET_NEW_ADMIN_PASSWORD"] = generated
        with self.log_file.open("a") as log:
            log.write(f"\n=== cscw bi up: setup {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
            log.flush()
            result = subprocess.run(
                [str(self.venv / "bin" / "python"), str(SETUP_SCRIPT)], env=env,
                cwd=self.home, stdout=subprocess.PIPE, stderr=log, text=True, check=False)
        if result.returncode != 0:
            raise BiError(f"Superset's setup failed:\n{_tail(self.log_file.read_text(), 8)}\n"
                          f"(full output: {self.log_file})")
        report = json.loads(result.stdout.strip().splitlines()[-1])
        return report, (generated if report["admin_created"] else None)

    # --- the server ------------------------------------------------------------------------------
    def _pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return None
        return pid if b"gunicorn" in cmdline else None

    def _healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/health", timeout=5) as resp:
                return resp.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def status(self) -> SupersetStatus:
        pid = self._pid()
        if pid is None:
            return SupersetStatus(False, self.url, None, "not running")
        if self._healthy():
            return SupersetStatus(True, self.url, pid, "serving")
        return SupersetStatus(True, self.url, pid, "started, not answering yet")

    def start(self) -> bool:
        """Serve in the background (gunicorn); False when it was already running."""
        if self._pid() is not None:
            return False
        if _port_in_use(self.settings.superset_port):
            raise BiError(f"port {self.settings.superset_port} on 127.0.0.1 is taken by "
                          "another program: set CSCW_SUPERSET_PORT to a free port")
        with self.log_file.open("a") as log:
            log.write(f"\n=== cscw bi up: server {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
            log.flush()
            proc = subprocess.Popen(
                [str(self.venv / "bin" / "gunicorn"), "--workers", "1",
                 "--worker-class", "gthread", "--threads", "8", "--timeout", "120",
                 "--bind", f"127.0.0.1:{self.settings.superset_port}",
                 "superset.app:create_app()"],
                env=self._superset_env(), cwd=self.home, stdout=log, stderr=log,
                stdin=subprocess.DEVNULL, start_new_session=True)
        self.pid_file.write_text(str(proc.pid))
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                self.pid_file.unlink(missing_ok=True)
                raise BiError(f"Superset's server stopped at start:\n"
                              f"{_tail(self.log_file.read_text(), 8)}")
            if self._healthy():
                return True
            time.sleep(1)
        self.stop()
        raise BiError(f"Superset did not answer on {self.url} within {START_TIMEOUT_S}s "
                      f"(log: {self.log_file})")

    def stop(self) -> bool:
        """Stop the background server; False when it was not running."""
        pid = self._pid()
        self.pid_file.unlink(missing_ok=True)
        if pid is None:
            return False
        try:
            os.killpg(pid, signal.SIGTERM)
        except ProcessLookupError:
            return False
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if not Path(f"/proc/{pid}").exists() or _is_zombie(pid):
                return True
            time.sleep(0.5)
        os.killpg(pid, signal.SIGKILL)
        return True

    # --- all of it -----------------------------------------------------------------------------
    def up(self, step: Step = _no_step) -> UpResult:
        from csc_warehouse.warehouse import warehouse_url

        with step("install or reuse Superset's environment (bi/superset)"):
            self.sync_env()
        with step("the warehouse and the cscw_bi login"):
            url = warehouse_url(self.settings)
            password = self.bi_password(url)
            self.check_marts(url, password)
        with step("Superset's metadata, admin user and dashboards (bi/superset/assets)"):
            report, generated = self.setup(url, password)
        with step(f"serve Superset on {self.url}"):
            started = self.start()
        return UpResult(url=self.url, admin_user=ADMIN_USER,
                        generated_admin_password=generated,
                        dashboards=report["dashboards"], already_running=not started)


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"
    except OSError:
        return True


def _tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])
