"""The Cohort page's tables: served (out-of-fold) risk, risk group and review status per patient,
and the grouping of its Kaplan-Meier curves.

Risks come from :class:`clinfusion.review.predictions.Predictions`: a training patient's is the
out-of-fold prediction of the fold model that held them out, a patient ingested after training
gets the final model's (:mod:`clinfusion.review.serving`). Grouping the Kaplan-Meier curves by
those out-of-fold risk groups shows how well the model separates patients it did not see; the
final model's in-sample risks would separate them too well.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

RISK_COLUMNS = ("risk (out-of-fold)", "risk percentile", "risk group", "prediction source")
NOT_REVIEWED = "not reviewed"


def review_status(reviews: pd.DataFrame) -> pd.Series:
    """Each reviewed patient's latest review as text, indexed by pseudonym.

    Args:
        reviews: :func:`clinfusion.review.reviews.list_reviews` (oldest first).

    Returns:
        e.g. ``override diagnosis -> LUSC (2 reviews)``, ``accept risk_group``, ``comment``.
    """
    if reviews is None or reviews.empty:
        return pd.Series(dtype=object, name="review status")
    out = {}
    for pid, g in reviews.sort_values("id").groupby("patient_id", sort=False):
        last = g.iloc[-1]
        text = str(last["decision"]) + (f" {last['target']}" if last.get("target") else "")
        if last["decision"] == "override" and last.get("corrected"):
            text += f" -> {last['corrected']}"
        out[pid] = text + (f" ({len(g)} reviews)" if len(g) > 1 else "")
    return pd.Series(out, name="review status", dtype=object)


def cohort_table(frame: pd.DataFrame, preds: Any = None, reviews: pd.DataFrame | None = None) -> pd.DataFrame:
    """The patient table of the Cohort page: the clinical and coverage columns of ``frame`` with the
    served risk columns (:data:`RISK_COLUMNS`, when ``preds`` is given) and ``review status``
    (:data:`NOT_REVIEWED` where none) right after ``patient_id``.

    Args:
        frame: :func:`clinfusion.review.workspace_data.cohort_frame` (one row per patient, ``patient_id``).
        preds: the served :class:`~clinfusion.review.predictions.Predictions`, or None.
        reviews: every stored review (:func:`clinfusion.review.reviews.list_reviews`), or None.
    """
    out = frame.copy()
    front = ["patient_id"]
    if preds is not None:
        t = preds.table
        served = pd.DataFrame({"risk (out-of-fold)": t["risk"].astype(float).round(3),
                               "risk percentile": t["percentile"].astype(float).round(1),
                               "risk group": t["risk_group"], "prediction source": t["source"]}, index=t.index)
        out = out.merge(served, left_on="patient_id", right_index=True, how="left")
        front += list(RISK_COLUMNS)
    status = review_status(reviews) if reviews is not None else pd.Series(dtype=object)
    out["review status"] = out["patient_id"].map(status).fillna(NOT_REVIEWED)
    front.append("review status")
    return out[front + [c for c in out.columns if c not in front]].reset_index(drop=True)


def km_groups(frame: pd.DataFrame, preds: Any = None, by: str | None = None) -> dict[str, Any]:
    """Survival times, events and groups of the Kaplan-Meier plot of ``frame``'s patients.

    With ``preds``: the served out-of-fold risk groups (``not predicted`` for patients without a
    prediction); else the clinical column ``by`` (``missing`` where empty), else one group.

    Returns:
        ``{"time": [N] days, "event": [N] 0/1, "groups": [N] labels, "title", "caption"}`` over the
        patients with a survival time and event.
    """
    need = {"survival_time", "event"}
    surv = frame.dropna(subset=["survival_time", "event"]) if need <= set(frame.columns) else frame.iloc[:0]
    if preds is not None:
        groups = preds.risk_group().reindex(surv["patient_id"]).fillna("not predicted").to_numpy()
        sources = preds.table["source"].reindex(surv["patient_id"]).fillna("no prediction").value_counts()
        caption = "tertiles of the risk percentile (low <= 33.3 < intermediate <= 66.7 < high); risk groups from " + ", ".join(
            f"{n} {s}" for s, n in sources.items()) + " predictions"
        title = f"by predicted risk group (out-of-fold, {preds.model_version})"
    elif by:
        groups, caption, title = surv[by].fillna("missing").astype(str).to_numpy(), "", f"by {by}"
    else:
        groups, caption, title = np.array(["all"] * len(surv)), "", "all patients"
    return {"time": surv["survival_time"].to_numpy(float) if len(surv) else np.zeros(0),
            "event": surv["event"].to_numpy(float) if len(surv) else np.zeros(0),
            "groups": np.asarray(groups), "title": title, "caption": caption}
