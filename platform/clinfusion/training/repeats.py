"""``clinfusion train --repeats R``: the cross-validation repeated with R seeds, mean and spread per model.

Repeat 0 is the run ``clinfusion train`` already made (``config.seed``); repeat r > 0 uses seed
``config.seed + 1000 r`` for the fold assignment (stratified k-fold) and for every model's
initialisation. With split files (``--splits`` or the cohort's ``splits/``) the folds are fixed and
only the initialisation changes; the results say which.

Paired differences are pooled over all R x K (repeat, fold) pairs. Those folds share training
patients, so the plain t-interval would be too narrow; the interval is the Nadeau-Bengio corrected
resampled t (:func:`clinfusion.evaluation.paired.corrected_paired_t`, variance factor
``1/J + n_test/n_train``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from clinfusion.training.config import TrainConfig

SEED_STEP = 1000
"""Seed of repeat r: ``config.seed + SEED_STEP * r`` (far apart, so inner seeds ``seed + k`` never collide)."""


def repeat_seeds(seed: int, repeats: int) -> list[int]:
    """Seeds of repeats 0..R-1 (repeat 0 is ``seed`` itself)."""
    return [seed + SEED_STEP * r for r in range(repeats)]


def fold_cindices(predictions: Sequence[Any], outcomes: Callable) -> dict[str, list[float]]:
    """``{model: [Harrell C per fold, fold order]}`` of one CV run's predictions."""
    from clinfusion.evaluation.paired import fold_cindex

    names = list(dict.fromkeys(p.model for p in predictions))
    out = {}
    for m in names:
        per = fold_cindex([p for p in predictions if p.model == m], outcomes)
        out[m] = [float(per[k]) for k in sorted(per)]
    return out


def summarize_repeats(per_repeat: list[dict[str, list[float]]], test_fraction: float, seeds: list[int],
                      fold_assignment: str, default_model: str | None = None) -> dict[str, Any]:
    """Mean and spread per model over repeats, paired differences over repeats x folds.

    Args:
        per_repeat: one ``{model: [C per fold]}`` per repeat (models missing from a repeat are skipped there).
        test_fraction: ``n_test / n_train`` of a fold (``1 / (K - 1)`` for K-fold).

    Returns:
        ``{"n", "seeds", "fold_assignment", "models": {m: {"cindex_mean_per_repeat", "mean", "sd_across_repeats",
        "min", "max", "cindex_sd_within"}}, "best_baseline", "paired_vs_best": {m: {...}},
        "paired_vs_fusion": {m: {...}}}``; each paired entry is ``{"vs", "diff_mean", "ci95": [low, high],
        "sd", "n"}`` (Nadeau-Bengio corrected t over the R x K differences).
    """
    from clinfusion.evaluation.paired import corrected_paired_t
    from clinfusion.evaluation.summary import best_baseline

    names = list(dict.fromkeys(m for rep in per_repeat for m in rep))
    models: dict[str, dict[str, Any]] = {}
    for m in names:
        means = [float(np.nanmean(rep[m])) for rep in per_repeat if m in rep]
        within = [float(np.nanstd(rep[m], ddof=1)) for rep in per_repeat if m in rep and len(rep[m]) > 1]
        models[m] = {"cindex_mean_per_repeat": means, "mean": float(np.mean(means)),
                     "sd_across_repeats": float(np.std(means, ddof=1)) if len(means) > 1 else 0.0,
                     "min": float(np.min(means)), "max": float(np.max(means)),
                     "cindex_sd_within": float(np.mean(within)) if within else float("nan"),
                     "cindex_mean": float(np.mean(means))}  # key best_baseline reads
    best = best_baseline(models, default_model)
    out: dict[str, Any] = {"n": len(per_repeat), "seeds": seeds, "fold_assignment": fold_assignment,
                           "models": models, "best_baseline": best}
    for key, ref in (("paired_vs_best", best), ("paired_vs_fusion", "fusion" if "fusion" in models else None)):
        out[key] = {}
        if ref is None:
            continue
        for m in names:
            diffs = [a - b for rep in per_repeat if m in rep and ref in rep for a, b in zip(rep[m], rep[ref], strict=True)]
            t = corrected_paired_t(diffs, test_fraction)
            out[key][m] = {"vs": ref, "diff_mean": t["mean"], "ci95": [t["low"], t["high"]], "sd": t["sd"], "n": t["n"]}
    for m in models:
        models[m].pop("cindex_mean")
    return out


def run_repeats(data, config: TrainConfig, first: dict[str, list[float]], repeats: int,
                splits_for: Callable[[int], list], fold_assignment: str,
                progress: Callable[[str], None] | None = None, executor=None) -> dict[str, Any]:
    """Repeats 1..R-1 of the CV (repeat 0 is ``first``: its ``{model: [C per fold]}``), summarised.

    Args:
        data: the cohort (:class:`~clinfusion.training.dataset.CohortData`).
        splits_for: seed -> the folds of that repeat (the same folds for every seed with split files).
        executor: as for :func:`clinfusion.training.cv.run_cv`.
    """
    from clinfusion.training.cv import run_cv

    seeds = repeat_seeds(config.seed, repeats)

    def outcomes(ids):
        ix = data.index(ids)
        return data.time[ix], data.event[ix], data.diagnosis[ix]

    per_repeat = [first]
    fractions = []
    for r, seed in enumerate(seeds[1:], start=1):
        if progress:
            progress(f"repeat {r + 1}/{repeats} (seed {seed})")
        splits = splits_for(seed)
        fractions += [len(s.val) / max(len(s.train), 1) for s in splits]
        run = run_cv(data, splits, config.model_copy(update={"seed": seed}), progress, executor)
        per_repeat.append(fold_cindices(run.predictions, outcomes))
    return summarize_repeats(per_repeat, float(np.mean(fractions)), seeds, fold_assignment,
                             getattr(config, "default_model", None))


def repeat_workspace(ws, config: TrainConfig, result: dict[str, Any], repeats: int, *, splits_dir: Path | None = None,
                     folds: int | None = None, progress: Callable[[str], None] | None = None,
                     executor=None) -> dict[str, Any]:
    """``result["repeats"]`` of ``clinfusion train --repeats R`` for a workspace already trained once.

    ``result`` is what :func:`clinfusion.experiment.train_workspace` returned (its per-fold C is repeat 0).
    """
    from clinfusion.training.cv import default_splits
    from clinfusion.training.dataset import load_cohort
    from clinfusion.training.experiment_parts import choose_splits

    data = load_cohort(ws, config.modalities, config.encoders, config.covariates)
    fixed, source = choose_splits(ws, data, config, splits_dir, folds)
    reshuffle = source.startswith("stratified")
    k = len(fixed)

    def splits_for(seed: int) -> list:
        return default_splits(data, k, seed) if reshuffle else fixed

    first = {m: [float(c) for c in r["cindex"]] for m, r in result["models"].items()}
    how = "stratified k-fold reshuffled per seed" if reshuffle else f"fixed ({source}); only initialisation varies"
    return run_repeats(data, config, first, repeats, splits_for, how, progress, executor)


def repeats_table(rep: dict[str, Any], order: Sequence[str] | None = None) -> Any:
    """One row per model: mean C over repeats, SD across repeats, range, paired differences (pandas DataFrame)."""
    import pandas as pd

    from clinfusion.evaluation.summary import paired_cell

    rows = []
    for m in order or list(rep["models"]):
        if m not in rep["models"]:
            continue
        r = rep["models"][m]
        row = {"model": m, "C mean": round(r["mean"], 3), "SD across repeats": round(r["sd_across_repeats"], 3),
               "range": f"{r['min']:.3f}-{r['max']:.3f}"}
        for key, label in (("paired_vs_best", f"ΔC vs {rep.get('best_baseline')}"), ("paired_vs_fusion", "ΔC vs fusion")):
            p = rep.get(key, {}).get(m)
            if p:
                row[label] = paired_cell({"vs": p["vs"], "diff_mean": p["diff_mean"], "t_ci95": p["ci95"]}, m)
        rows.append(row)
    return pd.DataFrame(rows).fillna("")
