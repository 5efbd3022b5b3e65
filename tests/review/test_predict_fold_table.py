"""fold_predictions.csv: every fold model on every patient, the held-out fold marked, no retraining to serve it."""

from __future__ import annotations

import numpy as np
import pytest
from clinfusion.review import serving
from clinfusion.testing.tokens import make_token_cohort
from clinfusion.training import cohort_from_frames, load_train_config
from clinfusion.training.cv import default_splits, run_cv
from clinfusion.training.review_tables import fold_predictions_table

SMALL = {"model": {"hidden": 8}, "optim": {"epochs": 2, "patience": 1}, "bootstrap": 0, "baselines": []}


def test_held_out_rows_are_the_cv_test_predictions_and_are_what_is_served():
    c = make_token_cohort(12, ("genomics",), seed=2)
    data = cohort_from_frames(c.clinical, c.tokens)
    cfg = load_train_config(SMALL)
    run = run_cv(data, default_splits(data, 2, cfg.seed), cfg)
    assert [s.fold for s in run.splits] == [0, 1]  # kept in fusion_fits order
    table = fold_predictions_table(run.fusion_fits, run.splits, data, data.patient_ids)
    assert len(table) == 2 * 12 and {"risk", "surv_0", "held_out"} <= set(table.columns)
    held = table[table["held_out"]]
    assert sorted(held["patient_id"]) == sorted(data.patient_ids)  # each patient held out exactly once
    for p in (p for p in run.predictions if p.model == "fusion"):
        rows = held[held["fold"] == p.fold].set_index("patient_id").loc[p.test_ids]
        np.testing.assert_allclose(rows["risk"], p.test_risk, rtol=1e-5)  # the CV's out-of-fold risks
    final = table[table["fold"] == 0].set_index("patient_id")[["risk", "surv_0"]]  # stand-in final model
    served = serving.served_table(final, table)
    assert served["source"].eq(serving.OUT_OF_FOLD).all()
    np.testing.assert_allclose(served.loc[held["patient_id"], "risk"], held["risk"])
    with pytest.raises(ValueError, match="2 fold models for 1 splits"):
        fold_predictions_table(run.fusion_fits, run.splits[:1], data, data.patient_ids)
