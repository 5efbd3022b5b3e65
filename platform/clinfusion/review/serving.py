"""Which prediction each patient gets from a served model version (pure functions, no files).

A served version's training run logged the final model's predictions on its training patients
(``predictions.csv``) and every CV fold model's predictions on every training patient
(``fold_predictions.csv``, ``held_out`` marks the fold that did not see the patient). The app
shows:

- a training patient: the **out-of-fold** prediction (the fold model that did not see them), so
  the risk shown is as honest as the cross-validated C-index; their risk percentile is ranked
  among that same fold model's risks of the training cohort (risks of different models are on
  different scales);
- a patient ingested after training: the **final model**'s prediction, ranked among the final
  model's risks of the training cohort;
- a training patient of an older run without fold predictions: the final model's in-sample
  prediction, marked ``final model (in-sample)``.

Risk groups are tertiles of that percentile: ``low`` (<= 33.3), ``intermediate`` (<= 66.7),
``high``: the values of a ``risk_group`` review.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

OUT_OF_FOLD = "out-of-fold"
FINAL = "final model"
IN_SAMPLE = "final model (in-sample)"
RISK_GROUPS = ("low", "intermediate", "high")


def _pct(reference: np.ndarray, risk: float) -> float:
    """Percent of ``reference`` risks at or below ``risk`` (0-100)."""
    return float((reference <= risk).mean() * 100) if len(reference) else float("nan")


def risk_group(percentile: float) -> str:
    """``low`` / ``intermediate`` / ``high``: tertile of a risk percentile (0-100)."""
    if not np.isfinite(percentile):
        return ""
    return RISK_GROUPS[0] if percentile <= 100 / 3 else RISK_GROUPS[1] if percentile <= 200 / 3 else RISK_GROUPS[2]


def _out_of_fold(final: pd.DataFrame, folds: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    held = folds[folds["held_out"].astype(bool) & folds["patient_id"].isin(final.index)]
    held = held.drop_duplicates("patient_id").set_index("patient_id")
    rows = held[cols].copy()
    rows["fold"] = held["fold"].astype(int)
    rows["source"] = OUT_OF_FOLD
    trained = folds[folds["patient_id"].isin(final.index)]
    refs = {f: g["risk"].to_numpy(float) for f, g in trained.groupby("fold")}
    rows["percentile"] = [_pct(refs[f], r) for f, r in zip(rows["fold"], rows["risk"].astype(float), strict=True)]
    return rows


def served_table(final: pd.DataFrame, folds: pd.DataFrame | None = None,
                 new: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per patient: the prediction the app shows and where it comes from.

    Args:
        final: the final model on its training patients (index: pseudonym; ``risk``, ``surv_<k>``,
            ``p_<class>``).
        folds: ``fold_predictions.csv`` (``patient_id``, ``fold``, ``held_out``, same columns), or None.
        new: the final model on patients it was not trained on (index: pseudonym), or None.

    Returns:
        Indexed by pseudonym: the prediction columns, ``source`` (:data:`OUT_OF_FOLD`,
        :data:`FINAL` or :data:`IN_SAMPLE`), ``fold`` (-1 unless out-of-fold), ``percentile``
        (0-100, see the module docstring) and ``risk_group``.
    """
    cols = [c for c in final.columns if c == "risk" or c.startswith(("surv_", "p_"))]
    reference = final["risk"].to_numpy(float)
    parts = []
    if folds is not None and len(folds):
        parts.append(_out_of_fold(final, folds, cols))
    done = set(parts[0].index) if parts else set()
    rest = final.loc[[p for p in final.index if p not in done], cols].copy()
    rest["source"], rest["fold"] = IN_SAMPLE, -1
    parts.append(rest)
    if new is not None and len(new):
        extra = new.loc[[p for p in new.index if p not in final.index], cols].copy()
        extra["source"], extra["fold"] = FINAL, -1
        parts.append(extra)
    out = pd.concat(parts)
    unranked = out["source"] != OUT_OF_FOLD
    out.loc[unranked, "percentile"] = [_pct(reference, r) for r in out.loc[unranked, "risk"].astype(float)]
    out["risk_group"] = [risk_group(p) for p in out["percentile"].astype(float)]
    out.index.name = "patient_id"
    return out
