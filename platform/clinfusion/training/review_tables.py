"""Per-patient tables the review app needs, logged as MLflow artifacts of ``clinfusion train``.

- ``embeddings.csv``: the final fusion model's fused embedding of each patient (``patient_id``,
  ``emb_<j>``), for the cohort similarity graph (:func:`clinfusion.graph.cohort_similarity_graph`).
- ``fold_predictions.csv``: each cross-validation fold's fusion model applied to every patient
  (``patient_id``, ``fold``, ``held_out``, ``risk``, ``surv_<k>``, ``p_<class>``). The row with
  ``held_out`` true is the patient's out-of-fold prediction (the fold model that did not see the
  patient), which the review app serves for training patients; the spread across folds is the
  model (training-set) uncertainty band of a patient's survival curve.
- ``token_attention.parquet``: the final model's attention-pooling weight of every token of every
  patient (long format, see :func:`token_attention_frame`), for the slide attention heatmap.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from clinfusion.cohort.splits import Split
from clinfusion.featurize.tokens import TokenSet

ATTENTION_COLUMNS = ["patient_id", "modality", "token_index", "weight", "group", "pos_0", "pos_1", "source"]


def embeddings_table(patient_ids: Sequence[str], embedding: np.ndarray) -> pd.DataFrame:
    """Fused embeddings ``[N, H]`` as a frame with a ``patient_id`` column."""
    emb = np.asarray(embedding)
    if emb.ndim != 2 or emb.shape[0] != len(patient_ids):
        raise ValueError(f"embedding must be [N={len(patient_ids)}, H], got {emb.shape}")
    out = pd.DataFrame(emb, columns=[f"emb_{j}" for j in range(emb.shape[1])])
    out.insert(0, "patient_id", list(patient_ids))
    return out


def fold_predictions_table(fits: Sequence, splits: Sequence, data, patient_ids: Sequence[str]) -> pd.DataFrame:
    """Every fold's fusion model on every patient (long format, one row per patient and fold).

    Args:
        fits: the fold models, in the order of ``splits``.
        splits: the CV splits (``fold``, ``train``, ``val``); a patient in ``val`` of a split is
            held out of that fold's model.
        data: the cohort; patient_ids: the patients to predict.

    Returns:
        ``patient_id``, ``fold``, ``held_out`` (bool: out-of-fold for this patient), ``risk``,
        ``surv_<k>`` and, with a diagnosis head, ``p_<class>``.

    Raises:
        ValueError: ``fits`` and ``splits`` differ in length.
    """
    from clinfusion.training.outputs import predictions_frame
    from clinfusion.training.trainer import predict_fusion

    if len(fits) != len(splits):
        raise ValueError(f"{len(fits)} fold models for {len(splits)} splits")
    return stack_fold_frames([(split, predictions_frame(fit, predict_fusion(fit, data, patient_ids)))
                              for fit, split in zip(fits, splits, strict=True)], patient_ids)


def stack_fold_frames(per_fold: Sequence[tuple[Split, pd.DataFrame]], patient_ids: Sequence[str]) -> pd.DataFrame:
    """One prediction table per fold (rows in the order of ``patient_ids``) stacked into the format
    of :func:`fold_predictions_table`: ``patient_id``, ``fold``, ``held_out`` (the patient is in
    that split's ``val``) before each frame's own columns; an empty table without folds.

    Args:
        per_fold: ``(split, frame)`` pairs. The frames are modified (the three columns are inserted).
    """
    frames = []
    for split, f in per_fold:
        held = set(split.val)
        f.insert(0, "held_out", [p in held for p in patient_ids])
        f.insert(0, "fold", int(split.fold))
        f.insert(0, "patient_id", list(patient_ids))
        frames.append(f)
    return (pd.concat(frames, ignore_index=True) if frames
            else pd.DataFrame(columns=["patient_id", "fold", "held_out", "risk"]))


def token_attention_frame(patient_ids: Sequence[str], bundles: Sequence[Mapping[str, TokenSet]],
                          attention: Mapping[str, np.ndarray]) -> pd.DataFrame:
    """Per-token attention weights of a batch as a long table.

    A batch concatenates each modality's tokens patient after patient, in token order (the graph
    node order of :func:`~clinfusion.graph.build.build_patient_graph`), so patient ``i``'s weights
    are the next ``n_tokens`` entries of ``attention[m]``.

    Args:
        patient_ids: the batch's patients, in batch order.
        bundles: their tokens by modality (absent modalities missing), in batch order.
        attention: ``{modality: [sum of the batch's tokens]}`` pooling weights (the model's
            ``attention`` output).

    Returns:
        One row per token: ``patient_id``, ``modality``, ``token_index``, ``weight`` (float32, sums
        to 1 per patient and modality), ``group`` (slide / window / report index; -1 without),
        ``pos_0``, ``pos_1`` (the token's position, NaN without; pathology: tile top-left x, y in
        level-0 px) and ``source`` (pathology: the slide's catalog item id, else empty).

    Raises:
        ValueError: the weights of a modality do not match the bundles' token counts.
    """
    frames = []
    for m, weights in attention.items():
        w = np.asarray(weights, np.float32).ravel()
        counts = [b[m].n_tokens if m in b else 0 for b in bundles]
        if sum(counts) != len(w):
            raise ValueError(f"{m}: {len(w)} attention weights for {sum(counts)} tokens")
        start = 0
        for pid, b, n in zip(patient_ids, bundles, counts, strict=True):
            if n:
                frames.append(_token_rows(pid, m, b[m], w[start : start + n]))
            start += n
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=ATTENTION_COLUMNS)


def _token_rows(pid: str, modality: str, ts: TokenSet, weights: np.ndarray) -> pd.DataFrame:
    n = ts.n_tokens
    pos = np.full((n, 2), np.nan, np.float32)
    if ts.positions is not None:
        k = min(2, ts.positions.shape[1])
        pos[:, :k] = ts.positions[:, :k]
    group = ts.groups if ts.groups is not None else np.full(n, -1, np.int64)
    slides = ts.meta.get("slides") if modality == "pathology" else None
    source = [str(slides[g]) if slides and 0 <= g < len(slides) else "" for g in group]
    return pd.DataFrame({"patient_id": pid, "modality": modality, "token_index": np.arange(n, dtype=np.int32),
                         "weight": weights, "group": group.astype(np.int32), "pos_0": pos[:, 0], "pos_1": pos[:, 1],
                         "source": source})


def token_attention_table(fit, data, patient_ids: Sequence[str]) -> pd.DataFrame:
    """:func:`token_attention_frame` of a fitted fusion model on cohort patients (one eval batch)."""
    import torch

    from clinfusion.graph import graph_loader
    from clinfusion.training.graphs import patient_graphs
    from clinfusion.training.trainer import _bundles

    bundles = _bundles(data, patient_ids, fit.modalities)
    covariates = data.covariates.iloc[data.index(patient_ids)] if fit.covariates is not None else None
    graphs = patient_graphs(bundles, fit.modalities, fit.standardizer, fit.config.graph, fit.wide_matrix(bundles, covariates))
    fit.model.eval()
    with torch.no_grad():
        out = fit.model(next(iter(graph_loader(graphs, fit.dims, 0))))
    return token_attention_frame(patient_ids, bundles, {m: w.numpy() for m, w in out["attention"].items()})
