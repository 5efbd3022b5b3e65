"""``clinfusion app`` (the review app), ``clinfusion users add|remove|list`` and ``clinfusion reviews export``."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import typer

from clinfusion.cli.console import console, print_frame
from clinfusion.cli.locking import writes_workspace

WS_OPTION = typer.Option(..., "--workspace", "-w", help="Workspace directory.")
DB_OPTION = typer.Option(None, "--review-db", envvar="CLINFUSION_REVIEW_DB", show_envvar=True,
                         help="Review store (users, reviews, audit log) URL, e.g. postgresql://user@host:5432/reviews; "
                              "default: WS/review/review.sqlite.")


def app(workspace: Path = WS_OPTION, port: int = typer.Option(8501, "--port", "-p", help="Port on 127.0.0.1."),
        alias: str = typer.Option("champion", "--alias", help="Registry alias whose model version the app serves "
                                  "(e.g. challenger for a shadow view; changeable in the app's sidebar)."),
        review_db: str | None = DB_OPTION) -> int:
    """Serve the clinician review app for a workspace on http://127.0.0.1:PORT (log in with a user of
    `clinfusion users add`)."""
    from clinfusion.review.server import serve_foreground, streamlit_command
    from clinfusion.review.users import list_users
    from clinfusion.workspace import Workspace

    ws = Workspace.open(workspace)
    if not list_users(ws.root, db=review_db):
        console.print(f"[yellow]no users yet[/]: add one with `clinfusion users add NAME --role clinician --workspace {workspace}`")
    cmd, env = streamlit_command(ws.root, port)
    env["CLINFUSION_MODEL_ALIAS"] = alias
    if review_db:
        env["CLINFUSION_REVIEW_DB"] = review_db
    console.print(f"review app on http://127.0.0.1:{port} (Ctrl+C or SIGTERM stops it)")
    return serve_foreground(cmd, env)  # forwards SIGTERM/SIGINT/SIGHUP to Streamlit and waits for it


users_app = typer.Typer(help="Users of the review app (stored with hashed passwords in the workspace).", no_args_is_help=True)


@users_app.command("add")
@writes_workspace("users add")
def users_add(
    username: str = typer.Argument(..., help="User name."),
    role: str = typer.Option(..., "--role", "-r", help="clinician, researcher or admin."),
    workspace: Path = WS_OPTION,
    password: str = typer.Option(..., "--password", prompt=True, hide_input=True, confirmation_prompt=True,
                                 help="Password (prompted when omitted; 8 characters to 72 bytes)."),
    review_db: str | None = DB_OPTION,
) -> int:
    """Add a user (or reset the password and role of an existing one)."""
    from clinfusion.review.users import add_user
    from clinfusion.workspace import Workspace

    add_user(Workspace.open(workspace).root, username, password, role, db=review_db)
    console.print(f"user {username!r} ({role}) saved")
    return 0


@users_app.command("remove")
@writes_workspace("users remove")
def users_remove(username: str = typer.Argument(..., help="User name."), workspace: Path = WS_OPTION,
                 review_db: str | None = DB_OPTION) -> int:
    """Remove a user."""
    from clinfusion.review.users import remove_user
    from clinfusion.workspace import Workspace

    remove_user(Workspace.open(workspace).root, username, db=review_db)
    console.print(f"user {username!r} removed")
    return 0


@users_app.command("list")
def users_list(workspace: Path = WS_OPTION, review_db: str | None = DB_OPTION) -> int:
    """List users and roles (never passwords)."""
    from clinfusion.review.users import list_users
    from clinfusion.workspace import Workspace

    users = list_users(Workspace.open(workspace).root, db=review_db)
    print_frame(pd.DataFrame(users, columns=["username", "role", "created_at"]), title="users")
    return 0


reviews_app = typer.Typer(help="Reviews stored by the review app.", no_args_is_help=True)


@reviews_app.command("export")
def reviews_export(workspace: Path = WS_OPTION,
                   out: Path = typer.Option(..., "--out", "-o", help="Output file: .csv or .parquet."),
                   review_db: str | None = DB_OPTION) -> int:
    """Export every review (user, time, decision, reason, comment) for retraining."""
    from clinfusion.review.reviews import export_reviews
    from clinfusion.workspace import Workspace

    n = export_reviews(Workspace.open(workspace).root, out, db=review_db)
    console.print(f"wrote {n} review(s) to {out}")
    return 0


COMMANDS = {"app": app, "users": users_app, "reviews": reviews_app}
