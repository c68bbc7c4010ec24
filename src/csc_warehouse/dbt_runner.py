"""The one place that runs dbt: profile environment, manifest, programmatic invocation.

The nightly DAG runs the models through astronomer-cosmos (one Airflow task per node, from
the pre-built manifest); the CLI and tests call :func:`invoke` directly for parse and unit
tests. Both use the same profiles.yml and the same environment from :func:`dbt_env`.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from csc_warehouse.config import Settings
from csc_warehouse.warehouse.db import url_parts

PROFILE_NAME = "csc_warehouse"
TARGET_NAME = "warehouse"


class DbtError(RuntimeError):
    pass


def dbt_env(url: str, settings: Settings) -> dict[str, str]:
    """Environment for profiles.yml (the password in a DBT_ENV_SECRET_ variable)."""
    p = url_parts(url)
    return {
        "CSCW_DBT_HOST": p["host"],
        "CSCW_DBT_PORT": p["port"],
        "CSCW_DBT_USER": p["user"],
        "DBT_ENV_SECRET_CSCW_PASSWORD": p["password"],
        "CSCW_DBT_DBNAME": p["dbname"],
        "DBT_PROFILES_DIR": str(settings.dbt_project_dir),
        "DBT_TARGET_PATH": str(settings.dbt_target),
        **dbt_task_env(settings),
    }


def dbt_task_env(settings: Settings) -> dict[str, str]:
    """The environment (no secret) every dbt invocation gets, the DAG's Cosmos tasks
    included (they reach the warehouse through the Airflow connection instead)."""
    return {
        "DBT_LOG_PATH": str(settings.logs / "dbt"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }


#: what profiles.yml holds besides the connection (the Cosmos profile mapping adds these)
PROFILE_ARGS = {"schema": "analytics", "threads": 4, "connect_timeout": 10}


@contextmanager
def _environ(env: dict[str, str]) -> Iterator[None]:
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def manifest_path(settings: Settings) -> Path:
    """The manifest Cosmos renders the DAG from. Only `dbt parse` (ensure_manifest) writes
    here: the nightly's dbt tasks never use this folder as their target."""
    return settings.dbt_target / "manifest.json"


def build_target_path(settings: Settings) -> Path:
    """Target folder of the single-task nightly build (CSCW_DBT_TASKS=single); per-node tasks
    write into Cosmos's own per-task copy of the project instead."""
    return settings.dbt_target / "build"


def _project_fingerprint(settings: Settings) -> str:
    h = hashlib.sha256()
    root = settings.dbt_project_dir
    for p in sorted(root.rglob("*")):
        if p.is_file() and not {"target", "logs", "dbt_packages"} & set(p.relative_to(root).parts):
            h.update(str(p.relative_to(root)).encode())
            h.update(p.read_bytes())
    return h.hexdigest()


@dataclass
class DbtResult:
    success: bool
    nodes: list[dict]  # {"unique_id", "status", "message"}

    def failures(self) -> list[dict]:
        return [n for n in self.nodes if n["status"] in ("error", "fail", "runtime error")]


def invoke(args: list[str], url: str, settings: Settings) -> DbtResult:
    """Run one dbt command in-process (dbtRunner) against the warehouse."""
    from dbt.cli.main import dbtRunner  # dbt-core: seconds to import; only when dbt runs

    env = dbt_env(url, settings)
    (settings.logs / "dbt").mkdir(parents=True, exist_ok=True)
    full = [*args, "--project-dir", str(settings.dbt_project_dir),
            "--profiles-dir", str(settings.dbt_project_dir)]
    with _environ(env):
        res = dbtRunner().invoke(full)
    nodes = []
    if res.result is not None and hasattr(res.result, "results"):
        for r in res.result.results:
            nodes.append(
                {"unique_id": r.node.unique_id, "status": str(r.status), "message": r.message}
            )
    if res.exception is not None:
        raise DbtError(f"dbt {' '.join(args)} failed: {res.exception}")
    return DbtResult(success=bool(res.success), nodes=nodes)


def ensure_manifest(url: str, settings: Settings) -> Path:
    """Parse the dbt project when its files changed since the last parse; return the path of
    manifest.json (what Cosmos renders the DAG from)."""
    path = manifest_path(settings)
    stamp = settings.dbt_target / "cscw_fingerprint.json"
    fp = _project_fingerprint(settings)
    if path.exists() and stamp.exists() and json.loads(stamp.read_text()).get("fp") == fp:
        return path
    res = invoke(["--quiet", "parse"], url, settings)
    if not res.success or not path.exists():
        raise DbtError(f"dbt parse failed; see {settings.logs / 'dbt' / 'dbt.log'}")
    stamp.write_text(json.dumps({"fp": fp}))
    return path
