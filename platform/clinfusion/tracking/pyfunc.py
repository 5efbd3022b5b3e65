"""The fusion model as an MLflow pyfunc that predicts from patients' token bundles.

Input: a DataFrame with a ``bundle`` column (:func:`~clinfusion.tracking.bundle.bundle_to_json`)
and the clinical covariate columns the model was trained with. Output: a DataFrame with
``risk`` and ``surv_<k>`` (survival at the end of discrete bin k) and, with a diagnosis head,
``p_<class>``.
"""

from __future__ import annotations

import json
from pathlib import Path

import mlflow.pyfunc
import pandas as pd


class FusionPyfunc(mlflow.pyfunc.PythonModel):
    """Loads ``spec.json`` and ``weights.pt`` artifacts and rebuilds the fitted model."""

    def load_context(self, context) -> None:
        import torch

        from clinfusion.training.trainer import rebuild

        spec = json.loads(Path(context.artifacts["spec"]).read_text())
        state = torch.load(context.artifacts["weights"], map_location="cpu", weights_only=True)
        self.fit = rebuild(spec, state)

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        from clinfusion.tracking.bundle import bundle_from_json
        from clinfusion.training.trainer import predict_bundles

        return predictions_frame(self.fit, predict_bundles(self.fit, [bundle_from_json(b) for b in model_input["bundle"]],
                                                           model_input.drop(columns=["bundle"])))


def predictions_frame(fit, pred: dict) -> pd.DataFrame:
    """Model outputs as the pyfunc's DataFrame."""
    out = pd.DataFrame({"risk": pred["risk"]})
    for k in range(pred["survival"].shape[1]):
        out[f"surv_{k}"] = pred["survival"][:, k]
    if "proba" in pred:
        for j, c in enumerate(fit.classes):
            out[f"p_{c}"] = pred["proba"][:, j]
    return out
