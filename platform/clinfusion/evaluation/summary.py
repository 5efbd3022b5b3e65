"""Per-fold and pooled metrics of cross-validated risk predictions for every model, their calibration
and paired comparisons (``summarize``), and the results table of ``clinfusion train`` (``results_table``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from clinfusion.evaluation.diagnosis import diagnosis_metrics
from clinfusion.evaluation.survival import (
    eval_times,
    harrell_c,
    ibs,
    risk_groups,
    risk_to_survival,
    td_auc,
    uno_c,
)

Outcomes = Callable[[Sequence[str]], tuple[np.ndarray, np.ndarray, np.ndarray]]
"""ids -> (time in days, event, diagnosis class index or -1)."""


def _nanmean(v: list[float]) -> float:
    a = np.asarray(v, float)
    return float(np.nanmean(a)) if np.isfinite(a).any() else float("nan")


def fold_metrics(pred: Any, outcomes: Outcomes) -> dict[str, float]:
    """Metrics of one model on one fold (``pred`` has train/test ids, risks and optional proba)."""
    from sksurv.exceptions import NoComparablePairException

    t_tr, e_tr, _ = outcomes(pred.train_ids)
    t_te, e_te, d_te = outcomes(pred.test_ids)
    times = eval_times(t_tr, e_tr, t_te)
    out = {"cindex": harrell_c(t_te, e_te, pred.test_risk), "uno_c": float("nan"), "td_auc": float("nan"), "ibs": float("nan")}
    try:
        out["uno_c"] = uno_c(t_tr, e_tr, t_te, e_te, pred.test_risk, tau=float(times[-1]) if len(times) else None)
        out["td_auc"] = td_auc(t_tr, e_tr, t_te, e_te, pred.test_risk, times)
        surv = risk_to_survival(pred.train_risk, t_tr, e_tr, pred.test_risk, times)
        out["ibs"] = ibs(t_tr, e_tr, t_te, e_te, surv, times)
    except (ValueError, NoComparablePairException):  # tiny folds: horizons outside follow-up, no pairs -> NaN
        pass
    out["logrank_p"] = risk_groups(pred.train_risk, t_te, e_te, pred.test_risk).logrank_p
    if pred.test_proba is not None:
        out.update(diagnosis_metrics(d_te, pred.test_proba))
    return out


def pooled_risk(preds: Sequence[Any]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Test risks of all folds on one scale (z-scored with each fold's training risks) and high-risk flags
    (above the fold's training median)."""
    ids, risk, high = [], [], []
    for p in preds:
        mu, sd = p.train_risk.mean(), p.train_risk.std() or 1.0
        ids += list(p.test_ids)
        risk.append((p.test_risk - mu) / sd)
        high.append(p.test_risk > np.median(p.train_risk))
    return ids, np.concatenate(risk), np.concatenate(high)


def summarize(predictions: Sequence[Any], outcomes: Outcomes, n_boot: int = 200, seed: int = 0,
              default_model: str | None = None, calibration: bool = True) -> dict[str, dict[str, Any]]:
    """Metrics of every model, its calibration, and paired comparisons with the references.

    Args:
        predictions: fold predictions of every model on the same folds.
        n_boot: bootstrap resamples of patients (0: no bootstrap intervals; the paired t-intervals over
            folds are always computed). The resamples are shared by all models (paired bootstrap).
        default_model: the model ``clinfusion train`` registers (never a reference; see :func:`model_role`).
        calibration: also compute ``calibration`` per model (``clinfusion.evaluation.calibration``).

    Returns:
        ``{model: {"cindex": [per fold], "cindex_mean", "cindex_sd", "cindex_ci95_t", "uno_c_mean",
        "td_auc_mean", "ibs_mean", "logrank_p": [per fold], "cindex_pooled", "cindex_pooled_ci95",
        "auroc_mean", ..., "calibration": {...}, "calibration_slope", "d_calibration_p",
        "paired_vs_best": {...}, "paired_vs_fusion": {...}}}`` (see :func:`add_paired`).
    """
    from clinfusion.evaluation.calibration import model_calibration
    from clinfusion.evaluation.paired import paired_t

    models = list(dict.fromkeys(p.model for p in predictions))
    by_model = {m: sorted((p for p in predictions if p.model == m), key=lambda p: p.fold) for m in models}
    out: dict[str, dict[str, Any]] = {}
    for name, preds in by_model.items():
        rows = [fold_metrics(p, outcomes) for p in preds]
        c = [r["cindex"] for r in rows]
        res: dict[str, Any] = {"cindex": c, "cindex_mean": _nanmean(c), "cindex_sd": float(np.nanstd(c, ddof=1)) if len(c) > 1 else 0.0}
        t = paired_t(c)
        res["cindex_ci95_t"] = [t["low"], t["high"]]
        for key in ("uno_c", "td_auc", "ibs"):
            res[f"{key}_mean"] = _nanmean([r[key] for r in rows])
        res["logrank_p"] = [r["logrank_p"] for r in rows]
        if "auroc" in rows[0]:
            for key in ("auroc", "auprc", "balanced_accuracy"):
                res[f"{key}_mean"] = _nanmean([r[key] for r in rows])
        ids, risk, _ = pooled_risk(preds)
        t_, e_, _ = outcomes(ids)
        res["cindex_pooled"] = harrell_c(t_, e_, risk)
        if calibration:
            res.update(calibration_scalars(model_calibration(preds, outcomes)))
        out[name] = res
    add_paired(out, by_model, outcomes, n_boot, seed, default_model)
    return out


def calibration_scalars(cal: dict[str, Any]) -> dict[str, Any]:
    """``calibration`` plus its headline numbers as flat keys (logged as MLflow metrics as they are)."""
    flat: dict[str, Any] = {"calibration": cal, "calibration_slope": cal["slope"], "d_calibration_p": cal["d_calibration"]["p"]}
    for key, h in cal["horizons"].items():
        flat[f"calibration_error_{key}"] = h["mean_abs_error"]
    return flat


def add_paired(out: dict[str, dict[str, Any]], by_model: dict[str, list[Any]], outcomes: Outcomes, n_boot: int,
               seed: int, default_model: str | None) -> None:
    """Fill ``paired_vs_best`` (vs the baseline with the highest mean fold C) and ``paired_vs_fusion``.

    Both hold :func:`clinfusion.evaluation.paired.paired_comparison`; the bootstrap resamples patients
    of the pooled out-of-fold risks once, shared by every model. Also sets ``cindex_pooled_ci95``
    (percentile interval of each model's own resampled C) when ``n_boot`` > 0.
    """
    from clinfusion.evaluation.paired import (
        aligned_pooled_risks,
        bootstrap_cindex,
        check_same_folds,
        fold_cindex,
        paired_comparison,
    )

    names = []  # models on the first model's folds; a model scored on other folds is never paired
    for m in by_model:
        try:
            check_same_folds(by_model[next(iter(by_model))], by_model[m])
            names.append(m)
        except ValueError as err:
            out[m]["paired_note"] = str(err)
    if not names:
        return
    ids0, pooled = aligned_pooled_risks({m: by_model[m] for m in names})
    t, e, _ = outcomes(ids0)
    boot = bootstrap_cindex(t, e, pooled, n_boot=n_boot, seed=seed) if n_boot else None
    if boot is not None:
        for m in names:
            v = boot[m][np.isfinite(boot[m])]
            out[m]["cindex_pooled_ci95"] = ([float(np.quantile(v, 0.025)), float(np.quantile(v, 0.975))]
                                            if len(v) >= 10 else [float("nan"), float("nan")])
    fold_c = {m: fold_cindex(by_model[m], outcomes) for m in names}
    pooled_c = {m: out[m]["cindex_pooled"] for m in names}
    paired_out = {m: out[m] for m in names}
    refs = {"paired_vs_best": best_baseline(paired_out, default_model),
            "paired_vs_fusion": "fusion" if "fusion" in paired_out else None}
    for key, ref in refs.items():
        if ref is None:
            continue
        for m in names:
            out[m][key] = paired_comparison(m, ref, fold_c, boot, pooled_c)
            out[m][f"{key}_diff"] = out[m][key]["diff_mean"]


ARCHITECTURES: tuple[str, ...] = ("fusion", "multimodn", "tensor_fusion", "coattention")
"""Fusion architectures by name (``fusion`` and ``clinfusion.training.architectures.ARCHITECTURES``;
a test keeps the two in step, evaluation sits below training and does not import it)."""
NOT_BASELINES: tuple[str, ...] = ("stack", "oracle")


def model_role(name: str, default_model: str | None = None) -> str:
    """``default`` (the registered model), ``architecture`` (a fusion architecture), ``unimodal``
    (one modality) or ``baseline`` (every other model: Cox, CoxNet, forests, boosting, MLP, late
    fusion); ``other`` for the stack when it is not the default."""
    if name == default_model:
        return "default"
    if name in ARCHITECTURES:
        return "architecture"
    if name.startswith("unimodal_"):
        return "unimodal"
    return "other" if name in NOT_BASELINES else "baseline"


CLASSICAL: tuple[str, ...] = ("clinical_cox", "coxnet", "coxnet_clinical", "coxnet_genomics_clinical", "rsf",
                              "rsf_clinical", "rsf_clinical_genes", "gb_survival")
"""Classical baselines (Cox, CoxNet, forests, boosting; not the neural concat MLP or late fusion): the
benches' per-cohort "best classical baseline" is the best of these."""


def best_classical(models: Mapping[str, Mapping[str, Any]]) -> str | None:
    """The classical baseline with the highest mean fold C (in hindsight), or None."""
    scored = {m: models[m]["cindex_mean"] for m in CLASSICAL if m in models and np.isfinite(models[m]["cindex_mean"])}
    return max(scored, key=scored.__getitem__) if scored else None


def best_baseline(models: dict[str, dict[str, Any]], default_model: str | None = None) -> str | None:
    """The baseline with the highest mean fold C (chosen in hindsight), or None without baselines."""
    scored = {m: r["cindex_mean"] for m, r in models.items()
              if model_role(m, default_model) == "baseline" and np.isfinite(r.get("cindex_mean", float("nan")))}
    return max(scored, key=scored.__getitem__) if scored else None


ROLE_ORDER = {"default": 0, "architecture": 1, "baseline": 2, "unimodal": 3, "other": 4}


def _num(v: Any) -> float:
    return float(v) if isinstance(v, int | float) and np.isfinite(v) else float("nan")


def _signed(v: float) -> str:
    """``+.012`` / ``-.034``: differences of C, compact enough for two intervals per cell."""
    return f"{v:+.3f}".replace("0.", ".", 1)


def _ci(lo: Any, hi: Any, signed: bool = False) -> str:
    lo, hi = _num(lo), _num(hi)
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return "[n/a]"
    return f"[{_signed(lo)},{_signed(hi)}]" if signed else f"[{lo:.3f}, {hi:.3f}]"


def paired_cell(p: dict[str, Any] | None, name: str) -> str:
    """``+.012 t[-.010,+.034] b[-.021,+.040]`` (``*`` when an interval excludes 0); ``ref`` for the reference."""
    if not p:
        return ""
    if p["vs"] == name:
        return "ref"
    t, b = p.get("t_ci95", [None, None]), p.get("bootstrap_ci95")
    excl = [lo > 0 or hi < 0 for lo, hi in ([t] + ([b] if b else [])) if np.isfinite(_num(lo)) and np.isfinite(_num(hi))]
    t_lo, t_hi = t
    cell = f"{_signed(_num(p['diff_mean']))} t{_ci(t_lo, t_hi, signed=True)}"
    if b:
        b_lo, b_hi = b
        cell += f" b{_ci(b_lo, b_hi, signed=True)}"
    return cell + (" *" if any(excl) else "")


def ordered_models(result: dict[str, Any]) -> list[str]:
    """Model names of a results dict: the default model first, then architectures, baselines, unimodal."""
    default = result.get("default_model")
    names = list(result["models"])
    return sorted(names, key=lambda m: (ROLE_ORDER[model_role(m, default)], names.index(m)))


def results_table(result: dict[str, Any]) -> Any:
    """The results table of ``clinfusion train``: one row per model, default model first, oracle last.

    Columns: ``model``, ``role``, ``C`` (mean Harrell C over folds), ``C 95% CI`` (t over folds),
    ``ΔC vs <best baseline>`` and ``ΔC vs fusion`` (paired mean difference over folds, ``t[...]``
    95% t-interval over folds, ``b[...]`` 95% paired bootstrap over patients), ``IBS``, ``D-cal p``,
    ``cal slope`` and, with a diagnosis task, ``AUROC``.

    Returns:
        a pandas DataFrame.
    """
    import pandas as pd

    default = result.get("default_model")
    models = result["models"]
    best = next((r["paired_vs_best"]["vs"] for r in models.values() if r.get("paired_vs_best")), None)
    rows = []
    for name in ordered_models(result):
        r = models[name]
        row = {"model": name, "role": model_role(name, default), "C": _num(r.get("cindex_mean")),
               "C 95% CI": _ci(*r.get("cindex_ci95_t", [None, None]))}
        if best:
            row[f"ΔC vs {best}"] = paired_cell(r.get("paired_vs_best"), name)
        if "fusion" in models:
            row["ΔC vs fusion"] = paired_cell(r.get("paired_vs_fusion"), name)
        row.update({"IBS": _num(r.get("ibs_mean")), "D-cal p": _num(r.get("d_calibration_p")),
                    "cal slope": _num(r.get("calibration_slope")), "AUROC": _num(r.get("auroc_mean"))})
        rows.append(row)
    if result.get("oracle"):
        rows.append({"model": "oracle", "role": "truth", "C": result["oracle"]["cindex"]})
    table = pd.DataFrame(rows)
    num = table.select_dtypes("number").columns
    table[num] = table[num].round(3)
    return table.dropna(axis=1, how="all").fillna("")  # e.g. no diagnosis task: no AUROC column


TABLE_LEGEND = (
    "C: mean Harrell C over folds, 95% t-interval over folds. ΔC: paired difference, mean over folds; "
    "t[..] 95% t-interval over folds, b[..] 95% paired bootstrap over patients of the pooled out-of-fold risks; "
    "* an interval excludes 0 (otherwise the data do not separate the two models). IBS: integrated Brier score. "
    "D-cal p: D-calibration chi-square test (small = miscalibrated). cal slope: 1 = calibrated, <1 too extreme."
)


def paired_sentences(result: dict[str, Any]) -> list[str]:
    """The table's headline comparisons as sentences (``make demo`` prints them under the table): the
    default model and fusion vs the best baseline, the default model vs fusion, each with both 95%
    intervals and what they allow to claim."""
    models, default = result["models"], result.get("default_model", "fusion")
    lines, seen = [], set()
    for name, key in ((default, "paired_vs_best"), ("fusion", "paired_vs_best"), (default, "paired_vs_fusion")):
        p = models.get(name, {}).get(key)
        if not p or p["vs"] == name or (name, p["vs"]) in seen:
            continue
        seen.add((name, p["vs"]))
        t, b = p["t_ci95"], p.get("bootstrap_ci95")
        ivs = [iv for iv in (t, b) if iv and all(np.isfinite(_num(v)) for v in iv)]
        apart = any(lo > 0 or hi < 0 for lo, hi in ivs)
        verdict = ("an interval excludes 0" if apart else
                   f"both intervals include 0: {result.get('n_patients', 'these')} patients do not separate them")
        boot = f", paired bootstrap [{b[0]:+.3f}, {b[1]:+.3f}]" if b else ""
        lines.append(f"{name} - {p['vs']}: ΔC {p['diff_mean']:+.3f} (95% t over folds [{t[0]:+.3f}, {t[1]:+.3f}]"
                     f"{boot}); {verdict}")
    return lines
