"""``clinfusion app`` (the review app), ``clinfusion users add|remove|list`` and ``clinfusion reviews export``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import typer

from clinfusion.cli.console import console, print_frame

WS_OPTION = typer.Option(..., "--workspace", "-w", help="Workspace directory.")


def app_script() -> Path:
    """``apps/review/app.py`` of this checkout (the app is not part of the installed package).

    Raises:
        ConfigError: the checkout has no review app.
    """
    from clinfusion.errors import ConfigError

    path = Path(__file__).resolve().parents[3] / "apps" / "review" / "app.py"
    if not path.exists():
        raise ConfigError("the review app is missing from this checkout", file=path)
    return path


def streamlit_command(workspace: Path, port: int) -> tuple[list[str], dict[str, str]]:
    """The command line and environment that serve the review app on 127.0.0.1:``port``."""
    cmd = [sys.executable, "-m", "streamlit", "run", str(app_script()), "--server.address", "127.0.0.1",
           "--server.port", str(port), "--server.headless", "true", "--browser.gatherUsageStats", "false",
           "--server.fileWatcherType", "none"]
    env = {**os.environ, "CLINFUSION_WORKSPACE": str(Path(workspace).resolve()), "MLFLOW_DISABLE_TELEMETRY": "true"}
    return cmd, env


def app(workspace: Path = WS_OPTION, port: int = typer.Option(8501, "--port", "-p", help="Port on 127.0.0.1.")) -> int:
    """Serve the clinician review app for a workspace on http://127.0.0.1:PORT (log in with a user of
    `clinfusion users add`)."""
    from clinfusion.review.users import list_users
    from clinfusion.workspace import Workspace

    ws = Workspace.open(workspace)
    if not list_users(ws.root):
        console.print(f"[yellow]no users yet[/]: add one with `clinfusion users add NAME --role clinician --workspace {workspace}`")
    cmd, env = streamlit_command(ws.root, port)
    console.print(f"review app on http://127.0.0.1:{port} (Ctrl+C stops it)")
    try:
        return subprocess.call(cmd, env=env)
    except KeyboardInterrupt:
        return 0


users_app = typer.Typer(help="Users of the review app (stored with hashed passwords in the workspace).", no_args_is_help=True)


@users_app.command("add")
def users_add(
    username: str = typer.Argument(..., help="User name."),
    role: str = typer.Option(..., "--role", "-r", help="clinician, researcher or admin."),
    workspace: Path = WS_OPTION,
    password: str = typer.Option(..., "--password", prompt=True, hide_input=True, confirmation_prompt=True,
                                 help="Password (prompted when omitted; at least 8 characters)."),
) -> int:
    """Add a user (or reset the password and role of an existing one)."""
    from clinfusion.review.users import add_user
    from clinfusion.workspace import Workspace

    add_user(Workspace.open(workspace).root, username, password, role)
    console.print(f"user {username!r} ({role}) saved")
    return 0


@users_app.command("remove")
def users_remove(username: str = typer.Argument(..., help="User name."), workspace: Path = WS_OPTION) -> int:
    """Remove a user."""
    from clinfusion.review.users import remove_user
    from clinfusion.workspace import Workspace

    remove_user(Workspace.open(workspace).root, username)
    console.print(f"user {username!r} removed")
    return 0


@users_app.command("list")
def users_list(workspace: Path = WS_OPTION) -> int:
    """List users and roles (never passwords)."""
    from clinfusion.review.users import list_users
    from clinfusion.workspace import Workspace

    users = list_users(Workspace.open(workspace).root)
    print_frame(pd.DataFrame(users, columns=["username", "role", "created_at"]), title="users")
    return 0


reviews_app = typer.Typer(help="Reviews stored by the review app.", no_args_is_help=True)


@reviews_app.command("export")
def reviews_export(workspace: Path = WS_OPTION,
                   out: Path = typer.Option(..., "--out", "-o", help="Output file: .csv or .parquet.")) -> int:
    """Export every review (user, time, decision, reason, comment) for retraining."""
    from clinfusion.review.reviews import export_reviews
    from clinfusion.workspace import Workspace

    n = export_reviews(Workspace.open(workspace).root, out)
    console.print(f"wrote {n} review(s) to {out}")
    return 0


COMMANDS = {"app": app, "users": users_app, "reviews": reviews_app}
