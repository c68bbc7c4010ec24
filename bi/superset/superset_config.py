"""Superset's configuration for csc-warehouse (SUPERSET_CONFIG_PATH points at this file).

Read by Superset in its own environment (bi/superset/.venv, or the docker image), never by
the project's package. Everything comes from the environment that `cscw bi up` (or the
docker-compose `superset` service) sets:

CSCW_SUPERSET_METADATA_URI     Superset's own metadata database (cscw: SQLite under
                               CSCW_HOME/superset/; never the warehouse)
CSCW_SUPERSET_SECRET_KEY_FILE  file holding SECRET_KEY (cscw: generated under CSCW_HOME/secrets);
                               else SUPERSET_SECRET_KEY (docker-compose: from .env)

No outside traffic: the browser may load nothing but this server (the content security
policy below drops the telemetry pixel, map tiles and web fonts Superset allows by default),
and the server phones nowhere (no Mapbox key, no thumbnails, no Slack).
"""

from __future__ import annotations

import os
from pathlib import Path

SQLALCHEMY_DATABASE_URI = os.environ["CSCW_SUPERSET_METADATA_URI"]

_key_file = os.environ.get("CSCW_SUPERSET_SECRET_KEY_FILE")
SECRET_KEY = (Path(_key_file).read_text().strip() if _key_file
              else os.environ["SUPERSET_SECRET_KEY"])

# a fresh install shows nothing but the warehouse's dashboards
FEATURE_FLAGS = {"DASHBOARD_RBAC": False, "THUMBNAILS": False, "ALERT_REPORTS": False}
MAPBOX_API_KEY = ""
SLACK_API_TOKEN = None
# SQL Lab: read-only anyway (the database login is cscw_bi), keep results small
SQL_MAX_ROW = 10000
DISPLAY_MAX_ROW = 1000
SQLLAB_TIMEOUT = 120
SUPERSET_WEBSERVER_TIMEOUT = 120

_SELF = ["'self'"]
TALISMAN_ENABLED = True
TALISMAN_CONFIG = {
    "content_security_policy": {
        "base-uri": _SELF,
        "default-src": _SELF,
        "img-src": [*_SELF, "blob:", "data:"],
        "worker-src": [*_SELF, "blob:"],
        "connect-src": _SELF,
        "object-src": "'none'",
        "style-src": [*_SELF, "'unsafe-inline'"],
        "font-src": [*_SELF, "data:"],
        "script-src": [*_SELF, "'strict-dynamic'"],
    },
    "content_security_policy_nonce_in": ["script-src"],
    "force_https": False,
    "session_cookie_secure": False,
}
CONTENT_SECURITY_POLICY_WARNING = False
