"""The ``cscw`` command line."""

from __future__ import annotations

import datetime as dt
import gc
import json
import os
import shutil
import signal
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from csc_warehouse import airflow_runner, dbt_runner, night_lock
from csc_warehouse.bi.cli import bi_app
from csc_warehouse.config import DAG_ID, get_settings
from csc_warehouse.contract import load_contract
from csc_warehouse.contract.render import write_rendered
from csc_warehouse.drop import DropError, open_drop
from csc_warehouse.night_lock import RunLocked
from csc_warehouse.report import CatalogueError, ReportDataError, render_report
from csc_warehouse.run_progress import TaskWatcher, output_to_file
from csc_warehouse.terminal import Steps as _Steps
from csc_warehouse.terminal import console
from csc_warehouse.warehouse import cancel, warehouse_url
from csc_warehouse.warehouse.db import WarehouseUnreachable, check_reachable, connect, redact
from csc_warehouse.warehouse.embedded import EmbeddedWarehouse, EmbeddedWarehouseError


class _App(typer.Typer):
    """Errors of the operator's own environment (port in use, warehouse unreachable, the
    warehouse busy with another run) end in one clear line and exit 2, not a traceback."""

    def __call__(self, *args, **kwargs):
        try:
            return super().__call__(*args, **kwargs)
        except (EmbeddedWarehouseError, WarehouseUnreachable, RunLocked) as e:
            console.print(f"[red]error:[/] {e}")
            sys.exit(2)


app = _App(
    help="csc-warehouse: a data warehouse for children's social care.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
warehouse_app = typer.Typer(help="The warehouse in use (embedded by default).",
                            no_args_is_help=True)
contract_app = typer.Typer(help="The extract contract.", no_args_is_help=True)
app.add_typer(warehouse_app, name="warehouse")
app.add_typer(contract_app, name="contract")
app.add_typer(bi_app, name="bi")

DEFAULT_DEMO_DATE = dt.date(2026, 11, 27)


def _date(value: str | None, what: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{what} must be YYYY-MM-DD, not {value!r}") from None


# --- warehouse ---------------------------------------------------------------------------
@warehouse_app.command("url")
def warehouse_url_cmd() -> None:
    """Print the libpq URL of the warehouse (last line: the URL alone, for psql)."""
    settings = get_settings()
    url = warehouse_url(settings, start=settings.embedded)
    if settings.embedded:
        console.print(f"embedded warehouse, data in {settings.pgdata}")
    print(url)


@warehouse_app.command("start")
def warehouse_start() -> None:
    """Start the embedded warehouse (no-op with CSCW_WAREHOUSE_URL)."""
    settings = get_settings()
    url = warehouse_url(settings)
    console.print(f"warehouse running: {url}")


@warehouse_app.command("stop")
def warehouse_stop() -> None:
    """Stop the embedded warehouse cleanly."""
    settings = get_settings()
    if not settings.embedded:
        console.print(f"[red]nothing stopped:[/] CSCW_WAREHOUSE_URL is set "
                      f"({redact(settings.warehouse_url or '')}), a server cscw does not "
                      "manage; unset CSCW_WAREHOUSE_URL to stop the embedded warehouse of "
                      f"CSCW_HOME={settings.home}")
        raise typer.Exit(1)
    stopped = EmbeddedWarehouse(settings).stop()
    console.print("stopped" if stopped else "not running")


@warehouse_app.command("status")
def warehouse_status() -> None:
    """Show whether the embedded warehouse is running."""
    settings = get_settings()
    if not settings.embedded:
        print(f"external warehouse: {settings.warehouse_url}")
        return
    st = EmbeddedWarehouse(settings).status()
    print(f"{'running' if st.running else 'stopped'}: {st.detail} (data: {st.pgdata}"
          f"{f', pid {st.pid}, 127.0.0.1:{st.port}' if st.running else ''})")
    if not st.running:
        raise typer.Exit(3)


# --- contract ----------------------------------------------------------------------------
@contract_app.command("render")
def contract_render() -> None:
    """Regenerate the dbt sources and docs/extract-contract.md from the contract."""
    settings = get_settings()
    for p in write_rendered(settings.project_root):
        console.print(f"wrote {p}")


# --- history ---------------------------------------------------------------------------
@app.command()
def history(
    table: Annotated[str, typer.Option(help="Contract table, e.g. ssd_cla_placement")],
    key: Annotated[str, typer.Option(help="The record's key value")],
    night: Annotated[Optional[str], typer.Option(help="Show the record as delivered on this night (YYYY-MM-DD)")] = None,  # noqa: E501, UP045
) -> None:
    """What a record looked like, night by night (from raw.record_history)."""
    load_contract().table(table)  # a clear error for a table that is not in the contract
    settings = get_settings()
    conn = connect(warehouse_url(settings))
    try:
        with conn.cursor() as cur:
            if night:
                cur.execute("select raw.record_as_of(%s, %s, %s)",
                            (table, key, _date(night, "--night")))
                rec = cur.fetchone()[0]
                if rec is None:
                    console.print(f"{table} {key} was not in the drop of {night}")
                    raise typer.Exit(1)
                print(json.dumps(rec, indent=2, sort_keys=True))
                return
            cur.execute("select * from raw.record_versions(%s, %s)", (table, key))
            rows = cur.fetchall()
    finally:
        conn.close()
    if not rows:
        console.print(f"no history for {table} {key}")
        raise typer.Exit(1)
    t = Table(title=f"{table} {key}: {len(rows)} version(s)")
    for col in ("from drop", "to drop", "record"):
        t.add_column(col)
    for valid_from, valid_to, _fb, _tb, rec in rows:
        t.add_row(str(valid_from), str(valid_to or "(current)"),
                  json.dumps(rec, sort_keys=True))
    Console(highlight=False).print(t)


# --- dbt ---------------------------------------------------------------------------------
@app.command("dbt-parse")
def dbt_parse() -> None:
    """Parse the dbt project and write manifest.json (what the DAG is rendered from)."""
    settings = get_settings()
    path = dbt_runner.ensure_manifest(warehouse_url(settings, start=False), settings)
    print(path)


@app.command(
    "dbt",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
def dbt_cmd(ctx: typer.Context) -> None:
    """Run a dbt command against the warehouse in use, e.g. `cscw dbt test --select
    test_type:unit` (profile, target and vars as the nightly uses them)."""
    settings = get_settings()
    if not ctx.args:
        raise typer.BadParameter("give a dbt command, e.g. `cscw dbt test --select test_type:unit`")
    res = dbt_runner.invoke(list(ctx.args), warehouse_url(settings), settings)
    failures = res.failures()
    for f in failures:
        console.print(f"[red]{f['status']}[/] {f['unique_id']}: {f['message']}")
    console.print(f"dbt {ctx.args[0]}: {len(res.nodes)} nodes, {len(failures)} failed")
    raise typer.Exit(0 if res.success else 1)


# --- report ------------------------------------------------------------------------------
@app.command("report")
def report_cmd(
    night: Annotated[Optional[str], typer.Option(help="The published night, YYYY-MM-DD (default: the one published)")] = None,  # noqa: E501, UP045
) -> None:
    """Render the improvement report of the published night again (HTML; reads the
    published marts as cscw_bi)."""
    try:
        result = render_report(get_settings(), _date(night, "--night"))
    except (ReportDataError, CatalogueError) as e:
        console.print(f"[red]{e}[/]")
        raise typer.Exit(1) from None
    console.print(f"{result.kpis_available} of {result.kpis_total} KPIs available; "
                  f"also copied to {result.latest}")
    print(result.path)


# --- generate ----------------------------------------------------------------------------
@app.command()
def generate(
    out: Annotated[Path, typer.Option(help="Drop folder to write (created)")],
    children: Annotated[int, typer.Option(min=1, help="Number of children")] = 200,
    years: Annotated[int, typer.Option(min=1, max=30, help="Years of history")] = 5,
    as_of: Annotated[Optional[str], typer.Option(help="Snapshot date YYYY-MM-DD")] = None,  # noqa: UP045
    seed: Annotated[int, typer.Option(help="Random seed")] = 1,
    profile: Annotated[str, typer.Option(help="clean or faulty")] = "clean",
) -> None:
    """Write a synthetic drop (a fictional authority) in the extract contract's format."""
    from csc_warehouse.generate import generate_drop  # numpy: ~1 s, only for generating

    result = generate_drop(out, children=children, years=years,
                           as_of=_date(as_of, "--as-of"), seed=seed, profile=profile)
    total = sum(result.rows.values())
    console.print(f"wrote {total:,} rows in {len(result.rows)} files to {result.path}")
    print(result.path)


# --- run ---------------------------------------------------------------------------------
def _dbt_line(result, settings) -> str:
    """How much dbt built: per-node tasks, or (one Cosmos task) its run_results.json."""
    nodes = {k: v for k, v in result.task_states.items() if k.startswith("dbt_build.")}
    if nodes:
        ok = sum(1 for v in nodes.values() if v == "success")
        return f"dbt: {ok} of {len(nodes)} nodes built and tested (one Airflow task each)"
    state = result.task_states.get("dbt_build")
    rr = dbt_runner.build_target_path(settings) / "run_results.json"
    if state and rr.exists():
        results = json.loads(rr.read_text()).get("results", [])
        kinds: dict[str, int] = {}
        bad = 0
        for r in results:
            kind = r["unique_id"].split(".")[0]
            kinds[kind] = kinds.get(kind, 0) + 1
            bad += r["status"] in ("error", "fail")
        built = ", ".join(f"{n} {k}s" for k, n in sorted(kinds.items()))
        return f"dbt: {built} ({bad} failed; task {state})"
    return f"dbt: task {state or 'not run'}"


def completeness_line(warning: dict) -> str:
    """A failed warning check as a manager reads it: "current location known: 3 of 4 known
    (1 to fix -> analytics.wl_current_location_unknown)"."""
    of, bad = warning["of"], warning["unexpected"]
    to_fix = f"{bad} to fix" + (f" -> {warning['worklist']}" if warning["worklist"] else "")
    return f"{warning['check']}: {of - bad} of {of} known ({to_fix})"


def _print_summary(result, settings, steps: _Steps | None = None) -> None:
    load = result.xcoms.get("load_raw") or {}
    if load.get("tables"):
        t = Table(title=f"Loaded (batch {load.get('batch_id')})", show_lines=False)
        t.add_column("table")
        t.add_column("rows", justify="right")
        t.add_column("quarantined", justify="right")
        for name, v in load["tables"].items():
            if v["status"] == "loaded":
                t.add_row(name, f"{v['rows_loaded']:,}", f"{v['rows_rejected']:,}")
            else:
                t.add_row(name, "[dim]absent[/]", "")
        console.print(t)
    console.print(_dbt_line(result, settings))
    validation = result.xcoms.get("validate")
    if validation:
        console.print(
            f"validations: {validation['passed']} passed, {validation['failed']} failed "
            f"({len(validation['warnings_failed'])} warnings)"
        )
        for w in validation.get("warnings", []):
            if not w["success"]:
                console.print(f"  [yellow]warning[/] {completeness_line(w)}")
    console.print(f"warehouse: {warehouse_url(settings, start=False)}")
    console.print(f"run report: {settings.reports / 'runs' / 'latest.json'}")
    improvement = result.xcoms.get("report")
    if isinstance(improvement, dict) and improvement.get("path"):
        console.print(f"improvement report: {improvement['path']}")
    if (settings.gx_docs / "index.html").exists():
        console.print(f"data docs: {settings.gx_docs / 'index.html'}")
    if steps:
        console.print("timings: " + ", ".join(f"{k} {v:.1f}s" for k, v in steps.timings.items()))


def _run_dag_quietly(settings, log_path: Path, drop: Path | None, night: dt.date,
                     as_of: str | None, fmt: str, republish: bool = False):
    """dag.test() with its output in the log file and one progress line per task."""
    if settings.verbose:
        return airflow_runner.run_nightly(
            settings, drop=str(drop) if drop else None, night=night, as_of=as_of, fmt=fmt,
            republish=republish)
    with output_to_file(log_path) as terminal_fd:
        term = Console(file=os.fdopen(terminal_fd, "w", buffering=1), highlight=False,
                       stderr=True)
        counter = {"n": 0}

        def report(task_id: str, state: str, seconds: float) -> None:
            counter["n"] += 1
            mark = {"success": "[green]✓[/]", "skipped": "[yellow]-[/]"}.get(state, "[red]✗[/]")
            term.print(f"  {mark} {task_id.removeprefix('dbt_build.')} [dim]{state} "
                       f"({seconds:.1f}s)[/]")

        watcher = TaskWatcher(settings.airflow_home / "airflow.db", DAG_ID, report)
        watcher.start()
        try:
            return airflow_runner.run_nightly(
                settings, drop=str(drop) if drop else None, night=night, as_of=as_of, fmt=fmt,
                republish=republish)
        finally:
            watcher.stop()
            term.file.flush()


def _run(drop: Path | None, night: dt.date, as_of: str | None, fmt: str,
         steps: _Steps, republish: bool = False) -> int:
    settings = get_settings()
    settings.ensure_dirs()
    with steps("start the warehouse"):
        url = warehouse_url(settings)
        check_reachable(url)
    # from here SIGINT/SIGTERM cancel the run's statements and stop it (warehouse/cancel.py)
    stopper = cancel.install(url, settings)
    try:
        result = _run_dag(settings, url, drop, night, as_of, fmt, steps, republish)
    except KeyboardInterrupt as exc:
        return _interrupted(stopper, night, exc)
    if stopper.signum is not None:
        return _interrupted(stopper, night, None)
    _print_summary(result, settings, steps)
    if not result.success:
        console.print(f"[bold red]the nightly run failed[/] (tasks: "
                      f"{', '.join(result.failed_tasks) or result.state})")
        if result.not_run:
            console.print(f"[red]tasks that never ran: {', '.join(result.not_run)}[/]")
        if result.error:
            console.print(f"[red]{result.error}[/]")
        return 1
    held = (result.xcoms.get("publish") or {}).get("held_back")
    if held:
        console.print(f"[bold yellow]not published:[/] {held}")
        return 0
    console.print("[bold green]published[/]")
    return 0


def _run_dag(settings, url: str, drop: Path | None, night: dt.date, as_of: str | None,
             fmt: str, steps: _Steps, republish: bool):
    with steps("prepare Airflow and the dbt manifest"):
        airflow_runner.configure(settings)
        dbt_runner.ensure_manifest(url, settings)
        airflow_runner.ensure_metadata_db(settings)
        airflow_runner.ensure_connection(url)
    log_path = settings.logs / f"run-{night.isoformat()}.log"
    # one run at a time per warehouse, for the whole night (csc_warehouse.night_lock)
    with night_lock.hold(url, night, settings.run_lock_wait,
                         lambda m: console.print(f"[yellow]{m}[/]")), \
            steps(f"run the nightly DAG for {night} (log: {log_path})"):
        return _run_dag_quietly(settings, log_path, drop, night, as_of, fmt, republish)


def _interrupted(stopper, night: dt.date, exc: KeyboardInterrupt | None) -> int:
    """A run told to stop (SIGINT/SIGTERM): say so; exit 130 / 143."""
    signum = stopper.signum or getattr(exc, "signum", None) or signal.SIGINT
    step = stopper.stopped_in or "the preparation"
    console.print(f"[bold red]interrupted by {cancel.signal_name(signum)} during {step}: "
                  f"night {night} not published; re-run to converge[/]")
    # end now: the interpreter's last garbage collection over Airflow's, dbt's and GX's
    # objects takes seconds, and a stopped run has nothing left to finalise
    gc.freeze()
    return cancel.exit_code(signum)


@app.command()
def run(
    drop: Annotated[Path, typer.Option(help="The drop folder (a night's CSV files)")],
    as_of: Annotated[Optional[str], typer.Option(help="Date the marts describe; default: the drop's date")] = None,  # noqa: E501, UP045
    fmt: Annotated[str, typer.Option("--format", help="auto, ssd or 903")] = "auto",
    republish: Annotated[bool, typer.Option(help="Publish this night even when it is older than the published one")] = False,  # noqa: E501
) -> None:
    """Run the nightly pipeline (the real Airflow DAG, in-process) on one drop. A night
    older than the published one is loaded, built and validated but not published, unless
    --republish."""
    _date(as_of, "--as-of")
    try:
        d = open_drop(drop)
    except DropError as e:
        console.print(f"[red]{e}[/]")
        raise typer.Exit(2) from None
    code = _run(d.path.resolve(), d.drop_date, as_of, fmt, _Steps(), republish)
    raise typer.Exit(code)


@app.command()
def demo(
    children: Annotated[int, typer.Option(min=1, help="Number of children")] = 1000,
    seed: Annotated[int, typer.Option(help="Random seed")] = 1,
    years: Annotated[int, typer.Option(min=1, max=30, help="Years of history")] = 5,
) -> None:
    """Generate a fictional authority's drop into the landing folder, then run the nightly
    DAG on it."""
    settings = get_settings()
    settings.ensure_dirs()
    steps = _Steps()
    night = DEFAULT_DEMO_DATE
    drop = settings.landing / night.isoformat()
    with steps(f"generate a synthetic drop ({children:,} children, seed {seed})"):
        from csc_warehouse.generate import generate_drop

        marker = drop / ".cscw-demo.json"
        wanted = {"children": children, "seed": seed, "years": years}
        if not (marker.exists() and json.loads(marker.read_text()) == wanted):
            if drop.exists():
                shutil.rmtree(drop)
            generate_drop(drop, children=children, years=years, as_of=night, seed=seed)
            marker.write_text(json.dumps(wanted))
        else:
            console.print(f"  reusing {drop}")
    code = _run(None, night, None, "auto", steps)
    raise typer.Exit(code)


if __name__ == "__main__":
    sys.exit(app())
