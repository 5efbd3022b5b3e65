"""``clinfusion encoders``: every registered encoder with its options, defaults and weights needs."""

from __future__ import annotations

import json

import typer

from clinfusion.cli.console import console


def encoder_catalog(modalities: list[str]) -> list[dict]:
    """``[{"modality", "encoder", "default", "needs_weights", "weights_options", "options": [...]}]``."""
    from clinfusion.featurize.options import describe_options
    from clinfusion.modalities.registry import default_encoder, encoders

    out = []
    for m in modalities:
        reg = encoders(m)
        if not reg:
            continue
        default = default_encoder(m)
        for name, found in sorted(reg.items()):
            cls = found
            out.append({"modality": m, "encoder": name, "default": name == default,
                        "needs_weights": bool(getattr(cls, "needs_weights", False)),
                        "weights_options": list(getattr(cls, "weights_options", ())),
                        "random_init": "random_init" in cls.Config.model_fields,
                        "options": describe_options(cls.Config)})
    return out


def encoders_command(
    modality: str = typer.Option(None, "--modality", "-m", help="Only this modality's encoders."),
    as_json: bool = typer.Option(False, "--json", help="Print the catalog as JSON."),
) -> int:
    """List every registered encoder with its options (--option KEY=VALUE), defaults and weights needs."""
    from rich.markup import escape
    from rich.table import Table

    from clinfusion.modalities.registry import plugin, registered_modalities

    names = [plugin(modality).name] if modality else registered_modalities()
    catalog = encoder_catalog(names)
    if as_json:
        print(json.dumps(catalog, indent=1))
        return 0
    for entry in catalog:
        option = (entry["weights_options"] or ["model_dir"])[0]
        alt = " (or random_init=true)" if entry["random_init"] else ""
        weights = f"needs weights: --option {option}=PATH{alt}" if entry["needs_weights"] else "no weights needed"
        title = f"{entry['modality']} / {entry['encoder']}{' (default)' if entry['default'] else ''} -- {weights}"
        table = Table(title=escape(title), title_justify="left")
        for col in ("option", "type", "default", "description"):
            table.add_column(col)
        for row in entry["options"]:
            table.add_row(*(escape(row[c]) for c in ("option", "type", "default", "description")))
        if not entry["options"]:
            table.add_row("(no options)", "", "", "")
        console.print(table)
    return 0


COMMANDS = {"encoders": encoders_command}
