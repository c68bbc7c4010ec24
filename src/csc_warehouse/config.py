"""Configuration: the one module that reads the environment.

CSCW_HOME            state folder (embedded data dir, Airflow home, logs, landing, archive,
                     secrets, reports). Default ./.cscw (git-ignored).
CSCW_WAREHOUSE_URL   libpq URL of an existing PostgreSQL to use instead of the embedded one.
CSCW_PG_PORT         TCP port of the embedded warehouse on 127.0.0.1 (default 54329).
CSCW_PSEUDONYM_KEY   secret for child_key (HMAC); for the embedded default one is generated
                     and kept under CSCW_HOME/secrets.
CSCW_BI_PASSWORD, CSCW_CASEWORK_PASSWORD   passwords of the roles BI tools and caseworkers
                     log in with (no login is granted when unset).
CSCW_DBT_TARGET_PATH dbt's target folder (default CSCW_HOME/dbt-target; the Docker image
                     builds its manifest into dbt_project/target).
CSCW_REJECT_THRESHOLD  share of a table's rows that may be quarantined before the whole
                     file is rejected (default 0.01).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_PG_PORT = 54329
DEFAULT_REJECT_THRESHOLD = 0.01
#: Project root (the checkout): dbt_project/, expectations/ and dags/ live here.
PROJECT_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Settings:
    home: Path
    warehouse_url: str | None  # None = embedded default
    pg_port: int
    reject_threshold: float
    project_root: Path = PROJECT_ROOT

    # --- folders under CSCW_HOME -------------------------------------------------------
    @property
    def pgdata(self) -> Path:
        return self.home / "pgdata"

    @property
    def airflow_home(self) -> Path:
        return self.home / "airflow"

    @property
    def landing(self) -> Path:
        return self.home / "landing"

    @property
    def archive(self) -> Path:
        return self.home / "archive"

    @property
    def logs(self) -> Path:
        return self.home / "logs"

    @property
    def secrets(self) -> Path:
        return self.home / "secrets"

    @property
    def reports(self) -> Path:
        return self.home / "reports"

    @property
    def gx_docs(self) -> Path:
        return self.reports / "data-docs"

    @property
    def dbt_target(self) -> Path:
        """dbt's target folder (manifest.json for Cosmos): CSCW_DBT_TARGET_PATH, else under
        CSCW_HOME so that two state folders never share compiled files."""
        override = os.environ.get("CSCW_DBT_TARGET_PATH")
        return Path(override) if override else self.home / "dbt-target"

    # --- project folders -----------------------------------------------------------------
    @property
    def dbt_project_dir(self) -> Path:
        return self.project_root / "dbt_project"

    @property
    def expectations_dir(self) -> Path:
        return self.project_root / "expectations"

    @property
    def dags_dir(self) -> Path:
        return self.project_root / "dags"

    @property
    def embedded(self) -> bool:
        return self.warehouse_url is None

    def ensure_dirs(self) -> None:
        for d in (self.home, self.landing, self.archive, self.logs, self.secrets, self.reports):
            d.mkdir(parents=True, exist_ok=True)
        self.secrets.chmod(0o700)


def get_settings() -> Settings:
    """Read the environment now (not cached: tests change it)."""
    home = Path(os.environ.get("CSCW_HOME", ".cscw")).expanduser().resolve()
    url = os.environ.get("CSCW_WAREHOUSE_URL") or None
    port = int(os.environ.get("CSCW_PG_PORT", DEFAULT_PG_PORT))
    threshold = float(os.environ.get("CSCW_REJECT_THRESHOLD", DEFAULT_REJECT_THRESHOLD))
    return Settings(home=home, warehouse_url=url, pg_port=port, reject_threshold=threshold)
