"""The nightly DAG: find the drop -> check it against the contract -> load raw -> dbt build
(astronomer-cosmos, from the pre-built manifest: one task per dbt node by default) -> GX
validation -> publish (atomic swap; the only task that emits Assets) -> summary.

``dags/cscw_nightly.py`` is a thin file that calls :func:`build_nightly_dag`. Nothing heavy
runs at import: the task bodies import the pipeline lazily, and Cosmos reads manifest.json
(written by ``cscw dbt-parse`` / ``cscw run``) instead of running dbt.
"""

from __future__ import annotations

import datetime as dt
import os

import pendulum
from airflow.sdk import DAG, Asset, Param, get_current_context, task
from airflow.timetables.trigger import CronTriggerTimetable

from csc_warehouse.config import get_settings

DAG_ID = "cscw_nightly"
#: the tasks every successful night runs (besides dbt's)
PIPELINE_TASKS = ("find_drop", "check_drop", "load_raw", "record_history", "validate",
                  "publish", "report", "summary")
TIMEZONE = "Europe/London"
#: what BI reads; emitted only by the publish task
MARTS_ASSET = Asset("cscw://warehouse/marts", extra={"schema": "marts"})


def _night(logical_date) -> dt.date:
    """The night a run is for: its logical date in London (or today, for a manual run
    without one)."""
    if logical_date is None:
        return pendulum.now(TIMEZONE).date()
    return pendulum.instance(logical_date).in_timezone(TIMEZONE).date()


def _dbt_vars() -> dict[str, str]:
    return {
        "as_of": "{{ ti.xcom_pull(task_ids='load_raw')['as_of'] }}",
        "batch_id": "{{ ti.xcom_pull(task_ids='load_raw')['batch_id'] }}",
    }


def _dbt_build():
    """The dbt step, rendered by astronomer-cosmos from the pre-built manifest.

    CSCW_DBT_TASKS=per-node (default): a DbtTaskGroup, one Airflow task per model/seed
    (``dbt build`` of that node and its tests), so a scheduler shows, retries and runs each
    model separately. CSCW_DBT_TASKS=single: one Cosmos DbtBuildLocalOperator running the
    whole project in one dbt invocation (the fast path for tests and small machines; same
    models, same tests, same order).
    """
    from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
    from cosmos.constants import ExecutionMode, InvocationMode, LoadMode, TestBehavior

    from csc_warehouse.dbt_runner import (
        PROFILE_NAME,
        TARGET_NAME,
        build_target_path,
        dbt_env,
        manifest_path,
    )
    from csc_warehouse.warehouse import warehouse_url

    settings = get_settings()
    # dbt's profile reads the warehouse from the environment; set it for the task process
    # (no secret goes into a rendered template field). The nightly's dbt never writes into
    # the folder holding the manifest the DAG is rendered from: concurrent per-node tasks
    # would rewrite manifest.json under the readers' feet.
    env = dbt_env(warehouse_url(settings, start=False), settings)
    if settings.dbt_tasks == "single":
        env["DBT_TARGET_PATH"] = str(build_target_path(settings))
    else:
        env.pop("DBT_TARGET_PATH")
        os.environ.pop("DBT_TARGET_PATH", None)
    os.environ.update(env)
    profile_config = ProfileConfig(
        profile_name=PROFILE_NAME,
        target_name=TARGET_NAME,
        profiles_yml_filepath=settings.dbt_project_dir / "profiles.yml",
    )
    if settings.dbt_tasks == "single":
        from cosmos.operators.local import DbtBuildLocalOperator

        return DbtBuildLocalOperator(
            task_id="dbt_build",
            project_dir=str(settings.dbt_project_dir),
            profile_config=profile_config,
            invocation_mode=InvocationMode.DBT_RUNNER,
            install_deps=False,
            exclude=["resource_type:unit_test"],
            vars=_dbt_vars(),
        )
    return DbtTaskGroup(
        group_id="dbt_build",
        project_config=ProjectConfig(
            dbt_project_path=settings.dbt_project_dir,
            manifest_path=manifest_path(settings),
            install_dbt_deps=False,
        ),
        profile_config=profile_config,
        execution_config=ExecutionConfig(
            execution_mode=ExecutionMode.LOCAL,
            invocation_mode=InvocationMode.DBT_RUNNER,
        ),
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST,
            test_behavior=TestBehavior.BUILD,
            # unit tests are CI's job (uv run pytest runs them); nightly runs data tests
            exclude=["resource_type:unit_test"],
            emit_datasets=False,
            enable_mock_profile=False,
            # a test with two parents (relationships) runs after both are built
            should_detach_multiple_parents_tests=True,
        ),
        operator_args={"install_deps": False, "vars": _dbt_vars()},
        default_args={"retries": 0},
    )


def _reported(fn):
    """Record a task's failure reason (for ``cscw run`` and operators), then re-raise."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            from csc_warehouse import pipeline

            ctx = get_current_context()
            pipeline.record_task_error(ctx["run_id"], ctx["ti"].task_id, exc)
            raise

    return wrapper


def build_nightly_dag() -> DAG:
    with DAG(
        dag_id=DAG_ID,
        description="Nightly load, build, validate and publish of the CSC warehouse",
        schedule=CronTriggerTimetable("0 2 * * *", timezone=TIMEZONE),
        # early enough for any night a drop can describe (a backfill or an old 903 return);
        # catchup is off, so the scheduler never runs the past by itself
        start_date=pendulum.datetime(2000, 1, 1, tz=TIMEZONE),
        catchup=False,
        max_active_runs=1,
        tags=["csc-warehouse"],
        params={
            "drop": Param(None, type=["null", "string"],
                          description="Drop folder; default: landing/<logical date>"),
            "as_of": Param(None, type=["null", "string"],
                           description="Date the marts describe (YYYY-MM-DD); default: the "
                           "drop's date"),
            "format": Param("auto", enum=["auto", "ssd", "903"],
                            description="Input format; auto detects it from the file names"),
        },
        default_args={"retries": 0},
    ) as dag:

        @task
        @_reported
        def find_drop() -> dict:
            from csc_warehouse import pipeline

            ctx = get_current_context()
            return pipeline.find_drop(_night(ctx.get("logical_date")), ctx["params"].get("drop"))

        @task
        @_reported
        def check_drop(found: dict) -> dict:
            from csc_warehouse import pipeline

            params = get_current_context()["params"]
            return pipeline.check_drop(found["drop"], params.get("format"))

        @task
        @_reported
        def load_raw(found: dict, checked: dict) -> dict:
            from csc_warehouse import pipeline

            params = get_current_context()["params"]
            return pipeline.load_raw(found["drop"], checked["format"], params.get("as_of"))

        @task
        @_reported
        def record_history(load: dict) -> dict:
            from csc_warehouse import pipeline

            return pipeline.record_history(load)

        @task
        @_reported
        def validate(load: dict) -> dict:
            from csc_warehouse import pipeline

            run_id = get_current_context()["run_id"]
            return pipeline.validate(run_id, load["as_of"], load["batch_id"])

        @task(outlets=[MARTS_ASSET])
        @_reported
        def publish(load: dict, validation: dict) -> dict:
            from csc_warehouse import pipeline

            run_id = get_current_context()["run_id"]
            return pipeline.publish(run_id, load["as_of"], load["batch_id"])

        @task
        @_reported
        def report(load: dict, published: dict) -> dict:
            """The improvement report: only a published night gets one."""
            from csc_warehouse import pipeline

            return pipeline.report(load["as_of"])

        @task
        @_reported
        def summary(load: dict, validation: dict, published: dict, history: dict) -> dict:
            from csc_warehouse import pipeline

            run_id = get_current_context()["run_id"]
            return pipeline.summarise(run_id, load, validation, published, history)

        found = find_drop()
        checked = check_drop(found)
        loaded = load_raw(found, checked)
        # history runs beside dbt: the marts do not read it
        history = record_history(loaded)
        dbt_build = _dbt_build()
        validated = validate(loaded)
        published = publish(loaded, validated)
        summary(loaded, validated, published, history)
        report(loaded, published)
        loaded >> dbt_build >> validated

    return dag
