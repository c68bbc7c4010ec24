"""Run the suites with GX Core (SQL execution engine) and keep every result.

Each asset is a query over tonight's staging views (staging reads one batch), written as one
set-based pass (references by left join to the distinct keys, never a per-row subquery). GX
runs each asset's query once into a temporary table and computes every expectation of the
asset from it. ``result_format`` is SUMMARY; failing rows are found by query (the worklists),
not from GX's capped unexpected lists. Every expectation's result lands in
``dq.validation_results``. Timings and growth: docs/performance.md.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from csc_warehouse.config import Settings
from csc_warehouse.validate.suites import AssetSpec, SuiteSpec, load_suites
from csc_warehouse.warehouse.db import sqlalchemy_url, transaction

log = logging.getLogger(__name__)
DOCS_SITE = "cscw_data_docs"


@dataclass
class ExpectationOutcome:
    suite: str
    severity: str
    expectation: str
    expectation_type: str
    table_name: str
    column_name: str | None
    success: bool
    observed_value: str | None
    element_count: int | None
    unexpected_count: int | None
    unexpected_percent: float | None
    mostly: float | None
    worklist: str | None = None


@dataclass
class ValidationReport:
    run_id: str
    as_of: dt.date
    outcomes: list[ExpectationOutcome]

    @property
    def critical_failures(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if o.severity == "critical" and not o.success]

    @property
    def warnings_failed(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if o.severity == "warning" and not o.success]

    @property
    def passed(self) -> int:
        return sum(o.success for o in self.outcomes)

    @property
    def failed(self) -> int:
        return sum(not o.success for o in self.outcomes)


def _gx_class(etype: str):
    import great_expectations.expectations as gxe

    camel = "".join(part.capitalize() for part in etype.split("_"))
    try:
        return getattr(gxe, camel)
    except AttributeError:
        raise ValueError(f"unknown GX expectation type {etype!r}") from None


def _observed(result: dict) -> str | None:
    if "observed_value" in result:
        return json.dumps(result["observed_value"], default=str)
    if "unexpected_count" in result and "element_count" in result:
        return f"{result['unexpected_count']} of {result['element_count']} unexpected"
    return None


_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


def checked_columns(asset: AssetSpec) -> list[str] | None:
    """The columns an asset's expectations read (and its key), in order; None when an
    expectation reads the whole row (a table-level expectation) or names a column that is not
    a plain identifier."""
    cols = [asset.key] if asset.key else []
    for e in asset.expectations:
        named = [e.kwargs[k] for k in ("column", "column_A", "column_B") if k in e.kwargs]
        named += list(e.kwargs.get("column_list", []))
        if not named:
            return None
        cols += named
    if not all(isinstance(c, str) and _IDENTIFIER.match(c) for c in cols):
        return None
    return list(dict.fromkeys(cols))


def _gx_query(query: str, columns: list[str] | None = None) -> str:
    """The query GX materialises: only the columns the expectations read (PostgreSQL then
    computes and writes no others), wrapped in a subquery (GX query assets must start with
    SELECT, and a query may start with a CTE)."""
    if columns:
        return f"select {', '.join(columns)} from ({query}) as asset"
    if query.lstrip()[:7].lower() == "select ":
        return query
    return f"select * from ({query}) as asset"


def _data_docs_site(ctx, folder: Path) -> None:
    """A local Data Docs site in ``folder`` (rebuilt each night: tonight's results only;
    the history is in dq.validation_results)."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    # the ephemeral context comes with a "local_site" in a temp folder: replace it
    for name in list(ctx.get_site_names()):
        ctx.delete_data_docs_site(name)
    ctx.add_data_docs_site(
        site_name=DOCS_SITE,
        site_config={
            "show_how_to_buttons": False,
            "class_name": "SiteBuilder",
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                              "base_directory": str(folder)},
        },
    )


def _outcome(suite: SuiteSpec, asset_name: str, spec, r) -> ExpectationOutcome:
    result = r.result or {}
    observed = _observed(result)
    exc = getattr(r, "exception_info", None) or {}
    if not r.success and exc.get("raised_exception"):
        # a broken query or expectation fails the check (fail closed), with its reason
        observed = f"error: {exc.get('exception_message')}"[:2000]
    return ExpectationOutcome(
        suite=suite.name,
        severity=suite.severity,
        expectation=spec.name,
        expectation_type=spec.type,
        table_name=asset_name,
        column_name=spec.column,
        success=bool(r.success),
        observed_value=observed,
        element_count=result.get("element_count"),
        unexpected_count=result.get("unexpected_count"),
        unexpected_percent=result.get("unexpected_percent"),
        mostly=spec.mostly,
        worklist=spec.worklist,
    )


def _query_failed(suite: SuiteSpec, asset: AssetSpec, exc: BaseException,
                  ) -> list[ExpectationOutcome]:
    """Fail closed: an asset whose query cannot run fails every one of its expectations."""
    reason = " ".join(str(getattr(exc, "orig", None) or exc).split())
    return [
        ExpectationOutcome(
            suite=suite.name, severity=suite.severity, expectation=spec.name,
            expectation_type=spec.type, table_name=asset.name, column_name=spec.column,
            success=False, observed_value=f"error: {reason}"[:2000], element_count=None,
            unexpected_count=None, unexpected_percent=None, mostly=spec.mostly,
            worklist=spec.worklist,
        )
        for spec in asset.expectations
    ]


NOT_AVAILABLE = "not available"


def _not_available(suite: SuiteSpec, asset: AssetSpec) -> list[ExpectationOutcome]:
    """The drop did not carry the asset's input: each expectation is recorded as not
    available (success, no counts: neither 0 failures nor every row failing)."""
    return [
        ExpectationOutcome(
            suite=suite.name, severity=suite.severity, expectation=spec.name,
            expectation_type=spec.type, table_name=asset.name, column_name=spec.column,
            success=True, observed_value=f"{NOT_AVAILABLE}: the drop did not carry the input",
            element_count=None, unexpected_count=None, unexpected_percent=None,
            mostly=spec.mostly, worklist=spec.worklist,
        )
        for spec in asset.expectations
    ]


def _is_available(url: str, asset: AssetSpec, as_of: dt.date | None) -> bool:
    """The asset's ``available_when`` answer (true when it has none)."""
    query = asset.render_available_when(as_of)
    if query is None:
        return True
    with transaction(url) as cur:
        cur.execute(query)
        row = cur.fetchone()
    return bool(row and row[0])


def run_suites(url: str, settings: Settings, suites: list[SuiteSpec] | None = None,
               as_of: dt.date | None = None, data_docs: bool = True,
               ) -> list[ExpectationOutcome]:
    """Run every suite's assets with GX Core (SQL engine, ephemeral context).

    ``as_of`` is substituted into the queries' ``{as_of}`` placeholder as a date literal.
    With ``data_docs`` the night's Data Docs are built into ``settings.gx_docs``.
    """
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx

    suites = suites if suites is not None else load_suites(settings.expectations_dir)
    ctx = gx.get_context(mode="ephemeral")
    with contextlib.suppress(Exception):  # cosmetic only
        ctx.variables.progress_bars = {"globally": False}
    if data_docs:
        _data_docs_site(ctx, settings.gx_docs)
    # create_temp_table: GX runs each asset's query once, into a temporary table, and
    # computes every expectation's metrics from that table (one set-based pass per asset,
    # not one per expectation or per metric)
    source = ctx.data_sources.add_postgres("warehouse", connection_string=sqlalchemy_url(url),
                                           create_temp_table=True)
    outcomes: list[ExpectationOutcome] = []
    for suite in suites:
        for asset in suite.assets:
            started = time.monotonic()
            try:
                available = _is_available(url, asset, as_of)
            except Exception as exc:  # noqa: BLE001 - recorded, and fails the checks
                log.warning("%s/%s: the availability query failed: %s", suite.name,
                            asset.name, exc)
                outcomes.extend(_query_failed(suite, asset, exc))
                continue
            if not available:
                log.info("%s/%s: not available (input absent from the drop)", suite.name,
                         asset.name)
                outcomes.extend(_not_available(suite, asset))
                continue
            gx_asset = source.add_query_asset(f"{suite.name}__{asset.name}",
                                              query=_gx_query(asset.render(as_of),
                                                              checked_columns(asset)))
            batch_def = gx_asset.add_batch_definition_whole_table("tonight")
            gx_suite = ctx.suites.add(
                gx.ExpectationSuite(
                    f"{suite.name}__{asset.name}",
                    expectations=[_gx_class(e.type)(**e.kwargs) for e in asset.expectations],
                    meta={"severity": suite.severity},
                )
            )
            vd = ctx.validation_definitions.add(
                gx.ValidationDefinition(name=gx_suite.name, data=batch_def, suite=gx_suite)
            )
            # SUMMARY: counts and a small sample. The failing rows themselves are listed by
            # query (the worklists in analytics), not from GX's capped unexpected lists.
            fmt: dict = {"result_format": "SUMMARY", "return_unexpected_index_query": False}
            if asset.key:
                fmt["unexpected_index_column_names"] = [asset.key]
            try:
                res = vd.run(result_format=fmt)
            except Exception as exc:  # noqa: BLE001 - recorded, and fails the checks
                # the asset's query itself failed (GX materialises it before any
                # expectation runs): every expectation of the asset fails, with the reason
                log.warning("%s/%s: the asset's query failed: %s", suite.name, asset.name, exc)
                outcomes.extend(_query_failed(suite, asset, exc))
                continue
            # results come back in the suite's order
            for spec, r in zip(asset.expectations, res.results, strict=True):
                outcomes.append(_outcome(suite, asset.name, spec, r))
            log.info("%s/%s: %d expectations in %.1fs", suite.name, asset.name,
                     len(asset.expectations), time.monotonic() - started)
    if data_docs:
        try:
            ctx.build_data_docs(site_names=[DOCS_SITE])
        except Exception:  # noqa: BLE001 - the docs are a convenience; results are stored
            log.exception("building GX Data Docs failed")
    return outcomes


def store_results(url: str, run_id: str, as_of: dt.date, batch_id: str | None,
                  outcomes: list[ExpectationOutcome]) -> None:
    """Write the run's results to dq.validation_results (replacing a re-run's)."""
    with transaction(url) as cur:
        cur.execute("delete from dq.validation_results where run_id = %s", (run_id,))
        cur.executemany(
            """insert into dq.validation_results (run_id, as_of, batch_id, suite, severity,
                   expectation, expectation_type, table_name, column_name, success,
                   observed_value, element_count, unexpected_count, unexpected_percent, mostly)
               values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
            [
                (run_id, as_of, batch_id, o.suite, o.severity, o.expectation,
                 o.expectation_type, o.table_name, o.column_name, o.success, o.observed_value,
                 o.element_count, o.unexpected_count, o.unexpected_percent, o.mostly)
                for o in outcomes
            ],
        )


def validate(url: str, settings: Settings, run_id: str, as_of: dt.date,
             batch_id: str | None) -> ValidationReport:
    outcomes = run_suites(url, settings, as_of=as_of)
    store_results(url, run_id, as_of, batch_id, outcomes)
    return ValidationReport(run_id=run_id, as_of=as_of, outcomes=outcomes)
