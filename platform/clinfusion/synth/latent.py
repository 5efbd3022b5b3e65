"""The latent model: per-patient latent factors, covariates, survival, diagnosis and missingness.

Pure functions of a :class:`SynthConfig` (no files), so tests can check the statistics of large
cohorts in milliseconds. Every random draw comes from :func:`rng_for` keyed by the seed and a
purpose, so adding a modality or a patient never shifts the draws of another.

Model (all latents standard normal, mildly correlated)::

    lp   = 0.7 burden + 0.5 prolif - 0.5 immune + 0.4 cardiac + 0.3 (age - 60)/10
           + 0.15 [sex = M] + 0.2 (stage_group - 2.5)
    T    = 1200 days * (-log U / exp(lp)) ** (1 / 1.3)         Weibull proportional hazards
    C    = min(Exp(rate), 3650 days), rate solved for the target censoring fraction
    p_dx = softmax(0, 1.5 immune - 0.2, 1.8 prolif - 1.0)      adenocarcinoma, squamous, small cell
"""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd

from clinfusion.synth.config import SynthConfig

LATENTS: tuple[str, ...] = ("tumour_burden", "proliferation", "immune", "cardiac")
DIAGNOSES: tuple[str, ...] = ("adenocarcinoma", "squamous_cell", "small_cell")
MODALITY_LATENTS: dict[str, tuple[str, ...]] = {
    "radiology": ("tumour_burden", "proliferation"),
    "pathology": ("proliferation", "immune"),
    "ecg": ("cardiac",),
    "genomics": ("tumour_burden", "proliferation", "immune"),
    "reports": ("tumour_burden", "immune", "cardiac"),
    "clinical": ("tumour_burden",),
}
"""Which latents each modality expresses (with noise); clinical expresses burden through stage."""

LP_WEIGHTS: dict[str, float] = {
    "tumour_burden": 0.7, "proliferation": 0.5, "immune": -0.5, "cardiac": 0.4,
    "age_per_decade_over_60": 0.3, "sex_male": 0.15, "stage_group_centred": 0.2,
}
WEIBULL_SCALE_DAYS, WEIBULL_SHAPE, MAX_FOLLOW_UP_DAYS = 1200.0, 1.3, 3650.0
MNAR_STRENGTH = 1.5
"""Log-odds of missing a modality per standard deviation of the linear predictor under MNAR."""

_STAGES = (("IA", "IB"), ("IIA", "IIB"), ("IIIA", "IIIB", "IIIC"), ("IV",))
STAGE_LEVELS: tuple[str, ...] = ("I", "IA", "IB", "II", "IIA", "IIB", "III", "IIIA", "IIIB", "IIIC", "IV")


def rng_for(seed: int, *keys: int | str) -> np.random.Generator:
    """A generator keyed by the seed and a purpose (strings hashed with CRC-32, stable across runs)."""
    ints = [k if isinstance(k, int) else zlib.crc32(k.encode()) for k in keys]
    return np.random.default_rng(np.random.SeedSequence([seed, *ints]))


def patient_ids(n: int) -> list[str]:
    """Raw ids ``SYN0001`` ... ``SYN{n}``."""
    width = max(4, len(str(n)))
    return [f"SYN{i:0{width}d}" for i in range(1, n + 1)]


def _stages(burden: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, list[str]]:
    score = burden + 0.6 * rng.standard_normal(len(burden))
    group = np.digitize(score, [-0.6, 0.3, 1.1]) + 1
    subs = [_STAGES[g - 1][rng.integers(len(_STAGES[g - 1]))] for g in group]
    return group, [f"Stage {s}" for s in subs]


def _censoring(t: np.ndarray, target: float, rng: np.random.Generator) -> np.ndarray:
    """Independent censoring times whose censored fraction is close to ``target``."""
    u = rng.exponential(1.0, len(t))
    if target <= 0:
        return np.full(len(t), np.inf)
    lo, hi = 1e-7, 1.0  # rate per day; bisection on the observed censored fraction
    for _ in range(60):
        mid = np.sqrt(lo * hi)
        frac = np.mean(np.minimum(u / mid, MAX_FOLLOW_UP_DAYS) < t)
        lo, hi = (lo, mid) if frac > target else (mid, hi)
    return np.minimum(u / np.sqrt(lo * hi), MAX_FOLLOW_UP_DAYS)


def linear_predictor(frame: pd.DataFrame) -> np.ndarray:
    """The true log-hazard ratio from latents and covariates (weights :data:`LP_WEIGHTS`)."""
    w = LP_WEIGHTS
    lp = sum(w[k] * frame[k].to_numpy() for k in LATENTS)
    lp = lp + w["age_per_decade_over_60"] * (frame["age"].to_numpy() - 60) / 10
    lp = lp + w["sex_male"] * (frame["sex"].to_numpy() == "M")
    return lp + w["stage_group_centred"] * (frame["stage_group"].to_numpy() - 2.5)


def diagnosis_probs(frame: pd.DataFrame) -> np.ndarray:
    """True class probabilities, shape ``[N, 3]`` in :data:`DIAGNOSES` order."""
    z = np.stack([np.zeros(len(frame)), 1.5 * frame["immune"].to_numpy() - 0.2,
                  1.8 * frame["proliferation"].to_numpy() - 1.0], axis=1)
    z = np.exp(z - z.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


def _mnar_probs(z: np.ndarray, rate: float) -> np.ndarray:
    """sigmoid(b + MNAR_STRENGTH z) with the intercept b solved so the mean equals ``rate``."""
    lo, hi = -30.0, 30.0
    for _ in range(60):  # mean probability is increasing in b: bisection
        b = (lo + hi) / 2
        lo, hi = (b, hi) if np.mean(1 / (1 + np.exp(-(b + MNAR_STRENGTH * z)))) < rate else (lo, b)
    return 1 / (1 + np.exp(-((lo + hi) / 2 + MNAR_STRENGTH * z)))


def missing_mask(lp: np.ndarray, cfg: SynthConfig) -> dict[str, np.ndarray]:
    """Per modality, a boolean ``[N]`` mask of patients who lack it.

    MCAR: each modality is missing with probability ``missing_rate``. MNAR: the log-odds rise by
    :data:`MNAR_STRENGTH` per standard deviation of the true linear predictor, the intercept set
    so the mean probability is still ``missing_rate``.
    """
    out = {}
    z = (lp - lp.mean()) / (lp.std() + 1e-12)
    for m in cfg.active_modalities:
        u = rng_for(cfg.seed, "missing", m).random(len(lp))
        if cfg.missing_rate <= 0:
            p = np.zeros(len(lp))
        elif cfg.missing == "mcar":
            p = np.full(len(lp), cfg.missing_rate)
        else:
            p = _mnar_probs(z, cfg.missing_rate)
        out[m] = u < p
    return out


def sample_latent_cohort(cfg: SynthConfig) -> pd.DataFrame:
    """Draw the whole truth table.

    Returns:
        One row per patient: ``patient_id``, the :data:`LATENTS`, ``age`` (years), ``sex``,
        ``stage``, ``stage_group`` (1-4), ``linear_predictor``, ``event_time`` and
        ``censor_time`` (days), ``survival_time`` (days), ``event``, ``p_<diagnosis>``,
        ``diagnosis`` and ``missing_<modality>`` flags.
    """
    n = cfg.n_patients
    rng = rng_for(cfg.seed, "latent")
    cov = np.eye(4)
    cov[0, 1] = cov[1, 0] = 0.3
    z = rng.multivariate_normal(np.zeros(4), cov, size=n, method="cholesky")
    frame = pd.DataFrame(z, columns=list(LATENTS))
    frame.insert(0, "patient_id", patient_ids(n))
    frame["age"] = np.clip(np.round(rng.normal(64, 10, n)), 30, 90).astype(int)
    frame["sex"] = np.where(rng.random(n) < 0.5, "F", "M")
    frame["stage_group"], frame["stage"] = _stages(frame["tumour_burden"].to_numpy(), rng)
    lp = linear_predictor(frame)
    frame["linear_predictor"] = lp
    t = WEIBULL_SCALE_DAYS * (-np.log(rng.random(n)) / np.exp(lp)) ** (1 / WEIBULL_SHAPE)
    c = _censoring(t, cfg.censoring_rate, rng)
    frame["event_time"], frame["censor_time"] = t, c
    frame["survival_time"] = np.round(np.maximum(np.minimum(t, c), 1.0), 1)
    frame["event"] = (t <= c).astype(int)
    probs = diagnosis_probs(frame)
    for j, d in enumerate(DIAGNOSES):
        frame[f"p_{d}"] = probs[:, j]
    u = rng.random(n)[:, None]
    frame["diagnosis"] = [DIAGNOSES[k] for k in (u > np.cumsum(probs, axis=1)).sum(axis=1).clip(0, 2)]
    for m, miss in missing_mask(lp, cfg).items():
        frame[f"missing_{m}"] = miss
    return frame
