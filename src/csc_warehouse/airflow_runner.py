"""Run the real nightly DAG in-process with ``dag.test()`` (what ``cscw run`` does).

Airflow's home is ``CSCW_HOME/airflow`` with SQLite metadata; the environment is set before
Airflow is imported (so Airflow is imported inside the functions here, after
:func:`configure`). The warehouse connection the DAG's dbt tasks
use is written into that metadata (:func:`ensure_connection`). The DAG run is the same one
a scheduler would run.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field

from csc_warehouse.config import (
    DAG_ID,
    PIPELINE_TASKS,
    TELEMETRY_OPT_OUT,
    WAREHOUSE_CONN_ID,
    Settings,
)
from csc_warehouse.pipeline import read_task_errors
from csc_warehouse.warehouse.db import url_parts


@dataclass
class DagRunResult:
    run_id: str
    state: str
    task_states: dict[str, str]
    failed_tasks: list[str] = field(default_factory=list)
    xcoms: dict[str, object] = field(default_factory=dict)
    error: str | None = None

    @property
    def success(self) -> bool:
        """The run succeeded AND every pipeline task ran and succeeded (a run whose tasks
        never started is not a success)."""
        return self.state == "success" and all(
            self.task_states.get(t) == "success" for t in PIPELINE_TASKS
        )

    @property
    def not_run(self) -> list[str]:
        return [t for t in PIPELINE_TASKS if self.task_states.get(t) in (None, "None")]


def airflow_env(settings: Settings) -> dict[str, str]:
    home = settings.airflow_home
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(settings.dags_dir),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(settings.logs / "airflow"),
        "AIRFLOW__LOGGING__LOGGING_LEVEL": settings.airflow_log_level,
        "AIRFLOW__COSMOS__CACHE_DIR": str(home / "cosmos-cache"),
        "AIRFLOW__COSMOS__ENABLE_CACHE": "True",
        "AIRFLOW__COSMOS__PROPAGATE_LOGS": "False",
        **TELEMETRY_OPT_OUT,
    }


def configure(settings: Settings) -> None:
    """Point Airflow at CSCW_HOME (must run before ``import airflow``)."""
    settings.airflow_home.mkdir(parents=True, exist_ok=True)
    env = airflow_env(settings)
    if "airflow" in sys.modules and os.environ.get("AIRFLOW_HOME") != env["AIRFLOW_HOME"]:
        raise RuntimeError("Airflow was imported before csc_warehouse configured it")
    os.environ.update(env)


def ensure_metadata_db(settings: Settings) -> None:
    """Create/migrate the SQLite metadata DB once (a marker records the Airflow version)."""
    import airflow

    marker = settings.airflow_home / f".migrated-{airflow.__version__}"
    if marker.exists():
        return
    env = dict(os.environ)
    r = subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        env=env, capture_output=True, text=True, timeout=600,
    )
    if r.returncode != 0:
        raise RuntimeError(f"airflow db migrate failed:\n{r.stdout[-2000:]}\n{r.stderr[-4000:]}")
    marker.write_text("ok\n")


def ensure_connection(url: str) -> None:
    """Create or update the Airflow connection ``cscw_warehouse`` (what the DAG's dbt tasks
    reach the warehouse through) in the local metadata DB, from the warehouse URL in use."""
    from airflow.models.connection import Connection
    from airflow.utils.session import create_session

    p = url_parts(url)
    fields = {"conn_type": "postgres", "host": p["host"], "port": int(p["port"]),
              "login": p["user"], "password": p["password"], "schema": p["dbname"]}
    with create_session() as session:
        conn = session.query(Connection).filter(
            Connection.conn_id == WAREHOUSE_CONN_ID).one_or_none()
        if conn is None:
            session.add(Connection(conn_id=WAREHOUSE_CONN_ID, **fields))
            return
        for k, v in fields.items():
            setattr(conn, k, v)


def load_dag(settings: Settings):
    """Parse the dags folder as the scheduler's DAG processor would, and write the
    serialized DAG to the metadata DB (dag.test() needs it there)."""
    from airflow.utils.cli import get_bagged_dag

    return get_bagged_dag(None, DAG_ID)


def run_nightly(settings: Settings, *, drop: str | None, night: dt.date,
                as_of: str | None = None, fmt: str = "auto",
                republish: bool = False) -> DagRunResult:
    """Run the nightly DAG once for ``night`` with dag.test(); returns its outcome."""
    configure(settings)
    ensure_metadata_db(settings)
    import pendulum

    dag = load_dag(settings)
    logical = pendulum.datetime(night.year, night.month, night.day, 2, tz="Europe/London")
    dr = dag.test(
        logical_date=logical,
        run_conf={"drop": drop, "as_of": as_of, "format": fmt, "republish": republish},
    )
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    states: dict[str, str] = {}
    xcoms: dict[str, object] = {}
    with create_session() as session:
        tis = session.query(TaskInstance).filter(
            TaskInstance.dag_id == dag.dag_id, TaskInstance.run_id == dr.run_id
        ).all()
        for ti in tis:
            states[ti.task_id] = str(ti.state)
        from airflow.models.xcom import XComModel

        for x in session.query(XComModel).filter(
            XComModel.dag_id == dag.dag_id, XComModel.run_id == dr.run_id,
            XComModel.key == "return_value",
        ):
            value = x.value
            if isinstance(value, str | bytes):
                with contextlib.suppress(ValueError):
                    value = json.loads(value)
            xcoms[x.task_id] = value
    failed = sorted(t for t, s in states.items() if s in ("failed", "upstream_failed"))
    errors = read_task_errors(dr.run_id, settings)
    return DagRunResult(
        run_id=dr.run_id, state=str(dr.state), task_states=states, failed_tasks=failed,
        xcoms=xcoms, error="\n".join(errors) or None,
    )
