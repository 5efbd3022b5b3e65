"""The typer application and its error handling; commands are registered explicitly below."""

from __future__ import annotations

import sys

import typer

# typer >= 0.2x vendors click as typer._click; its exceptions are the ones raised here.
from typer._click import exceptions as click_exc

from clinfusion.cli import (
    app_cmds,
    cohort_cmds,
    featurize_cmds,
    import_cmds,
    retrain_cmds,
    synth_cmds,
    train_cmds,
)
from clinfusion.cli.console import STATE, err_console
from clinfusion.errors import ClinFusionError

EXIT_OK, EXIT_ERROR, EXIT_QUARANTINED = 0, 1, 2

app = typer.Typer(
    name="clinfusion",
    help="ClinFusion: ingest, de-identify, featurize, fuse and evaluate multimodal clinical cohorts.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root(debug: bool = typer.Option(False, "--debug", help="Show tracebacks for errors.")) -> None:
    STATE["debug"] = STATE["debug"] or debug


# Explicit registry of command groups: each module exposes COMMANDS = {name: function}.
# A new group is a new module listed here.
COMMAND_MODULES = (cohort_cmds, featurize_cmds, synth_cmds, import_cmds, train_cmds, app_cmds, retrain_cmds)
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
    except ClinFusionError as e:
        if STATE["debug"]:
            raise
        from rich.markup import escape  # "[field]" in messages is not rich markup

        err_console.print(f"[bold red]error[/]: {escape(str(e))}", highlight=False)
        return EXIT_ERROR
    return int(rv or 0)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
