"""Paired comparisons of two models cross-validated on the same folds (Harrell's C).

Two models scored on the same patients are correlated: their C-indices move together from fold to
fold, so the interval of a *difference* is much narrower than the two separate intervals suggest,
and only the difference answers "is A better than B". Two paired intervals, always both:

- **t over folds**: ``d_k = C_A,k - C_B,k`` on each fold k; ``mean(d) +- t_{0.975, K-1} sd(d)/sqrt(K)``.
  With repeated CV (R seeds x K folds) the folds overlap in training data, so the naive variance is
  too small; :func:`corrected_paired_t` applies the Nadeau-Bengio (2003) correction
  ``(1/J + n_test/n_train) sd^2`` instead of ``sd^2 / J``.
- **paired bootstrap over patients** of the pooled out-of-fold risks (each fold's risks z-scored
  with its training risks): each resample draws patients once and scores *both* models on exactly
  those patients (:func:`bootstrap_cindex`), so a model compared with itself gives 0 in every resample.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from clinfusion.evaluation.survival import harrell_c

Outcomes = Callable[[Sequence[str]], tuple[np.ndarray, np.ndarray, np.ndarray]]
"""ids -> (time in days, event, diagnosis class index or -1)."""


def paired_t(diffs: Sequence[float], level: float = 0.95) -> dict[str, float]:
    """t-interval of the mean of paired differences (NaN differences dropped).

    Returns:
        ``{"mean", "low", "high", "sd", "n"}``; NaN bounds with fewer than two differences.
    """
    from scipy.stats import t as student

    d = np.asarray(diffs, float)
    d = d[np.isfinite(d)]
    n = len(d)
    if n < 2:
        m = float(d.mean()) if n else float("nan")
        return {"mean": m, "low": float("nan"), "high": float("nan"), "sd": float("nan"), "n": n}
    m, sd = float(d.mean()), float(d.std(ddof=1))
    half = float(student.ppf(0.5 + level / 2, n - 1) * sd / np.sqrt(n))
    return {"mean": m, "low": m - half, "high": m + half, "sd": sd, "n": n}


def corrected_paired_t(diffs: Sequence[float], test_fraction: float, level: float = 0.95) -> dict[str, float]:
    """Nadeau-Bengio corrected resampled t-interval for R x K repeated-CV differences.

    Args:
        diffs: one difference per (repeat, fold), ``J = R*K`` values.
        test_fraction: ``n_test / n_train`` of one fold (``1/(K-1)`` for K-fold CV).

    Returns:
        as :func:`paired_t` (``sd`` is the plain SD of the differences).
    """
    from scipy.stats import t as student

    d = np.asarray(diffs, float)
    d = d[np.isfinite(d)]
    j = len(d)
    if j < 2:
        return paired_t(d, level)
    m, sd = float(d.mean()), float(d.std(ddof=1))
    half = float(student.ppf(0.5 + level / 2, j - 1) * sd * np.sqrt(1 / j + test_fraction))
    return {"mean": m, "low": m - half, "high": m + half, "sd": sd, "n": j}


def bootstrap_cindex(time: np.ndarray, event: np.ndarray, risks: Mapping[str, np.ndarray], n_boot: int = 200,
                     seed: int = 0) -> dict[str, np.ndarray]:
    """Harrell's C of every model on the *same* bootstrap resamples of patients.

    Shapes:
        time, event, each risk: ``[N]`` (aligned: row i is the same patient for every model);
        output: ``{model: [n_boot]}``, NaN where a resample has no event.
    """
    t, e = np.asarray(time, float), np.asarray(event).astype(int)
    rng = np.random.default_rng(seed)
    out = {m: np.full(n_boot, np.nan) for m in risks}
    for b in range(n_boot):
        ix = rng.integers(0, len(t), len(t))  # one draw of patients, shared by every model
        if e[ix].sum() == 0:
            continue
        for m, r in risks.items():
            out[m][b] = harrell_c(t[ix], e[ix], np.asarray(r, float)[ix])
    return out


def bootstrap_diff(boot_a: np.ndarray, boot_b: np.ndarray, level: float = 0.95) -> dict[str, float]:
    """Percentile interval of ``C_A - C_B`` over shared resamples (from :func:`bootstrap_cindex`).

    Returns:
        ``{"low", "high", "n_boot"}`` (usable resamples); NaN bounds with fewer than 10.
    """
    d = np.asarray(boot_a, float) - np.asarray(boot_b, float)
    d = d[np.isfinite(d)]
    if len(d) < 10:
        return {"low": float("nan"), "high": float("nan"), "n_boot": len(d)}
    a = (1 - level) / 2
    return {"low": float(np.quantile(d, a)), "high": float(np.quantile(d, 1 - a)), "n_boot": len(d)}


def fold_cindex(preds: Sequence[Any], outcomes: Outcomes) -> dict[int, float]:
    """``{fold: Harrell C on its test patients}`` of one model's fold predictions."""
    out = {}
    for p in preds:
        t, e, _ = outcomes(p.test_ids)
        out[p.fold] = harrell_c(t, e, p.test_risk)
    return out


def check_same_folds(a: Sequence[Any], b: Sequence[Any]) -> None:
    """Raise ValueError unless two models' fold predictions cover the same test patients fold by fold."""
    fa, fb = {p.fold: sorted(p.test_ids) for p in a}, {p.fold: sorted(p.test_ids) for p in b}
    if fa.keys() != fb.keys():
        raise ValueError(f"paired comparison: models {a[0].model!r} and {b[0].model!r} have different folds "
                         f"({sorted(fa)} vs {sorted(fb)}); expected the same CV folds")
    for k in fa:
        if fa[k] != fb[k]:
            raise ValueError(f"paired comparison: fold {k} of {a[0].model!r} and {b[0].model!r} holds different "
                             "test patients; expected the same CV folds")


def paired_comparison(name: str, reference: str, fold_c: Mapping[str, Mapping[int, float]],
                      boot: Mapping[str, np.ndarray] | None, pooled_c: Mapping[str, float]) -> dict[str, Any]:
    """Paired difference ``name - reference`` from per-fold C and shared bootstrap resamples.

    Returns:
        ``{"vs", "diff_mean"`` (mean over folds), ``"per_fold"``, ``"t_ci95": [low, high]``,
        ``"diff_pooled"`` (pooled out-of-fold C difference), ``"bootstrap_ci95": [low, high]``,
        ``"n_boot"}``; the bootstrap keys only when ``boot`` is given.
    """
    folds = sorted(fold_c[name])
    diffs = [float(fold_c[name][k] - fold_c[reference][k]) for k in folds]
    t = paired_t(diffs)
    out: dict[str, Any] = {"vs": reference, "diff_mean": t["mean"], "per_fold": diffs, "t_ci95": [t["low"], t["high"]],
                           "diff_pooled": float(pooled_c[name] - pooled_c[reference])}
    if boot is not None:
        b = bootstrap_diff(boot[name], boot[reference])
        out["bootstrap_ci95"], out["n_boot"] = [b["low"], b["high"]], b["n_boot"]
    return out


def compare_pair(predictions: Sequence[Any], name: str, reference: str, outcomes: Outcomes, n_boot: int = 200,
                 seed: int = 0) -> dict[str, Any]:
    """:func:`paired_comparison` of two models picked from a CV run's fold predictions.

    Raises:
        ValueError: a model is missing, or the two were not scored on the same folds.
    """
    by = {m: sorted((p for p in predictions if p.model == m), key=lambda p: p.fold) for m in (name, reference)}
    for m, preds in by.items():
        if not preds:
            raise ValueError(f"paired comparison: no fold predictions of model {m!r}")
    check_same_folds(by[name], by[reference])
    ids0, risks = aligned_pooled_risks(by)
    t, e, _ = outcomes(ids0)
    boot = bootstrap_cindex(t, e, risks, n_boot=n_boot, seed=seed) if n_boot else None
    pooled_c = {m: harrell_c(t, e, r) for m, r in risks.items()}
    return paired_comparison(name, reference, {m: fold_cindex(by[m], outcomes) for m in by}, boot, pooled_c)


def aligned_pooled_risks(by_model: Mapping[str, Sequence[Any]]) -> tuple[list[str], dict[str, np.ndarray]]:
    """Pooled out-of-fold risks of every model (``summary.pooled_risk``: z-scored per fold with its
    training risks), rows in the first model's patient order, so row i is the same patient for all.

    Returns:
        ``(ids [N], {model: risk [N]})``.
    """
    from clinfusion.evaluation.summary import pooled_risk

    names = list(by_model)
    ids0, _, _ = pooled_risk(by_model[names[0]])
    out = {}
    for m in names:
        ids, risk, _ = pooled_risk(by_model[m])
        pos = dict(zip(ids, range(len(ids)), strict=True))
        out[m] = risk[[pos[i] for i in ids0]]
    return ids0, out


def vs_best_classical(predictions: Sequence[Any], models: Mapping[str, Mapping[str, Any]], default: str,
                      outcomes: Outcomes, n_boot: int = 200, seed: int = 0) -> dict[str, Any]:
    """The default model and fusion vs the best classical baseline (``summary.CLASSICAL``, chosen in
    hindsight by mean fold C): ``{"best_classical", "<default>_vs_best_classical": compare_pair(...),
    "fusion_vs_best_classical": ...}`` (benches: the issue's targets)."""
    from clinfusion.evaluation.summary import best_classical

    best = best_classical(dict(models))
    out: dict[str, Any] = {"best_classical": best}
    if best is None:
        return out
    for name in dict.fromkeys([default, "fusion"]):
        if name in models:
            out[f"{name}_vs_best_classical"] = compare_pair(predictions, name, best, outcomes, n_boot, seed)
    return out
