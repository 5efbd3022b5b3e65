"""The typer application and its error handling; commands are registered explicitly below."""

from __future__ import annotations

import sys

import typer
from pydantic import ValidationError

# typer >= 0.2x vendors click as typer._click; its exceptions are the ones raised here.
from typer._click import exceptions as click_exc

from clinfusion.cli import (
    app_cmds,
    cohort_cmds,
    encoder_cmds,
    featurize_cmds,
    import_cmds,
    pacs_cmds,
    privacy_cmds,
    retrain_cmds,
    synth_cmds,
    train_cmds,
)
from clinfusion.cli.console import STATE, err_console
from clinfusion.configio import validation_error
from clinfusion.errors import ClinFusionError
from clinfusion.workspace.workspace import private_umask

EXIT_OK, EXIT_ERROR, EXIT_QUARANTINED = 0, 1, 2

app = typer.Typer(
    name="clinfusion",
    help="ClinFusion: ingest, de-identify, featurize, fuse and evaluate multimodal clinical cohorts.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root(debug: bool = typer.Option(False, "--debug", help="Show tracebacks for errors."),
          lock_timeout: float = typer.Option(None, "--lock-timeout", envvar="CLINFUSION_LOCK_TIMEOUT",
                                             help="Seconds a command that writes a workspace waits for another "
                                             "writer's lock before exiting 1 (default 1800).")) -> None:
    STATE["debug"] = STATE["debug"] or debug
    STATE["lock_timeout"] = lock_timeout


# Explicit registry of command groups: each module exposes COMMANDS = {name: function}.
# A new group is a new module listed here.
COMMAND_MODULES = (cohort_cmds, featurize_cmds, encoder_cmds, synth_cmds, import_cmds, train_cmds, app_cmds, retrain_cmds, pacs_cmds, privacy_cmds)
for _module in COMMAND_MODULES:
    for _name, _fn in _module.COMMANDS.items():
        if isinstance(_fn, typer.Typer):  # a sub-group, e.g. `clinfusion import tcga`
            app.add_typer(_fn, name=_name)
        else:
            app.command(_name)(_fn)


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app and map errors to exit codes."""
    args = sys.argv[1:] if argv is None else argv
    STATE["debug"] = "--debug" in args
    args = [a for a in args if a != "--debug"]  # accepted anywhere on the line, not only first
    private_umask()  # workspace files 0600, folders 0700 (clinfusion.workspace.workspace)
    try:
        rv = app(args=args, standalone_mode=False, prog_name="clinfusion")
    except typer.Exit as e:
        return int(e.exit_code)
    except click_exc.NoArgsIsHelpError as e:
        e.show(file=sys.stderr)
        return EXIT_ERROR
    except click_exc.UsageError as e:
        e.show(file=sys.stderr)
        return EXIT_ERROR
    except typer.Abort:
        err_console.print("aborted")
        return EXIT_ERROR
    except (ClinFusionError, ValidationError) as e:
        if STATE["debug"]:
            raise
        print_error(e)
        return EXIT_ERROR
    except PermissionError as e:  # e.g. a folder made read-only during a run, outside the workspace's own writes
        if STATE["debug"]:
            raise
        print_error(ClinFusionError(f"permission denied ({e.strerror}); check the folder's permissions",
                                    file=e.filename or ""))
        return EXIT_ERROR
    return int(rv or 0)


def print_error(err: ClinFusionError | ValidationError) -> None:
    """The one-line readable message of an error (no traceback).

    A pydantic error that escaped a config loader (a config object built in code from CLI values)
    becomes a :class:`ConfigError` naming the config class as the source and the field.
    """
    from rich.markup import escape  # "[field]" in messages is not rich markup

    if isinstance(err, ValidationError):
        err = validation_error(err, err.title)
    err_console.print(f"[bold red]error[/]: {escape(str(err))}", highlight=False)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
