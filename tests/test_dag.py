"""The nightly DAG imports cleanly and has the shape the design asks for."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from conftest import REPO
from csc_warehouse.config import STEP_TIMEOUTS

pytestmark = pytest.mark.dag


def _dag_probe(code: str, env_extra: dict[str, str], tmp_path) -> str:
    env = dict(os.environ)
    env.pop("CSCW_DBT_TASKS", None)  # the production default rendering: one task per node
    env.update(env_extra)
    env["CSCW_HOME"] = str(tmp_path / "home")
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True,
        text=True, timeout=300, cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    return proc.stdout


def test_dagbag_imports_without_errors_and_has_the_pipeline_shape(tmp_path):
    out = _dag_probe(
        """
        import json
        from csc_warehouse.config import get_settings
        from csc_warehouse import airflow_runner, dbt_runner
        s = get_settings()
        airflow_runner.configure(s)
        # the manifest is what Cosmos renders from; parse needs no database
        dbt_runner.ensure_manifest("postgresql://nobody@127.0.0.1:1/none", s)
        from airflow.dag_processing.dagbag import DagBag
        bag = DagBag(dag_folder=str(s.dags_dir))
        dag = bag.dags["cscw_nightly"]
        tasks = {t.task_id: t for t in dag.tasks}
        print(json.dumps({
            "errors": {k: str(v) for k, v in bag.import_errors.items()},
            "dags": sorted(bag.dags),
            "schedule": str(dag.timetable.summary),
            "tz": str(dag.timetable._timezone),
            "catchup": dag.catchup,
            "find_down": sorted(tasks["find_drop"].downstream_task_ids),
            "load_down": sorted(tasks["load_raw"].downstream_task_ids),
            "validate_up": sorted(tasks["validate"].upstream_task_ids),
            "publish_up": sorted(tasks["publish"].upstream_task_ids),
            "history_up": sorted(tasks["record_history"].upstream_task_ids),
            "history_down": sorted(tasks["record_history"].downstream_task_ids),
            "dbt_tasks": sorted(t for t in tasks if t.startswith("dbt_build.")),
            "outlets": {t: [str(o.uri) for o in tasks[t].outlets] for t in tasks
                        if tasks[t].outlets},
        }))
        """,
        {},
        tmp_path,
    )
    import json

    info = json.loads(out.strip().splitlines()[-1])
    assert info["errors"] == {}
    assert info["dags"] == ["cscw_nightly"]
    assert info["schedule"] == "0 2 * * *"
    assert info["tz"] == "Europe/London"
    assert info["catchup"] is False
    assert info["find_down"] == ["check_drop", "load_raw"]
    # dbt runs after the load and before validation
    assert any(t.startswith("dbt_build.stg_ssd__") for t in info["load_down"])
    assert any(t.startswith("dbt_build.") for t in info["validate_up"])
    assert "load_raw" in info["validate_up"]
    assert set(info["publish_up"]) == {"load_raw", "validate"}
    # history (SCD2) runs beside dbt, after the load, and the summary waits for it
    assert info["history_up"] == ["load_raw"] and info["history_down"] == ["summary"]
    # every staging model is a task (rendered from the manifest)
    assert "dbt_build.stg_ssd__persons_model_build" in info["dbt_tasks"]
    assert "dbt_build.mart_caseload_summary_model_build" in info["dbt_tasks"]
    # only publish emits an Asset
    assert list(info["outlets"]) == ["publish"]


def test_dag_file_is_cheap_to_import(tmp_path):
    """No database, network or dbt run at import time: importing the DAG module must not
    start a warehouse (there is none on this port) and must stay quick."""
    out = _dag_probe(
        """
        import time, os
        from csc_warehouse.config import get_settings
        from csc_warehouse import airflow_runner, dbt_runner
        s = get_settings()
        airflow_runner.configure(s)
        dbt_runner.ensure_manifest("postgresql://nobody@127.0.0.1:1/none", s)
        import airflow.sdk  # the framework's own import cost is not ours
        t = time.monotonic()
        import runpy
        runpy.run_path(str(s.dags_dir / "cscw_nightly.py"))
        print(round(time.monotonic() - t, 2), (s.home / "pgdata").exists())
        """,
        {},
        tmp_path,
    )
    seconds, pgdata = out.strip().splitlines()[-1].split()
    assert pgdata == "False"  # nothing started a warehouse
    assert float(seconds) < 20


def test_parsing_changes_nothing_and_every_task_retries_and_reports(tmp_path):
    """Parsing the DAG file sets no environment variable (dbt reaches the warehouse through
    the ``cscw_warehouse`` connection, read when a task runs); every task, dbt's included,
    retries and records its failure."""
    out = _dag_probe(
        """
        import json, os
        from csc_warehouse.config import get_settings
        from csc_warehouse import airflow_runner, dbt_runner
        s = get_settings()
        airflow_runner.configure(s)
        dbt_runner.ensure_manifest("postgresql://nobody@127.0.0.1:1/none", s)
        before = dict(os.environ)
        from airflow.dag_processing.dagbag import DagBag
        bag = DagBag(dag_folder=str(s.dags_dir))
        after = dict(os.environ)
        dag = bag.dags["cscw_nightly"]
        dbt = next(t for t in dag.tasks if t.task_id.startswith("dbt_build."))
        print(json.dumps({
            "changed": sorted(k for k in set(before) | set(after)
                              if before.get(k) != after.get(k)),
            "retries": sorted({t.retries for t in dag.tasks}),
            "reported": all(t.on_failure_callback for t in dag.tasks),
            "dbt_conn": dbt.profile_config.profile_mapping.conn_id,
            "dbt_env_secret": any("PASSWORD" in k for k in (dbt.env or {})),
            "timeouts": sorted({(t.task_id.split(".")[0], t.execution_timeout.total_seconds()
                                 if t.execution_timeout else None) for t in dag.tasks}),
            "dbt_app": dbt.profile_config.profile_mapping.profile_args["application_name"],
        }))
        """,
        {"CSCW_TIMEOUT_VALIDATE": "1234"},
        tmp_path,
    )
    import json

    info = json.loads(out.strip().splitlines()[-1])
    assert info["changed"] == []
    assert info["retries"] == [2]
    assert info["reported"] is True
    assert info["dbt_conn"] == "cscw_warehouse"
    assert info["dbt_env_secret"] is False
    # every task has an execution_timeout: config's default, or CSCW_TIMEOUT_<TASK>
    assert dict(info["timeouts"]) == {**{t: float(v[0]) for t, v in STEP_TIMEOUTS.items()},
                                      "validate": 1234.0}, info["timeouts"]
    # dbt's connections carry the run's tag (PGAPPNAME), not dbt-postgres's "dbt"
    assert "PGAPPNAME" in info["dbt_app"]
