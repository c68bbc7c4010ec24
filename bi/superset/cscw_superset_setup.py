"""Prepare Superset for csc-warehouse and import the dashboards as code.

Runs in Superset's own environment (bi/superset/.venv via `cscw bi up`, or the docker-compose
`superset` service), with SUPERSET_CONFIG_PATH pointing at superset_config.py beside it:

1. migrate Superset's metadata database (`superset db upgrade`) and sync its roles
   (`superset init`);
2. create the admin user, or reset its password when one is given;
3. import bi/superset/assets (database, datasets, charts, dashboards), overwriting what an
   earlier import left, with the warehouse's address and the cscw_bi password filled in.

Environment:
CSCW_SUPERSET_ASSETS              the assets folder (metadata.yaml, databases/, datasets/, ...)
CSCW_SUPERSET_WAREHOUSE_URI       postgresql+psycopg2://cscw_bi@host:port/database (no password)
CSCW_BI_PASSWORD                  the cscw_bi role's password
CSCW_SUPERSET_ADMIN_USER          default admin
CSCW_SUPERSET_ADMIN_PASSWORD      set: create the admin with it, or reset its password
CSCW_SUPERSET_NEW_ADMIN_PASSWORD  used only when the admin does not exist yet

The last line of output is one JSON object: {"admin_created": ..., "dashboards": [...]}.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import yaml

YAML_SUFFIXES = {".yaml", ".yml"}
#: the import order: each kind refers to the one before it
KINDS = ("databases", "datasets", "charts", "dashboards")


def read_assets(root: Path, warehouse_uri: str) -> tuple[dict[str, str], dict[str, str]]:
    """The bundle Superset's importers take ({relative path: YAML text}), and the database
    passwords by file."""
    contents: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        if path.suffix.lower() in YAML_SUFFIXES:
            contents[path.relative_to(root).as_posix()] = path.read_text()
    if "metadata.yaml" not in contents:
        raise SystemExit(f"{root}: no metadata.yaml (not a Superset export folder)")
    # the export's metadata names one kind; each importer below takes its own
    metadata = yaml.safe_load(contents["metadata.yaml"])
    metadata.pop("type", None)
    contents["metadata.yaml"] = yaml.safe_dump(metadata)
    passwords = {}
    for name, text in list(contents.items()):
        if name.startswith("databases/"):
            config = yaml.safe_load(text)
            config["sqlalchemy_uri"] = warehouse_uri
            contents[name] = yaml.safe_dump(config, sort_keys=False)
            passwords[name] = os.environ["CSCW_BI_PASSWORD"]
    return contents, passwords


def main() -> None:
    from superset.app import create_app

    app = create_app()
    with app.app_context():
        from flask_migrate import upgrade
        from superset import db, security_manager
        from superset.extensions import appbuilder
        from superset.utils.core import override_user

        upgrade()
        appbuilder.add_permissions(update_perms=True)
        security_manager.sync_role_definitions()
        db.session.commit()

        username = os.environ.get("CSCW_SUPERSET_ADMIN_USER", "admin")
        password = os.environ.get("CSCW_SUPERSET_ADMIN_PASSWORD")
        user = security_manager.find_user(username=username)
        created = False
        if user is None:
            password = password or os.environ.get("CSCW_SUPERSET_NEW_ADMIN_PASSWORD")
            if not password:
                raise SystemExit("no admin password given (CSCW_SUPERSET_ADMIN_PASSWORD)")
            user = security_manager.add_user(
                username, "CSC", "Admin", f"{username}@csc-warehouse.invalid",
                security_manager.find_role("Admin"), password=password)
            if not user:
                raise SystemExit(f"could not create the Superset user {username!r}")
            created = True
        elif password:
            security_manager.reset_password(user.id, password)
        db.session.commit()

        from superset.commands.chart.importers.v1 import ImportChartsCommand
        from superset.commands.dashboard.importers.v1 import ImportDashboardsCommand
        from superset.commands.database.importers.v1 import ImportDatabasesCommand
        from superset.commands.dataset.importers.v1 import ImportDatasetsCommand
        from superset.models.dashboard import Dashboard

        contents, passwords = read_assets(Path(os.environ["CSCW_SUPERSET_ASSETS"]),
                                          os.environ["CSCW_SUPERSET_WAREHOUSE_URI"])
        commands = (ImportDatabasesCommand, ImportDatasetsCommand, ImportChartsCommand,
                    ImportDashboardsCommand)
        with override_user(user):
            for kind, command in zip(KINDS, commands, strict=True):
                try:
                    command(contents, passwords=passwords, overwrite=True).run()
                except Exception as exc:  # noqa: BLE001 - report which kind and why
                    messages = (exc.normalized_messages()
                                if hasattr(exc, "normalized_messages") else str(exc))
                    why = f"{messages} ({exc.__cause__!r})" if exc.__cause__ else messages
                    raise SystemExit(f"importing {kind} failed: {why}") from exc

        uuids = {str(yaml.safe_load(text)["uuid"]) for name, text in contents.items()
                 if name.startswith("dashboards/")}
        dashboards = [
            {"id": d.id, "slug": d.slug, "title": d.dashboard_title,
             "charts": len(d.slices)}
            for d in db.session.query(Dashboard).order_by(Dashboard.id)
            if str(d.uuid) in uuids
        ]
    sys.stdout.write(json.dumps({"admin_created": created, "dashboards": dashboards}) + "\n")


if __name__ == "__main__":
    main()
