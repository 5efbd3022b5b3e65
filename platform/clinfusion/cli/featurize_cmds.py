"""``clinfusion featurize``: run modality encoders over a workspace, with the token cache."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import typer

from clinfusion.cli.console import console, err_console, print_frame
from clinfusion.cli.locking import writes_workspace

EXIT_FAILED = 2


@writes_workspace("featurize")
def featurize(
    workspace: Path = typer.Option(..., "--workspace", "-w", help="Workspace directory (ingested)."),
    modality: list[str] = typer.Option(None, "--modality", "-m", help="Modality (repeatable); default: every "
                                       "ingested modality that has encoders."),
    encoder: str = typer.Option(None, "--encoder", "-e", help="Encoder name (default: the modality's default)."),
    workers: int = typer.Option(1, help="Worker processes."),
    force: bool = typer.Option(False, help="Recompute even when cached."),
    option: list[str] = typer.Option(None, "--option", "-o", help="Encoder option KEY=VALUE (repeatable; VALUE "
                                     "read as YAML/JSON), e.g. -e timm -o model_dir=DIR -o batch_size=64; "
                                     "`clinfusion encoders` lists each encoder's options."),
    config: Path = typer.Option(None, "--config", "-c", help="YAML file: one block per modality with 'encoder:' "
                                "and 'options:' (see docs/encoders.md)."),
) -> int:
    """Turn ingested data into tokens per (patient, modality); cached by content hash."""
    from rich.markup import escape

    from clinfusion.errors import ClinFusionError
    from clinfusion.featurize import featurize as run
    from clinfusion.featurize.options import validate_options
    from clinfusion.modalities.registry import encoder_class, encoders
    from clinfusion.workspace import Workspace, read_catalog

    ws = Workspace.open(workspace)
    cat = read_catalog(ws)
    present = sorted(set(cat.loc[cat["status"] == "ingested", "modality"]))
    plan = featurize_plan(present, modality, encoder, option, config, has_encoders=lambda m: bool(encoders(m)))
    if not plan:
        err_console.print("nothing to featurize: no ingested modality has encoders yet")
        return 0
    jobs = []  # every encoder is resolved and its options validated before any modality runs
    for m, (name, options, source) in plan.items():
        cls = encoder_class(m, name)
        enc = cls(validate_options(cls.Config, options, f"{m} encoder {cls.name!r} ({source})"))
        enc.check_weights()  # no weights and no random_init: stop before any modality runs
        jobs.append((m, enc))
    rows, failed = [], 0
    for m, enc in jobs:
        try:
            rep = run(ws, enc, workers=workers, force=force)
        except ClinFusionError as err:  # one modality's setup failing must not stop the others
            err_console.print(f"[red]{m}[/]: {escape(str(err))}", highlight=False)
            rows.append({"modality": m, "encoder": enc.name, "encoded": 0, "cached": 0, "failed": "all", "seconds": 0})
            failed += 1
            continue
        rows.append(rep.as_dict())
        failed += len(rep.failed)
        for pid, reason in sorted(rep.recomputed.items()):  # a cached file that failed verification
            err_console.print(f"  [yellow]{m}[/] {pid}: cache not trusted, recomputed ({escape(reason)})", highlight=False)
        for pid, reason in sorted(rep.failed.items()):
            err_console.print(f"  [yellow]{m}[/] {pid}: {escape(reason)}", highlight=False)
    table = pd.DataFrame(rows)[["modality", "encoder", "encoded", "cached", "failed", "seconds"]]
    print_frame(table, title="featurize")
    console.print(f"tokens under {ws.tokens_dir}")
    if failed:
        raise typer.Exit(EXIT_FAILED)
    return 0


def featurize_plan(present: list[str], modality: list[str] | None, encoder: str | None, option: list[str] | None,
                   config: Path | None, *, has_encoders) -> dict[str, tuple[str | None, dict, str]]:
    """``{modality: (encoder name or None, options, where they came from)}`` of one featurize call.

    Without ``--config``: ``-e``/``--option`` apply to every modality asked for (default: every
    ingested one with encoders). With it: the file's blocks (restricted to ``-m`` when given);
    ``-e``/``--option`` then override the file for a single ``-m`` only.

    Raises:
        ConfigError: ``-e``/``--option`` together with ``--config`` and not exactly one ``-m``.
    """
    from clinfusion.configio import parse_options
    from clinfusion.errors import ConfigError
    from clinfusion.featurize.config import FeaturizeBlock, load_featurize_config

    cli_options = parse_options(option)
    if config is None:
        wanted = list(modality) if modality else [m for m in present if has_encoders(m)]
        return {m: (encoder, cli_options, "--option KEY=VALUE") for m in wanted}
    blocks = load_featurize_config(config)
    if (encoder or cli_options) and (not modality or len(modality) != 1):
        raise ConfigError("--encoder/--option together with --config override one modality's block: "
                          "give exactly one --modality", file=config, field="--modality")
    chosen = {m: blocks.get(m, FeaturizeBlock()) for m in modality} if modality else blocks
    out = {}
    for m, block in chosen.items():
        name = encoder or block.encoder
        options = {**(block.options if not encoder or encoder == block.encoder else {}), **cli_options}
        out[m] = (name, options, f"{config}{' + --option' if cli_options else ''}")
    return out


COMMANDS = {"featurize": featurize}
