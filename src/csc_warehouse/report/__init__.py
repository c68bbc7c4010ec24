"""The nightly improvement report: one self-contained HTML page of the Ofsted letter's
themes (latest figure, trend, by team, against local targets and England), rendered from
the published marts read as the ``cscw_bi`` role. See docs/report.md.

The sections and KPIs are data (``catalogue.yml``); targets are ``config/targets.yml``;
England figures are the dbt seed ``england_comparators``.
"""

from csc_warehouse.report.build import REPORT_FILE, ReportResult, render_report
from csc_warehouse.report.catalogue import CatalogueError
from csc_warehouse.report.data import ReportDataError

__all__ = ["REPORT_FILE", "CatalogueError", "ReportDataError", "ReportResult",
           "render_report"]
