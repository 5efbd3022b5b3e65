"""``clinfusion export-sr``: the served model's prediction per patient as a DICOM Comprehensive SR.

Predictions come from the registered version holding the alias (default ``champion``) through
:mod:`clinfusion.review.predictions`, exactly as the review app shows them; the SR is built by
:mod:`clinfusion.pacs.sr` in the patient's de-identified study (the selected DICOM radiology
series of the catalog) and written to ``--out`` (default ``WS/exports/sr/<pseudonym>.dcm``),
optionally stored with STOW-RS (``--stow URL``; ``--stow-auth basic|bearer`` takes the credentials
from the environment variables NAMED by ``--stow-user-env``/``--stow-password-env`` or
``--stow-token-env``, as a cohort's ``dicomweb.auth`` block does).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from clinfusion.cli.console import console
from clinfusion.cli.locking import writes_workspace


def _reference_header(ws: Any, catalog: Any, pid: str) -> dict[str, Any] | None:
    """The stored de-identified header of the patient's selected DICOM series, or None."""
    from clinfusion.modalities.radiology.read import series_paths

    rows = catalog[(catalog["modality"] == "radiology") & (catalog["patient_id"] == pid)
                   & (catalog["status"] == "ingested")]
    for _, row in rows.iterrows():
        for _, path, rec in series_paths(ws.root, row):
            if rec.get("header"):
                return json.loads((path.parent / rec["header"]).read_text())
    return None


def bin_days(ws: Any, preds: Any) -> list[float]:
    """Each survival bin's end in days, as the served model reports them: the training run's
    ``n_bins`` and its training patients' outcomes through
    :func:`clinfusion.training.servable.report_times`; ``[]`` when they cannot be recovered."""
    from clinfusion.review import serving
    from clinfusion.review.workspace_data import clinical_table
    from clinfusion.training.servable import report_times

    config_path = Path(preds.artifact_dir) / "config.json"
    n_surv = sum(c.startswith("surv_") for c in preds.table.columns)
    if not config_path.exists() or not n_surv:
        return []
    n_bins = int(json.loads(config_path.read_text()).get("model", {}).get("n_bins", 0) or 0)
    clin = clinical_table(ws).set_index("patient_id")
    trained = [p for p in preds.table.index if preds.table.loc[p, "source"] != serving.FINAL and p in clin.index]
    if n_bins != n_surv or not trained:
        return []
    rows = clin.loc[trained].dropna(subset=["survival_time", "event"])
    ends = report_times(rows["survival_time"].to_numpy(float), rows["event"].to_numpy(int), n_bins)
    return [float(e) for e in ends] if len(ends) == n_surv else []


def _prediction(preds: Any, pid: str, days: list[float]) -> Any:
    from clinfusion.pacs.sr import SrPrediction

    band = preds.survival_band(pid)
    contrib = preds.contributions(pid)
    return SrPrediction(
        risk=float(preds.table.loc[pid, "risk"]), percentile=preds.percentile(pid),
        risk_group=str(preds.table.loc[pid, "risk_group"]), source=preds.source(pid), model=preds.model_version,
        survival=[(float(r.survival), float(r.lower), float(r.upper)) for r in band.itertuples()], bin_days=days,
        diagnosis={str(k): float(v) for k, v in preds.diagnosis(pid).items()},
        contributions={str(k): float(v) for k, v in contrib["delta_risk"].dropna().items()})


STOW_AUTH_FIELD = "--stow-auth"


def stow_target(url: str | None, auth: str | None, *, user_env: str | None = None, password_env: str | None = None,
                token_env: str | None = None) -> Any:
    """The STOW-RS server of ``--stow`` as a :class:`~clinfusion.cohort.spec.DicomWebSpec` (auth as
    in cohort.yaml: variable NAMES, never secrets), or ``None`` without ``--stow``. Its auth
    variables are checked at once, before any SR is built.

    Raises:
        ConfigError: auth options without ``--stow``, an unknown auth type, a missing or malformed
            variable name (naming the option), or a named variable that is not set.
    """
    from pydantic import ValidationError

    from clinfusion.cohort.spec import DicomWebAuth, DicomWebSpec
    from clinfusion.errors import ConfigError
    from clinfusion.pacs.client import make_client

    names = {"username_env": user_env, "password_env": password_env, "token_env": token_env}
    options = {"username_env": "--stow-user-env", "password_env": "--stow-password-env", "token_env": "--stow-token-env"}
    if url is None:
        if auth or any(names.values()):
            raise ConfigError("authentication options need --stow URL", field=STOW_AUTH_FIELD)
        return None
    if auth is None and any(names.values()):
        raise ConfigError("give --stow-auth basic or bearer with the variable names", field=STOW_AUTH_FIELD)
    try:
        cred = DicomWebAuth(type=auth, **{k: v for k, v in names.items() if v}) if auth else None  # pydantic checks the Literal
        cfg = DicomWebSpec(url=url, auth=cred)
    except ValidationError as err:
        e = err.errors()[0]
        msg = str(e["msg"]).removeprefix("Value error, ")
        field = options.get(str(e["loc"][-1]), "--stow") if e["loc"] and e["loc"] != ("type",) else STOW_AUTH_FIELD
        for key, option in options.items():
            if f"`{key}`" in msg:  # the auth validator names the missing key
                msg, field = msg.replace(f"`{key}`", option), option
        raise ConfigError(msg, field=field) from None
    make_client(cfg, field=STOW_AUTH_FIELD)  # a named variable that is unset fails here, before any work
    return cfg


def _reidentifier(ws: Any, cohort_dir: Path, folder: Path) -> Any:
    """``header -> identified reference`` (:mod:`clinfusion.pacs.reidentify`); refuses an output
    folder inside the workspace (no raw identifier may land there)."""
    from clinfusion.cohort.spec import load_cohort_spec
    from clinfusion.errors import ConfigError
    from clinfusion.pacs.reidentify import original_reference
    from clinfusion.privacy import Pseudonymizer, load_key

    if Path(folder).resolve().is_relative_to(ws.root.resolve()):
        raise ConfigError("re-identified SRs hold raw identifiers: give --out outside the workspace", field="--out")
    spec = load_cohort_spec(cohort_dir)
    pz = Pseudonymizer(load_key(ws.root))
    return lambda header: original_reference(spec, pz, header)


@writes_workspace("export-sr")
def export_sr(
    workspace: Path = typer.Option(..., "--workspace", "-w", help="Workspace directory."),
    patient: list[str] = typer.Option(None, "--patient", "-p", help="Pseudonym (repeatable)."),
    every: bool = typer.Option(False, "--all", help="Every patient with a prediction and a DICOM study."),
    stow: str = typer.Option(None, "--stow", help="DICOMweb base URL to store the SRs in (STOW-RS)."),
    stow_auth: str = typer.Option(None, "--stow-auth", help="basic or bearer: authenticate the STOW-RS requests."),
    stow_user_env: str = typer.Option(None, "--stow-user-env", help="NAME of the variable holding the basic user."),
    stow_password_env: str = typer.Option(None, "--stow-password-env", help="NAME of the variable holding the basic password."),
    stow_token_env: str = typer.Option(None, "--stow-token-env", help="NAME of the variable holding the bearer token."),
    out: Path = typer.Option(None, "--out", help="Folder for the SR files (default WS/exports/sr)."),
    alias: str = typer.Option("champion", "--alias", help="Registry alias of the served model."),
    reidentify: Path = typer.Option(None, "--reidentify", help="Cohort directory: put the SR in the ORIGINAL "
                                    "study (raw UIDs and patient identity, found with the key); needs --out outside WS."),
) -> int:
    """Write each patient's prediction as a Comprehensive SR in their de-identified study (optionally STOW-RS)."""
    from pydicom.uid import generate_uid

    from clinfusion.errors import ConfigError
    from clinfusion.pacs.sr import prediction_sr, reference_dataset, store
    from clinfusion.review.predictions import load_predictions
    from clinfusion.workspace import atomic
    from clinfusion.workspace.catalog import read_catalog
    from clinfusion.workspace.workspace import Workspace

    if bool(patient) == every:
        raise ConfigError("give --patient PSEUDONYM (repeatable) or --all", field="--patient/--all")
    target = stow_target(stow, stow_auth, user_env=stow_user_env, password_env=stow_password_env, token_env=stow_token_env)
    ws = Workspace.open(workspace)
    preds, why = load_predictions(ws.root, alias=alias)
    if preds is None:
        raise ConfigError(why, file=ws.root, field="--alias")
    catalog = read_catalog(ws)
    wanted = list(patient) if patient else sorted(preds.table.index)
    unknown = [p for p in wanted if p not in preds.table.index]
    if unknown:
        raise ConfigError(f"no prediction for {unknown[0]!r} under {preds.model_version}", field="--patient")
    folder = out or ws.root / "exports" / "sr"
    original = _reidentifier(ws, reidentify, folder) if reidentify else None
    written, days = 0, bin_days(ws, preds)
    for pid in wanted:
        header = _reference_header(ws, catalog, pid)
        if header is None:
            if patient:
                raise ConfigError(f"{pid} has no ingested DICOM radiology study to reference", field="--patient")
            continue
        ref = original(header) if original else reference_dataset(header)
        seed = [str(ref.StudyInstanceUID), preds.model_version]  # stable: a re-export replaces the same SR
        sr = prediction_sr(ref, _prediction(preds, pid, days), series_uid=generate_uid(entropy_srcs=[*seed, "series"]),
                           sop_uid=generate_uid(entropy_srcs=[*seed, "sop"]))
        with atomic.atomic_path(folder / f"{pid}.dcm") as tmp:
            sr.save_as(tmp, enforce_file_format=True)
        if target is not None:
            store(sr, stow, target)
        written += 1
    console.print(f"wrote {written} SR(s) to {folder}" + (f" and stored them at {stow}" if stow else ""), highlight=False)
    return 0


COMMANDS = {"export-sr": export_sr}
