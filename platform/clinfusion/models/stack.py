"""Super learner math (van der Laan, Polley & Hubbard 2007): the non-negative Cox meta-learner.

The meta-learner is a Cox model on the candidates' z-scored out-of-fold risks ``Z [N, C]`` whose
coefficients are constrained to be non-negative, with a small ridge:

    minimise  -(1/d) * log PL(beta; Z, time, event) + (ridge / 2) * ||beta||^2   s.t. beta >= 0

(Breslow ties, ``d`` = number of events). Why this choice:

- it optimises the same partial likelihood the candidates are judged on (a risk score, not a
  survival probability, is what every candidate shares), and it is smooth and convex in ``beta``,
  so L-BFGS-B with bounds finds the unique optimum in milliseconds (maximising Harrell's C over a
  simplex instead is piecewise constant and needs a derivative-free search);
- non-negativity is the super learner's usual restriction: correlated candidates cannot get
  large weights of opposite sign, which overfits the few hundred patients of a training fold;
- the ridge makes the optimum unique when candidates are nearly collinear (e.g. two CoxNets) and
  shrinks weights of candidates the out-of-fold risks cannot separate;
- the weights are not forced to sum to one: their sum rescales the combined risk (the meta Cox's
  calibration slope), which the Breslow baseline of :func:`~clinfusion.coxmath.breslow_cumhaz` needs to give survival
  probabilities. Reported shares are ``beta / sum(beta)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from clinfusion.coxmath import risk_set_index


def cox_nll(beta: np.ndarray, z: np.ndarray, time: np.ndarray, event: np.ndarray,
            ridge: float = 0.0) -> tuple[float, np.ndarray]:
    """Mean negative log partial likelihood (Breslow ties) plus ``ridge/2 * ||beta||^2`` and its gradient.

    Shapes:
        beta: ``[C]``; z: ``[N, C]``; time (days), event (0/1): ``[N]``. Returns ``(value, [C])``.
    """
    ev = event.astype(bool)
    d = max(int(ev.sum()), 1)
    eta = z @ beta
    shift = eta.max() if len(eta) else 0.0
    w = np.exp(eta - shift)
    order, end = risk_set_index(time)
    s0 = np.cumsum(w[order])[end]                       # [N] sum of w over each patient's risk set
    s1 = np.cumsum(w[order, None] * z[order], 0)[end]   # [N, C]
    value = -(eta[ev] - shift - np.log(s0[ev])).sum() / d + 0.5 * ridge * float(beta @ beta)
    grad = -(z[ev] - s1[ev] / s0[ev, None]).sum(0) / d + ridge * beta
    return float(value), grad


def fit_nonnegative_cox(z: np.ndarray, time: np.ndarray, event: np.ndarray, ridge: float = 0.01) -> np.ndarray:
    """The meta-learner: ``argmin cox_nll(beta) s.t. beta >= 0`` (scipy L-BFGS-B with bounds).

    Shapes:
        z: ``[N, C]`` z-scored candidate risks; returns ``beta [C]`` (all >= 0).

    Raises:
        ValueError: shapes disagree or there is no event (the partial likelihood is empty).
    """
    from scipy.optimize import minimize

    z = np.asarray(z, float)
    time, event = np.asarray(time, float), np.asarray(event, int)
    if z.ndim != 2 or z.shape[0] != len(time) or len(time) != len(event):
        raise ValueError(f"meta-learner inputs: z must be [N, C] with N = len(time) = len(event); got {z.shape}, "
                         f"{len(time)}, {len(event)}")
    if not event.any():
        raise ValueError("meta-learner: no event among the out-of-fold patients")
    res = minimize(cox_nll, np.full(z.shape[1], 0.1), args=(z, time, event, ridge), jac=True, method="L-BFGS-B",
                   bounds=[(0.0, None)] * z.shape[1], options={"maxiter": 500})
    return np.clip(res.x, 0.0, None)


@dataclass
class Standardizer:
    """``(risk - mean) / sd`` per candidate, the statistics of each fitted candidate's own risks on
    the patients it was fitted on (applied the same way to inner out-of-fold and to test risks)."""

    mean: float
    sd: float

    @classmethod
    def fit(cls, risk: np.ndarray) -> Standardizer:
        r = np.asarray(risk, float)
        sd = float(r.std())
        return cls(float(r.mean()), sd if sd > 1e-12 else 1.0)

    def apply(self, risk: np.ndarray) -> np.ndarray:
        return (np.asarray(risk, float) - self.mean) / self.sd
