"""Which prediction each patient is shown: out-of-fold for training patients, final model for new ones."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from clinfusion.review import serving


def _final(ids, risks):
    return pd.DataFrame({"risk": risks, "surv_0": 0.9, "p_a": 0.5}, index=pd.Index(ids, name="patient_id"))


def _folds():
    # two fold models over four training patients; A, B held out of fold 0, C, D of fold 1
    rows = []
    for fold, held, risks in ((0, {"A", "B"}, [0.1, 0.2, 0.3, 0.4]), (1, {"C", "D"}, [10.0, 20.0, 30.0, 40.0])):
        for pid, r in zip("ABCD", risks, strict=True):
            rows.append({"patient_id": pid, "fold": fold, "held_out": pid in held, "risk": r, "surv_0": 0.5 + fold / 10,
                         "p_a": 0.2})
    return pd.DataFrame(rows)


def test_training_patients_get_the_fold_model_that_did_not_see_them():
    table = serving.served_table(_final(list("ABCD"), [4.0, 3.0, 2.0, 1.0]), _folds())
    assert table["source"].eq(serving.OUT_OF_FOLD).all()
    assert table["fold"].to_dict() == {"A": 0, "B": 0, "C": 1, "D": 1}
    # the held-out rows, not the final model's in-sample risks
    assert table["risk"].to_dict() == {"A": 0.1, "B": 0.2, "C": 30.0, "D": 40.0}
    assert table.loc["C", "surv_0"] == pytest.approx(0.6)
    # ranked among the same fold model's risks (different scales per fold): B is 2nd of 4 under fold 0
    assert table["percentile"].to_dict() == {"A": 25.0, "B": 50.0, "C": 75.0, "D": 100.0}
    assert table["risk_group"].tolist() == ["low", "intermediate", "high", "high"]


def test_new_patients_get_the_final_model_ranked_among_its_training_risks():
    new = _final(["E", "A"], [2.5, 99.0])  # A is a training patient: its out-of-fold row wins
    table = serving.served_table(_final(list("ABCD"), [4.0, 3.0, 2.0, 1.0]), _folds(), new)
    assert table.loc["E", "source"] == serving.FINAL and table.loc["E", "fold"] == -1
    assert table.loc["E", "percentile"] == 50.0  # 2 of the final model's 4 training risks are <= 2.5
    assert table.loc["A", "source"] == serving.OUT_OF_FOLD and table.loc["A", "risk"] == 0.1
    assert len(table) == 5


def test_runs_without_fold_predictions_are_marked_in_sample():
    table = serving.served_table(_final(list("ABC"), [1.0, 2.0, 3.0]))
    assert table["source"].eq(serving.IN_SAMPLE).all()
    assert np.allclose(table["percentile"], [100 / 3, 200 / 3, 100])
    assert table["risk_group"].tolist() == ["low", "intermediate", "high"]


@pytest.mark.parametrize(("pct", "group"), [(0.0, "low"), (33.3, "low"), (33.4, "intermediate"), (66.7, "high"),
                                            (66.6, "intermediate"), (100.0, "high"), (float("nan"), "")])
def test_risk_group_tertiles(pct, group):
    assert serving.risk_group(pct) == group


def test_a_workspace_without_a_registered_model_serves_nothing_and_says_how(tmp_path):
    from clinfusion.review.predictions import load_predictions

    preds, why = load_predictions(tmp_path, name="clinfusion-fusion-x")
    assert preds is None and "no model is registered as 'clinfusion-fusion-x'" in why and "clinfusion train" in why
    assert not (tmp_path / "mlflow.db").exists()  # looking creates no store
