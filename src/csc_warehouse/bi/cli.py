"""`cscw bi up | down | status`: Superset on the marts."""

from __future__ import annotations

import typer
from rich.console import Console

bi_app = typer.Typer(help="Apache Superset on the published marts (dashboards as code).",
                     no_args_is_help=True)
console = Console(stderr=True, highlight=False, soft_wrap=True)


@bi_app.command("up")
def bi_up() -> None:
    """Install or reuse Superset's environment, import the dashboards (bi/superset/assets)
    and serve Superset on 127.0.0.1 (CSCW_SUPERSET_PORT) in the background."""
    from csc_warehouse.bi import BiError, Superset
    from csc_warehouse.config import get_settings
    from csc_warehouse.terminal import Steps as _Steps

    try:
        result = Superset(get_settings()).up(step=_Steps())
    except BiError as exc:
        console.print(f"[red]cscw bi up:[/] {exc}")
        raise typer.Exit(1) from None
    for d in result.dashboards:
        console.print(f"  {d['title']}: {result.url}/superset/dashboard/{d['slug']}/ "
                      f"({d['charts']} charts)")
    if result.generated_admin_password:
        console.print(f"login: {result.admin_user} / {result.generated_admin_password}  "
                      "[bold](shown once; set CSCW_SUPERSET_ADMIN_PASSWORD to choose it)[/]")
    else:
        console.print(f"login: {result.admin_user} (password: CSCW_SUPERSET_ADMIN_PASSWORD, or "
                      "the one printed when the admin was made)")
    if result.already_running:
        console.print("Superset was already running: it serves the dashboards imported now")
    console.print("stop it with: cscw bi down")
    print(result.url)


@bi_app.command("down")
def bi_down() -> None:
    """Stop the background Superset server."""
    from csc_warehouse.bi import Superset
    from csc_warehouse.config import get_settings

    console.print("stopped" if Superset(get_settings()).stop() else "not running")


@bi_app.command("status")
def bi_status() -> None:
    """Show whether Superset is running, and where (exit code 3 when it is not)."""
    from csc_warehouse.bi import Superset
    from csc_warehouse.config import get_settings

    st = Superset(get_settings()).status()
    print(f"{st.detail}: {st.url}" + (f" (pid {st.pid})" if st.pid else ""))
    if not st.running:
        raise typer.Exit(3)
