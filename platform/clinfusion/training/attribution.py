"""Token-level attributions of the fusion risk: integrated gradients (captum) per token.

For each modality, the tokens' standardised features ``x [N_m, D]`` are integrated from a baseline
of zeros (the training-fold mean token) to their value with captum's ``IntegratedGradients``; the
attribution of a token is the sum over its features. Patients of a batch share no edges, so the
gradient of the summed batch risk with respect to a token is that of its own patient's risk, and
one pass attributes every patient at once. By completeness, a patient's attributions over a
modality add up to ``risk(x) - risk(x with that modality's tokens at the mean)``; the convergence
delta reports how far the Riemann sum is from that.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from clinfusion.training.dataset import CohortData
from clinfusion.training.trainer import FittedFusion, _bundles


def _batch(fit: FittedFusion, data: CohortData, ids: Sequence[str]) -> tuple[Any, list[dict]]:
    from clinfusion.graph import graph_loader
    from clinfusion.training.graphs import patient_graphs

    bundles = _bundles(data, ids, fit.modalities)
    cov = data.covariates.iloc[data.index(ids)] if fit.covariates is not None else None
    graphs = patient_graphs(bundles, fit.modalities, fit.standardizer, fit.config.graph, fit.wide_matrix(bundles, cov))
    return next(iter(graph_loader(graphs, fit.dims, 0))), bundles


def integrated_gradients(fit: FittedFusion, data: CohortData, ids: Sequence[str],
                         modalities: Sequence[str] | None = None, n_steps: int = 32) -> pd.DataFrame:
    """Integrated-gradients attribution of the Cox risk to every token of ``ids``.

    Args:
        fit: a trained fusion model (single or ensemble).
        data: the cohort; ``ids``: patients to explain (one batch).
        modalities: which modalities' tokens to attribute (default: all the model reads).
        n_steps: Riemann steps of the path integral (captum's Gauss-Legendre rule).

    Returns:
        One row per token: ``patient_id, modality, token_index, name, attribution, delta`` where
        ``attribution`` is in units of log-hazard (risk) and ``delta`` is the patient-level
        convergence error of that modality's path integral (same for all of its tokens).
    """
    import torch
    from captum.attr import IntegratedGradients

    model = fit.model
    model.eval()
    batch, bundles = _batch(fit, data, ids)
    rows: list[dict[str, Any]] = []
    for m in modalities or fit.modalities:
        if m not in fit.modalities or batch[m].num_nodes == 0:
            continue
        x0 = batch[m].x.detach().clone()
        owner = batch[m].batch

        def forward(x: torch.Tensor, m: str = m, x0: torch.Tensor = x0) -> torch.Tensor:
            # captum stacks the path points along dim 0: [n_steps * N_m, D]; one model call per point
            chunks = x.split(x0.shape[0])
            risks = []
            for chunk in chunks:
                batch[m].x = chunk
                risks.append(model(batch)["risk"])
            batch[m].x = x0
            return torch.cat(risks)

        ig = IntegratedGradients(forward)
        attr = ig.attribute(x0.clone().requires_grad_(), baselines=torch.zeros_like(x0), n_steps=n_steps)
        per_token = attr.detach().sum(-1).numpy().astype(float)
        with torch.no_grad():
            full = forward(x0).numpy()
            base = forward(torch.zeros_like(x0)).numpy()
        sums = np.zeros(len(ids))
        np.add.at(sums, owner.numpy(), per_token)
        gap = sums - (full - base)  # per patient, completeness error
        counts = np.zeros(len(ids), dtype=int)
        for i, a in zip(owner.numpy(), per_token, strict=True):
            pid = ids[int(i)]
            ts = bundles[int(i)][m]
            j = counts[int(i)]
            counts[int(i)] += 1
            name = ts.names[j] if ts.names is not None and j < len(ts.names) else ""
            rows.append({"patient_id": pid, "modality": m, "token_index": int(j), "name": str(name),
                         "attribution": float(a), "delta": float(gap[int(i)])})
    return pd.DataFrame(rows, columns=["patient_id", "modality", "token_index", "name", "attribution", "delta"])


def attribution_summary(table: pd.DataFrame, top: int = 5) -> pd.DataFrame:
    """Per modality and token name: mean absolute attribution over patients, largest first (top per modality)."""
    if table.empty:
        return table.assign(mean_abs=[])
    g = (table.assign(abs_attr=table.attribution.abs()).groupby(["modality", "name"], sort=False)["abs_attr"]
         .mean().rename("mean_abs").reset_index())
    return g.sort_values(["modality", "mean_abs"], ascending=[True, False]).groupby("modality").head(top).reset_index(drop=True)
