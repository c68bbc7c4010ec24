"""The nightly DAG: find the drop -> check it against the contract -> load raw -> dbt build
(astronomer-cosmos, from the pre-built manifest: one task per dbt node by default) -> GX
validation -> publish (atomic swap; the only task that emits Assets) -> summary.

``dags/cscw_nightly.py`` is a thin file that calls :func:`build_nightly_dag`. Parsing
changes nothing (no environment variable, no file): Cosmos reads manifest.json (written by
``cscw dbt-parse`` / ``cscw run``) instead of running dbt, and its dbt tasks reach the
warehouse through the Airflow connection ``cscw_warehouse`` (a Cosmos profile mapping), read
when a task runs. A pipeline task retries (``config.TASK_RETRIES``) only a transient
warehouse failure (``faults.is_transient``); a rejection (bad input, a critical validation
failure, another run, a full disk) fails at once (``AirflowFailException``). dbt's tasks
retry by the default_args.
A failed task's reason, dbt's included, is recorded for ``cscw run`` and operators by the
``on_failure_callback``.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import os

import pendulum
from airflow.sdk import DAG, Asset, Param, get_current_context, task
from airflow.sdk.exceptions import AirflowFailException
from airflow.timetables.trigger import CronTriggerTimetable
from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
from cosmos.constants import ExecutionMode, InvocationMode, LoadMode, TestBehavior
from cosmos.operators.local import DbtBuildLocalOperator
from cosmos.profiles import PostgresUserPasswordProfileMapping

from csc_warehouse import pipeline
from csc_warehouse.config import (
    DAG_ID,
    PRIVATE_UMASK,
    TASK_MAX_RETRY_DELAY,
    TASK_RETRIES,
    TASK_RETRY_DELAY,
    WAREHOUSE_CONN_ID,
    get_settings,
)
from csc_warehouse.dbt_runner import (
    PROFILE_ARGS,
    PROFILE_NAME,
    TARGET_NAME,
    build_target_path,
    dbt_task_env,
    manifest_path,
)
from csc_warehouse.faults import is_transient
from csc_warehouse.warehouse.cancel import RunInterrupted, StatementTimeout

log = logging.getLogger(__name__)
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


def _timeout(task_id: str) -> dt.timedelta:
    """The task's execution_timeout (CSCW_TIMEOUT_<TASK>, config.STEP_TIMEOUTS)."""
    return dt.timedelta(seconds=get_settings().task_timeouts[task_id])


#: dbt's connections carry the run's tag (warehouse/cancel.py) instead of dbt-postgres's
#: own "dbt", so that a stop cancels them too; libpq also reads PGAPPNAME, but
#: dbt-postgres passes an application_name of its own
DBT_PROFILE_ARGS = {**PROFILE_ARGS,
                    "application_name": "{{ env_var('PGAPPNAME', 'csc-warehouse dbt') }}"}


def _stop_interrupted(context, exc: RunInterrupted) -> AirflowFailException:
    """A task told to stop: record the night as interrupted; fail at once (no retry)."""
    try:
        pipeline.record_interrupted(context["run_id"], _night(context.get("logical_date")),
                                    exc)
    except Exception as record_exc:  # noqa: BLE001 - the stop must go on
        log.warning("could not record the interruption: %s", record_exc)
    return AirflowFailException(str(exc))


def _run_stoppable(context, step: str, body):
    """``body()`` in ``pipeline.stoppable``: on SIGINT/SIGTERM its statements are cancelled
    and the task fails at once; so does a statement that ran past its step's statement
    timeout (the same statement would again), with a message naming the step and setting."""
    try:
        with pipeline.stoppable(step):
            return body()
    except RunInterrupted as exc:
        raise _stop_interrupted(context, exc) from exc
    except StatementTimeout as exc:
        raise AirflowFailException(str(exc)) from exc


def _stoppable(fn):
    """A pipeline task's body, stoppable (:func:`_run_stoppable`)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        context = get_current_context()
        return _run_stoppable(context, context["ti"].task_id, lambda: fn(*args, **kwargs))

    return wrapper


class StoppableDbtBuild(DbtBuildLocalOperator):
    """The single-task dbt build, stoppable as every pipeline task is."""

    def execute(self, context, **kwargs):
        return _run_stoppable(context, "dbt_build",
                              lambda: super(StoppableDbtBuild, self).execute(context, **kwargs))


def _prepare_dbt_node(context) -> None:
    """``pre_execute`` of a per-node dbt task: its connections are tagged and get dbt's
    statement timeout (a task under the scheduler is a process of its own)."""
    pipeline.prepare_step("dbt_build")


class WarehouseProfileMapping(PostgresUserPasswordProfileMapping):
    """Cosmos's Postgres user/password profile from the ``cscw_warehouse`` connection; a
    server that needs no password (the embedded default trusts local connections) gets an
    empty one instead of Cosmos's "no value for secret field password"."""

    @property
    def env_vars(self) -> dict[str, str]:
        if self.get_dbt_value("password") is None:
            return {self.get_env_var_name("password"): ""}
        return super().env_vars


def _dbt_build():
    """The dbt step, rendered by astronomer-cosmos from the pre-built manifest.

    CSCW_DBT_TASKS=per-node (default): a DbtTaskGroup, one Airflow task per model/seed
    (``dbt build`` of that node and its tests), so a scheduler shows, retries and runs each
    model separately. CSCW_DBT_TASKS=single: one Cosmos DbtBuildLocalOperator running the
    whole project in one dbt invocation (the fast path for tests and small machines; same
    models, same tests, same order).
    """
    settings = get_settings()
    profile_config = ProfileConfig(
        profile_name=PROFILE_NAME,
        target_name=TARGET_NAME,
        profile_mapping=WarehouseProfileMapping(conn_id=WAREHOUSE_CONN_ID,
                                                profile_args=DBT_PROFILE_ARGS),
    )
    # the nightly's dbt never writes into the folder holding the manifest the DAG is
    # rendered from: concurrent per-node tasks would rewrite manifest.json under the
    # readers' feet (per-node tasks write into Cosmos's own per-task copy of the project)
    env = dbt_task_env(settings)
    if settings.dbt_tasks == "single":
        env["DBT_TARGET_PATH"] = str(build_target_path(settings))
        return StoppableDbtBuild(
            task_id="dbt_build",
            execution_timeout=_timeout("dbt_build"),
            project_dir=str(settings.dbt_project_dir),
            profile_config=profile_config,
            invocation_mode=InvocationMode.DBT_RUNNER,
            install_deps=False,
            exclude=["resource_type:unit_test"],
            vars=_dbt_vars(),
            env=env,
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
        operator_args={"install_deps": False, "vars": _dbt_vars(), "env": env},
        # every task of the group, Cosmos's test tasks too
        default_args={**DEFAULT_ARGS, "execution_timeout": _timeout("dbt_build"),
                      "pre_execute": _prepare_dbt_node},
    )


def _retry_only_transient(fn):
    """Only a transient warehouse failure is retried (``faults.is_transient``): a rejection
    (a bad drop, a critical validation failure, another run on the warehouse, a full disk)
    cannot change on a retry, so the task fails at once (the cause stays the exception's
    cause). What a task writes under CSCW_HOME is private (``config.PRIVATE_UMASK``)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        os.umask(PRIVATE_UMASK)
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            if not is_transient(exc):  # a rejection: retrying cannot change it
                raise AirflowFailException(str(exc)) from exc
            raise  # a transient warehouse failure: Airflow retries it (default_args)

    return wrapper


def record_failure(context) -> None:
    """``on_failure_callback`` of every task (dbt's too): keep the failed task's reason
    where ``cscw run`` (and an operator) can read it."""
    exc = context.get("exception")
    if isinstance(exc, AirflowFailException) and exc.__cause__ is not None:
        exc = exc.__cause__  # the rejection itself, not its no-retry wrapper
    if not isinstance(exc, BaseException):
        exc = RuntimeError(str(exc or "failed"))
    pipeline.record_task_error(context["run_id"], context["ti"].task_id, exc)


#: every task's defaults (the dbt tasks' too)
DEFAULT_ARGS = {
    "retries": TASK_RETRIES,
    "retry_delay": TASK_RETRY_DELAY,
    "retry_exponential_backoff": True,
    "max_retry_delay": TASK_MAX_RETRY_DELAY,
    "on_failure_callback": record_failure,
}


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
            "republish": Param(False, type="boolean",
                               description="Publish this night even when it is older than "
                               "the published one (docs/reliability.md)"),
        },
        default_args=DEFAULT_ARGS,
    ) as dag:

        @task(execution_timeout=_timeout("find_drop"))
        @_stoppable
        @_retry_only_transient
        def find_drop() -> dict:
            ctx = get_current_context()
            return pipeline.find_drop(_night(ctx.get("logical_date")), ctx["params"].get("drop"))

        @task(execution_timeout=_timeout("check_drop"))
        @_stoppable
        @_retry_only_transient
        def check_drop(found: dict) -> dict:
            params = get_current_context()["params"]
            return pipeline.check_drop(found["drop"], params.get("format"))

        @task(execution_timeout=_timeout("load_raw"))
        @_stoppable
        @_retry_only_transient
        def load_raw(found: dict, checked: dict) -> dict:
            params = get_current_context()["params"]
            return pipeline.load_raw(found["drop"], checked["format"], params.get("as_of"))

        @task(execution_timeout=_timeout("record_history"))
        @_stoppable
        @_retry_only_transient
        def record_history(load: dict) -> dict:
            return pipeline.record_history(load)

        @task(execution_timeout=_timeout("validate"))
        @_stoppable
        @_retry_only_transient
        def validate(load: dict) -> dict:
            run_id = get_current_context()["run_id"]
            return pipeline.validate(run_id, load["as_of"], load["batch_id"])

        @task(outlets=[MARTS_ASSET], execution_timeout=_timeout("publish"))
        @_stoppable
        @_retry_only_transient
        def publish(load: dict, validation: dict) -> dict:
            ctx = get_current_context()
            return pipeline.publish(ctx["run_id"], load["as_of"], load["batch_id"],
                                    republish=bool(ctx["params"].get("republish")))

        @task(execution_timeout=_timeout("report"))
        @_stoppable
        @_retry_only_transient
        def report(load: dict, published: dict) -> dict:
            """The improvement report: only a published night gets one."""
            return pipeline.report(load["as_of"], published=published)

        @task(execution_timeout=_timeout("summary"))
        @_stoppable
        @_retry_only_transient
        def summary(load: dict, validation: dict, published: dict, history: dict) -> dict:
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
