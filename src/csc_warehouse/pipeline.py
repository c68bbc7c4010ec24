"""The nightly pipeline's steps. The DAG's tasks call these and nothing else, so the
scheduler and ``cscw run`` (which runs the same DAG with ``dag.test()``) do the same work.

Every step is keyed on the night (the drop date / logical date) and idempotent: re-running a
night re-uses its load batch, replaces its validation results and re-publishes the same
marts.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

from csc_warehouse import night_lock
from csc_warehouse.config import Settings, get_settings
from csc_warehouse.drop import detect_format, find_drop_for, open_drop
from csc_warehouse.load.history import record_history as apply_history
from csc_warehouse.load.ssd import SsdLoader, check_ssd_drop
from csc_warehouse.load.ssda903 import Ssda903Loader, check_903_drop
from csc_warehouse.publish import publish as swap
from csc_warehouse.publish import record_failure
from csc_warehouse.report import render_report
from csc_warehouse.validate.run import validate as run_validation
from csc_warehouse.warehouse import cancel, warehouse_url
from csc_warehouse.warehouse.schemas import bootstrap

log = logging.getLogger("csc_warehouse.pipeline")


class CriticalValidationError(RuntimeError):
    """Critical checks failed: nothing is published."""


def _errors_file(run_id: str, settings: Settings) -> Path:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in run_id)
    return settings.reports / "runs" / f"{safe}.errors.jsonl"


def record_task_error(run_id: str, task_id: str, exc: BaseException,
                      settings: Settings | None = None) -> None:
    """Keep a failed task's reason where ``cscw run`` (and an operator) can read it."""
    settings = settings or get_settings()
    path = _errors_file(run_id, settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as f:
        f.write(json.dumps({"task": task_id, "error": f"{type(exc).__name__}: {exc}"}) + "\n")


def read_task_errors(run_id: str, settings: Settings | None = None) -> list[str]:
    settings = settings or get_settings()
    path = _errors_file(run_id, settings)
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        out.append(f"{rec['task']}: {rec['error']}")
    return out


def _locked(settings: Settings, as_of: str | None = None):
    """The warehouse's run lock for a task run by the scheduler (``cscw run`` already holds
    it for the whole night, see csc_warehouse.night_lock)."""
    night = dt.date.fromisoformat(as_of) if as_of else None
    return night_lock.hold(_url(settings), night, settings.run_lock_wait, log.warning)


def _url(settings: Settings) -> str:
    return warehouse_url(settings)


@contextmanager
def stoppable(step: str, settings: Settings | None = None) -> Iterator[None]:
    """Around a task's body: tagged connections with the step's statement timeout, and a
    stop on SIGINT/SIGTERM that cancels the step's statements (warehouse/cancel.py)."""
    settings = settings or get_settings()
    with cancel.stoppable(step, _url(settings), settings):
        yield


def prepare_step(step: str, settings: Settings | None = None) -> None:
    """For a task that cannot be wrapped (a per-node dbt task): tag this process's
    connections and give them the step's statement timeout, for the rest of the process."""
    settings = settings or get_settings()
    cancel.install(_url(settings), settings)
    cancel.set_statement_timeout(settings.statement_timeouts[step])


def record_interrupted(run_id: str, night: dt.date, exc: cancel.RunInterrupted,
                       settings: Settings | None = None) -> None:
    """Record a night that was told to stop as ``interrupted`` in dq.pipeline_runs."""
    settings = settings or get_settings()
    record_failure(_url(settings), run_id, night, None,
                   f"{exc}: nothing published; re-run to converge", status="interrupted")


def find_drop(logical_date: dt.date, drop: str | None = None,
              settings: Settings | None = None) -> dict:
    """The drop for the night: the one given, else landing/<logical date>."""
    settings = settings or get_settings()
    path = Path(drop).resolve() if drop else find_drop_for(settings.landing, logical_date)
    d = open_drop(path)
    log.info("drop %s (date %s)", d.path, d.drop_date)
    return {"drop": str(d.path), "drop_date": d.drop_date.isoformat()}


def check_drop(drop: str, fmt: str | None = None, settings: Settings | None = None) -> dict:
    """File-level contract checks (no database): manifest, encoding, CSV, required columns."""
    settings = settings or get_settings()
    path = Path(drop)
    fmt = detect_format(path, fmt)
    d = open_drop(path)
    if fmt == "903":
        files = check_903_drop(d, settings)
        return {"format": fmt, "files": files, "ignored": []}
    # the manifest's row counts are compared with what COPY reads, in load_raw
    infos, ignored = check_ssd_drop(d, settings, count_rows=False)
    return {
        "format": fmt,
        "files": {t: {"encoding": i.encoding, "columns": len(i.header)} for t, i in infos.items()},
        "ignored": ignored,
    }


def load_raw(drop: str, fmt: str | None = None, as_of: str | None = None,
             settings: Settings | None = None) -> dict:
    """Bootstrap the warehouse and load the drop into raw (idempotent per drop)."""
    settings = settings or get_settings()
    with _locked(settings, as_of):
        return _load_raw(drop, fmt, as_of, settings)


def _load_raw(drop: str, fmt: str | None, as_of: str | None, settings: Settings) -> dict:
    url = _url(settings)
    bootstrap(url, settings)
    path = Path(drop)
    fmt = detect_format(path, fmt)
    d = open_drop(path)
    if fmt == "903":
        report = Ssda903Loader(url, settings, log.info, history=False).load(d)
    else:
        report = SsdLoader(url, settings, log.info, history=False).load(d)
    as_of_date = as_of or report.drop_date.isoformat()
    return {
        "batch_id": report.batch_id,
        "drop_date": report.drop_date.isoformat(),
        "as_of": as_of_date,
        "format": fmt,
        "already_loaded": report.already_loaded,
        "rows_loaded": report.rows_loaded,
        "rows_rejected": report.rows_rejected,
        "absent_tables": report.absent_tables,
        "tables": {t: asdict(v) for t, v in report.tables.items()},
    }


def validate(run_id: str, as_of: str, batch_id: str | None,
             settings: Settings | None = None) -> dict:
    """Run the GX suites; store every result; fail when a critical check fails."""
    settings = settings or get_settings()
    url = _url(settings)
    with _locked(settings, as_of):
        report = run_validation(url, settings, run_id, dt.date.fromisoformat(as_of), batch_id)
    summary = {
        "passed": report.passed,
        "failed": report.failed,
        "critical_failures": [o.expectation for o in report.critical_failures],
        "warnings_failed": [o.expectation for o in report.warnings_failed],
        # every warning's count, with the worklist that lists the rows (for the summary)
        "warnings": [
            {"check": o.expectation, "unexpected": o.unexpected_count, "of": o.element_count,
             "success": o.success, "worklist": f"analytics.{o.worklist}" if o.worklist else None}
            for o in report.outcomes if o.severity == "warning"
        ],
        "data_docs": str(settings.gx_docs / "index.html")
        if (settings.gx_docs / "index.html").exists() else None,
    }
    if report.critical_failures:
        msg = "critical checks failed, nothing published: " + "; ".join(
            f"{o.expectation} ({o.unexpected_count} unexpected)" for o in report.critical_failures
        )
        record_failure(url, run_id, dt.date.fromisoformat(as_of), batch_id, msg)
        raise CriticalValidationError(msg)
    return summary


def publish(run_id: str, as_of: str, batch_id: str | None,
            settings: Settings | None = None, republish: bool = False) -> dict:
    """Swap the audited marts in; an older night than the published one is held back
    (``{"published": [], "held_back": why}``) unless ``republish``."""
    settings = settings or get_settings()
    with _locked(settings, as_of):
        outcome = swap(_url(settings), run_id, dt.date.fromisoformat(as_of), batch_id,
                       republish)
    if isinstance(outcome, str):
        log.warning("publish: %s", outcome)
        return {"published": [], "held_back": outcome}
    return {"published": outcome}


def report(as_of: str, settings: Settings | None = None,
           published: dict | None = None) -> dict:
    """Render the published night's improvement report (read from the marts as cscw_bi).
    A night held back by publish (older than the published one) gets none."""
    if published and published.get("held_back"):
        return {"path": None, "skipped": published["held_back"]}
    settings = settings or get_settings()
    result = render_report(settings, dt.date.fromisoformat(as_of), owner_url=_url(settings))
    log.info("improvement report: %s", result.path)
    return result.as_dict()


def record_history(load: dict, settings: Settings | None = None) -> dict:
    """Apply the loaded night to raw.record_history (SCD2), in its own transaction: beside
    dbt, not before it (the marts do not read history)."""
    settings = settings or get_settings()
    # also when the load was skipped (a re-run): an earlier run may have loaded the night
    # and failed before its history; applying it again is harmless
    note = apply_history(_url(settings), load["batch_id"])
    log.info("record history: %s", note)
    return {"batch_id": load["batch_id"], "history": note}


def summarise(run_id: str, load: dict, validation: dict, published: dict,
              history: dict | None = None, settings: Settings | None = None) -> dict:
    """Write the night's summary (JSON) under CSCW_HOME/reports and return it."""
    settings = settings or get_settings()
    summary = {
        "run_id": run_id,
        "as_of": load["as_of"],
        "batch_id": load["batch_id"],
        "rows_loaded": {t: v["rows_loaded"] for t, v in load["tables"].items()
                        if v["status"] == "loaded"},
        "rows_rejected": load["rows_rejected"],
        "absent_tables": load["absent_tables"],
        "validation": validation,
        "published": published.get("published", []),
        "held_back": published.get("held_back"),
        "history": (history or {}).get("history"),
    }
    out = settings.reports / "runs"
    out.mkdir(parents=True, exist_ok=True)
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in run_id)
    (out / f"{safe}.json").write_text(json.dumps(summary, indent=2, default=str))
    (out / "latest.json").write_text(json.dumps(summary, indent=2, default=str))
    return summary
