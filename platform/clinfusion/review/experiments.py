"""The workspace's MLflow runs and registered model versions for the app (read-only).

Listing goes through :mod:`clinfusion.tracking.listing` (the only package that imports mlflow);
this module adds the local path of a run's artifacts.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

import pandas as pd


def list_runs(ws_root: str | Path, uri: str | None = None) -> pd.DataFrame:
    """Runs of the workspace's tracking store, newest first (see :func:`clinfusion.tracking.listing.list_runs`)."""
    from clinfusion.tracking.listing import list_runs as _runs

    return _runs(ws_root, uri)


def list_versions(ws_root: str | Path, uri: str | None = None) -> pd.DataFrame:
    """Registered versions with aliases, newest first (see :func:`clinfusion.tracking.listing.list_versions`)."""
    from clinfusion.tracking.listing import list_versions as _versions

    return _versions(ws_root, uri)


def artifact_file(artifact_uri: str, name: str) -> Path:
    """Local path of a run artifact (``file://`` artifact stores only)."""
    parsed = urlparse(artifact_uri)
    return Path(unquote(parsed.path if parsed.scheme == "file" else artifact_uri)) / name


RUN_KINDS = ("train", "retrain", "gate", "drift")


def run_kind(row: pd.Series) -> str:
    """``train``, ``retrain``, ``gate`` or ``drift`` of one :func:`list_runs` row: the ``clinfusion.kind``
    tag (decision runs), else ``retrain`` for a training run that read label overrides
    (``label_overrides.*`` tags), else ``train`` for a run with metrics, else ``other``."""
    tag = row.get("tag:clinfusion.kind")
    if isinstance(tag, str) and tag:
        return tag
    if any(isinstance(row.get(c), str) for c in row.index if str(c).startswith("tag:label_overrides.")):
        return "retrain"
    return "train" if any(str(c).startswith("metric:") and pd.notna(row[c]) for c in row.index) else "other"


def _num(v) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return float("nan")


def runs_overview(runs: pd.DataFrame) -> pd.DataFrame:
    """One named row per run: ``run`` (``<kind> <start time UTC> (<run id[:8]>)``), ``kind``, ``started``,
    ``status``, ``C-index`` (training runs: the first model's ``cindex_pooled``, default model of the run
    when tagged), ``outcome`` (gate: ``promote``/``keep`` and the versions; drift: warnings; retrain:
    overrides applied) and ``run_id``."""
    cols = ["run", "kind", "started", "status", "C-index", "outcome", "run_id"]
    if runs.empty:
        return pd.DataFrame(columns=cols)
    rows = []
    for _, r in runs.iterrows():
        kind = run_kind(r)
        started = pd.Timestamp(r["start_time"]).strftime("%Y-%m-%d %H:%M")
        c = float("nan")
        if kind in ("train", "retrain"):
            default = r.get("param:default_model")
            keys = [f"metric:{default}.cindex_pooled"] if isinstance(default, str) else []
            keys += sorted(k for k in r.index if str(k).endswith(".cindex_pooled") and pd.notna(r[k]))
            c = next((_num(r[k]) for k in keys if k in r.index and pd.notna(r[k])), float("nan"))
        if kind == "gate":
            outcome = (f"{r.get('tag:decision', '?')}: challenger v{r.get('tag:challenger_version', '?')} vs "
                       f"champion v{r.get('tag:champion_version', '?')}")
        elif kind == "drift":
            outcome = f"{int(_num(r.get('metric:drift.n_warnings', 0)) or 0)} drift warnings"
        elif kind == "retrain":
            outcome = f"label overrides applied: {r.get('tag:label_overrides.applied', '?')}"
        else:
            outcome = ""
        rows.append({"run": f"{kind} {started} ({str(r['run_id'])[:8]})", "kind": kind, "started": started,
                     "status": r.get("status", ""), "C-index": c, "outcome": outcome, "run_id": r["run_id"]})
    return pd.DataFrame(rows, columns=cols)


def comparison_table(metrics: dict) -> pd.DataFrame:
    """The default model and its baselines side by side from a training run's ``metrics.json``:
    :func:`clinfusion.evaluation.summary.results_table` (mean C with its 95% t-interval over folds,
    paired ``ΔC`` vs the best baseline and vs fusion from ``models.<name>.paired_vs_best``), plus the
    pooled out-of-fold C (``C pooled``) with its bootstrap interval when recorded."""
    from clinfusion.evaluation.summary import results_table

    if not metrics.get("models"):
        return pd.DataFrame()
    table = results_table(metrics)
    pooled, ci = [], []
    for name in table["model"]:
        m = metrics["models"].get(name, {})
        pooled.append(round(_num(m.get("cindex_pooled")), 3) if "cindex_pooled" in m else "")
        iv = m.get("cindex_pooled_ci95")
        ci.append(f"[{_num(iv[0]):.3f}, {_num(iv[1]):.3f}]" if iv else "")
    table.insert(4, "C pooled", pooled)
    table.insert(5, "C pooled 95% CI", ci)
    return table


def metric_over_time(runs: pd.DataFrame, model: str, metric: str = "cindex_pooled") -> pd.DataFrame:
    """``<model>.<metric>`` of every train/retrain run, oldest first: columns ``started`` (UTC) and the metric."""
    col = f"metric:{model}.{metric}"
    if runs.empty or col not in runs.columns:
        return pd.DataFrame(columns=["started", f"{model} {metric}"])
    sel = runs[[run_kind(r) in ("train", "retrain") for _, r in runs.iterrows()]].dropna(subset=[col])
    return (pd.DataFrame({"started": pd.to_datetime(sel["start_time"]), f"{model} {metric}": sel[col].astype(float)})
            .sort_values("started").reset_index(drop=True))
