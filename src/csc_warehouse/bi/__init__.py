"""Run Apache Superset for the warehouse: `cscw bi up | down | status`.

Superset lives in its own environment (``bi/superset/pyproject.toml`` + ``uv.lock``: it pins
SQLAlchemy 1.4, the project needs 2), so this package never imports it: it syncs that
environment, runs ``bi/superset/cscw_superset_setup.py`` in it (metadata migration, roles,
admin user, the dashboards as code under ``bi/superset/assets``) and serves Superset with
gunicorn in the background. Superset reads the warehouse as ``cscw_bi`` (``marts`` only).
"""

from csc_warehouse.bi.superset import BiError, Superset, SupersetStatus, UpResult

__all__ = ["BiError", "Superset", "SupersetStatus", "UpResult"]
