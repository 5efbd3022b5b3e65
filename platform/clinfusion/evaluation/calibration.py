"""Calibration of any risk model: a survival function from its risks, then how honest its probabilities are.

A model's risk scores (higher = shorter survival) live on arbitrary scales: a Cox model outputs a
log hazard, a random survival forest the sum of its cumulative hazard over time. To turn *any* of
them into survival curves the same way, each fold fits on its training part only

    lp(x) = beta * (r(x) - mean_train) / sd_train          (one-covariate Cox, partial likelihood)
    H0(t) = sum_{event times t_i <= t} d_i / sum_{j: T_j >= t_i} exp(lp_j)   (Breslow, clinfusion.coxmath)
    S(t | x) = exp(-H0(t) * exp(lp(x)))

For a model whose risk already is a calibrated log hazard, beta * z(r) is r itself up to a constant
absorbed by H0, so this is Breslow on ``r``. In-sample training risks of a flexible learner (a forest,
a network) are more extreme than its held-out ones, which shows up honestly as a calibration slope
below 1; a model that has honest training risks (the stack's inner out-of-fold risks) may attach them
to its fold predictions as ``calibration_train_risk`` (``[N_train]``, same order as ``train_ids``), and
a model with its own survival function may attach ``test_survival`` (callable: times in days ``[T]``
-> ``[M_test, T]``), used instead.

Everything is judged on the pooled out-of-fold predictions (each patient scored by the fold model
that did not see it), with times in **days** (the unit of ``clinical.csv``'s ``survival_time``;
TCGA months are converted at import, 30.44 days per month):

- calibration at 1, 3 and 5 years (365.25, 1095.75, 1826.25 days): patients in deciles of predicted
  S(t*), mean predicted S(t*) next to the Kaplan-Meier estimate of the group;
- calibration slope: Cox regression of the outcomes on the out-of-fold ``lp`` (stratified by fold);
  1 is calibrated, below 1 predictions are too extreme (overfitting), above 1 too timid;
- D-calibration (Haider et al., JMLR 2020): S(T_i | x_i) is uniform on [0, 1] under a calibrated
  model; censored patients spread their unit of mass over the bins below S(C_i | x_i); chi-square
  test of the 10-bin histogram against uniform (9 degrees of freedom).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from clinfusion.coxmath import breslow_cumhaz

YEAR_DAYS = 365.25
HORIZONS_YEARS: tuple[float, ...] = (1.0, 3.0, 5.0)
"""Calibration horizons in years (converted to days, the unit survival times are stored in)."""

Outcomes = Callable[[Sequence[str]], tuple[np.ndarray, np.ndarray, np.ndarray]]
"""ids -> (time in days, event, diagnosis class index or -1)."""


def _risk_set_sums(time: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``out[i] = sum_{j: T_j >= T_i} values[j]`` (ties share their risk set), in O(n log n).

    Shapes:
        time: ``[N]``; values: ``[N]`` or ``[N, K]``; out: same as ``values``.
    """
    order = np.argsort(time, kind="mergesort")
    ts = time[order]
    tail = np.cumsum(values[order][::-1], axis=0)[::-1]  # sum over sorted positions k..N-1
    first = np.searchsorted(ts, ts, side="left")  # first position of each tie group: its whole risk set
    out = np.empty_like(tail)
    out[order] = tail[first]
    return out


def _cox_derivatives(beta: float, x: np.ndarray, time: np.ndarray, event: np.ndarray,
                     strata: np.ndarray) -> tuple[float, float, float]:
    """Log partial likelihood (Breslow ties), gradient and Hessian of a one-covariate Cox model."""
    ll = g = h = 0.0
    for s in np.unique(strata):
        m = strata == s
        xs, ts, es = x[m], time[m], event[m].astype(bool)
        if not es.any():
            continue
        w = np.exp(np.clip(beta * xs, -50, 50))
        sums = _risk_set_sums(ts, np.stack([w, w * xs, w * xs * xs], 1))
        s0, s1, s2 = sums[es, 0], sums[es, 1], sums[es, 2]
        ll += float(np.sum(beta * xs[es] - np.log(s0)))
        g += float(np.sum(xs[es] - s1 / s0))
        h -= float(np.sum(s2 / s0 - (s1 / s0) ** 2))
    return ll, g, h


def cox_slope(x: np.ndarray, time: np.ndarray, event: np.ndarray, strata: np.ndarray | None = None,
              ridge: float = 1e-6) -> tuple[float, float]:
    """Maximum partial-likelihood coefficient of a one-covariate Cox model (Newton, step halving).

    Args:
        x: covariate ``[N]`` (e.g. a linear predictor); time: days ``[N]``; event: 1/0 ``[N]``.
        strata: optional stratum per patient ``[N]`` (e.g. the CV fold): separate baselines.
        ridge: tiny L2 penalty ``ridge * N * beta^2 / 2`` so separable data stay finite.

    Returns:
        ``(beta, standard error)``; NaNs without events or without covariate variation.
    """
    x, time, event = np.asarray(x, float), np.asarray(time, float), np.asarray(event).astype(int)
    strata = np.zeros(len(x), int) if strata is None else np.asarray(strata)
    if event.sum() == 0 or np.ptp(x) == 0:
        return float("nan"), float("nan")
    pen = ridge * len(x)
    beta = 0.0
    ll, g, h = _cox_derivatives(beta, x, time, event, strata)
    for _ in range(50):
        ll_pen, g_pen, h_pen = ll - pen * beta**2 / 2, g - pen * beta, h - pen
        step = -g_pen / h_pen if h_pen < 0 else np.sign(g_pen)
        for _ in range(30):  # halve the step until the penalised likelihood does not fall
            nb = beta + step
            nll, ng, nh = _cox_derivatives(nb, x, time, event, strata)
            if nll - pen * nb**2 / 2 >= ll_pen - 1e-12:
                break
            step /= 2
        beta, ll, g, h = nb, nll, ng, nh
        if abs(step) < 1e-9:
            break
    info = -(h - pen)
    return float(beta), float(1 / np.sqrt(info)) if info > 0 else float("nan")


@dataclass(frozen=True)
class BreslowSurvival:
    """``S(t | r) = exp(-H0(t) exp(beta (r - mu) / sd))``, fitted on one training fold.

    Attributes:
        mu, sd: training mean and SD of the raw risk; beta: Cox coefficient of the z-scored risk.
        times: distinct training event times in days ``[K]``; cum_hazard: Breslow ``H0`` there ``[K]``.
    """

    mu: float
    sd: float
    beta: float
    times: np.ndarray
    cum_hazard: np.ndarray

    @classmethod
    def fit(cls, risk: np.ndarray, time: np.ndarray, event: np.ndarray) -> BreslowSurvival:
        """Fit beta and the Breslow baseline on training risks ``[N]``, times (days) ``[N]``, events ``[N]``."""
        r, t, e = np.asarray(risk, float), np.asarray(time, float), np.asarray(event).astype(bool)
        mu, sd = float(r.mean()), float(r.std()) or 1.0
        beta, _ = cox_slope((r - mu) / sd, t, e)
        beta = 0.0 if not np.isfinite(beta) else beta
        ev_times = np.unique(t[e])
        # Breslow: each distinct event time adds (events there) / (risk-set sum there)
        lp = np.clip(beta * (r - mu) / sd, -50, 50)
        return cls(mu, sd, float(beta), ev_times, breslow_cumhaz(lp, t, e, ev_times))

    def lp(self, risk: np.ndarray) -> np.ndarray:
        """Linear predictor (log relative hazard) ``[M]`` of raw risks ``[M]``."""
        return np.clip(self.beta * (np.asarray(risk, float) - self.mu) / self.sd, -50, 50)

    def baseline(self, t: np.ndarray) -> np.ndarray:
        """``H0`` at times ``t`` (days, any shape); constant after the last training event."""
        k = np.searchsorted(self.times, np.asarray(t, float), side="right")
        return np.concatenate([[0.0], self.cum_hazard])[k]

    def survival(self, risk: np.ndarray, times: np.ndarray) -> np.ndarray:
        """``S(t | r)`` on a grid. Shapes: risk ``[M]``, times ``[T]`` -> ``[M, T]``."""
        return np.exp(-np.outer(np.exp(self.lp(risk)), self.baseline(times)))

    def survival_at(self, risk: np.ndarray, t: np.ndarray) -> np.ndarray:
        """``S(t_i | r_i)`` of each patient at its own time. Shapes: ``[M]``, ``[M]`` -> ``[M]``."""
        return np.exp(-self.baseline(t) * np.exp(self.lp(risk)))


@dataclass(frozen=True)
class PooledSurvival:
    """Out-of-fold survival predictions of one model, pooled over folds (one row per patient).

    Attributes:
        ids: patients ``[N]``; time (days), event ``[N]``; fold ``[N]``; lp: linear predictor ``[N]``;
        at_horizons: ``S(h | x)`` at ``horizons`` (days) ``[N, H]``; at_own_time: ``S(T_i | x_i)`` ``[N]``.
    """

    ids: list[str]
    time: np.ndarray
    event: np.ndarray
    fold: np.ndarray
    lp: np.ndarray
    horizons: np.ndarray
    at_horizons: np.ndarray
    at_own_time: np.ndarray


def pooled_survival(preds: Sequence[Any], outcomes: Outcomes, horizons_days: np.ndarray) -> PooledSurvival:
    """Each fold's survival function (its own, else Breslow on its training risks) applied to its test patients."""
    ids: list[str] = []
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("time", "event", "fold", "lp", "h", "own")}
    for p in preds:
        t_tr, e_tr, _ = outcomes(p.train_ids)
        t_te, e_te, _ = outcomes(p.test_ids)
        # a model may name honest training risks to calibrate on (e.g. the stack's inner out-of-fold risks)
        r_cal = getattr(p, "calibration_train_risk", None)
        fit = BreslowSurvival.fit(p.train_risk if r_cal is None else r_cal, t_tr, e_tr)
        own = getattr(p, "test_survival", None)
        if own is not None:
            grid = own(np.asarray(horizons_days, float))
            # the own curve at each patient's time: evaluate the curve on all test times, take the diagonal
            at_t = np.diag(own(np.asarray(t_te, float)))
        else:
            grid, at_t = fit.survival(p.test_risk, horizons_days), fit.survival_at(p.test_risk, t_te)
        ids += list(p.test_ids)
        for key, v in (("time", t_te), ("event", e_te), ("fold", np.full(len(t_te), p.fold)), ("lp", fit.lp(p.test_risk)),
                       ("h", grid), ("own", at_t)):
            parts[key].append(np.asarray(v, float))
    cat = {k: np.concatenate(v) for k, v in parts.items()}
    return PooledSurvival(ids, cat["time"], cat["event"].astype(int), cat["fold"].astype(int), cat["lp"],
                          np.asarray(horizons_days, float), cat["h"], cat["own"])


def km_at(time: np.ndarray, event: np.ndarray, t: float) -> float:
    """Kaplan-Meier survival at ``t`` days; NaN when nobody was followed up to ``t`` (and S > 0)."""
    time, event = np.asarray(time, float), np.asarray(event).astype(bool)
    s = 1.0
    for u in np.unique(time[event & (time <= t)]):
        s *= 1.0 - (event & (time == u)).sum() / (time >= u).sum()
    return float(s) if s == 0.0 or (time >= t).any() else float("nan")


def calibration_at(pred: np.ndarray, time: np.ndarray, event: np.ndarray, horizon_days: float,
                   groups: int = 10) -> dict[str, Any]:
    """Predicted vs Kaplan-Meier observed survival at one horizon, in groups of predicted S (deciles).

    Args:
        pred: predicted ``S(horizon | x)`` per patient ``[N]`` (out of fold).

    Returns:
        ``{"horizon_days", "groups": [{"n", "predicted", "observed"}, ...] (lowest predicted survival
        first), "mean_abs_error"`` (patient-weighted over groups with an observed value),
        ``"groups_observed"}``; ``observed`` is NaN where the group's follow-up ends before the horizon.
    """
    order = np.argsort(pred, kind="mergesort")
    rows = []
    for ix in np.array_split(order, min(groups, len(order))):
        if len(ix):
            rows.append({"n": int(len(ix)), "predicted": float(pred[ix].mean()),
                         "observed": km_at(time[ix], event[ix], horizon_days)})
    ok = [r for r in rows if np.isfinite(r["observed"])]
    err = (sum(r["n"] * abs(r["predicted"] - r["observed"]) for r in ok) / sum(r["n"] for r in ok)) if ok else float("nan")
    return {"horizon_days": float(horizon_days), "groups": rows, "mean_abs_error": float(err), "groups_observed": len(ok)}


def d_calibration(surv_at_time: np.ndarray, event: np.ndarray, bins: int = 10) -> dict[str, Any]:
    """D-calibration test (Haider et al. 2020) of ``S(T_i | x_i)`` ``[N]`` with events ``[N]``.

    An uncensored patient adds 1 to the bin holding ``u = S(T_i | x_i)``. A censored one (true
    ``u`` is below ``s = S(C_i | x_i)``, uniform there if calibrated) adds ``(s - lower)/s`` to the
    bin holding ``s`` and ``(1/bins)/s`` to every bin below it: one unit in all.

    Returns:
        ``{"bins": [mass per bin, lowest survival first], "chi2", "p"}`` (chi-square vs uniform,
        ``bins - 1`` degrees of freedom; a small ``p`` means miscalibrated).
    """
    from scipy.stats import chi2

    s = np.clip(np.asarray(surv_at_time, float), 0.0, 1.0)
    ev = np.asarray(event).astype(bool)
    width = 1.0 / bins
    k = np.minimum((s / width).astype(int), bins - 1)
    hist = np.bincount(k[ev], minlength=bins).astype(float)
    for si, ki in zip(s[~ev], k[~ev], strict=True):
        if si <= 0:
            hist[0] += 1.0
            continue
        hist[ki] += (si - ki * width) / si
        hist[:ki] += width / si
    expected = len(s) / bins
    stat = float(np.sum((hist - expected) ** 2 / expected)) if len(s) else float("nan")
    return {"bins": [round(float(h), 4) for h in hist], "chi2": stat,
            "p": float(chi2.sf(stat, bins - 1)) if len(s) else float("nan")}


def model_calibration(preds: Sequence[Any], outcomes: Outcomes,
                      horizons_years: Sequence[float] = HORIZONS_YEARS) -> dict[str, Any]:
    """Calibration of one model from its fold predictions (pooled out of fold).

    Returns:
        ``{"time_unit": "days", "horizons": {"1y": calibration_at(...), ...}`` (horizons past the
        pooled follow-up are left out), ``"slope", "slope_se"`` (Cox on the out-of-fold linear
        predictor, stratified by fold), ``"d_calibration": {"bins", "chi2", "p"}}``.
    """
    horizons = np.asarray(horizons_years, float) * YEAR_DAYS
    pooled = pooled_survival(preds, outcomes, horizons)
    out: dict[str, Any] = {"time_unit": "days", "horizons": {}}
    for j, (years, h) in enumerate(zip(horizons_years, horizons, strict=True)):
        if h < pooled.time.max():
            out["horizons"][f"{years:g}y"] = calibration_at(pooled.at_horizons[:, j], pooled.time, pooled.event, h)
    out["slope"], out["slope_se"] = cox_slope(pooled.lp, pooled.time, pooled.event, strata=pooled.fold)
    out["d_calibration"] = d_calibration(pooled.at_own_time, pooled.event)
    return out
