"""The registered stack (fusion + classical candidates + weights) predicts through MLflow as in process."""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig

import numpy as np
import pandas as pd
import pytest
from clinfusion.testing.tokens import make_token_cohort
from clinfusion.tracking.bundle import bundle_to_json
from clinfusion.tracking.pyfunc import predictions_frame
from clinfusion.tracking.run import load_model, log_training
from clinfusion.training import cohort_from_frames, load_train_config
from clinfusion.training.experiment_parts import final_model
from clinfusion.training.servable import ServableModel
from clinfusion.training.trainer import _bundles

LOAD = """
import json, sys
sys.path.extend(SITE)
try:
    import clinfusion
    raise SystemExit("clinfusion is importable before the model is loaded: " + clinfusion.__file__)
except ModuleNotFoundError:
    pass
import mlflow
import pandas as pd
mlflow.set_tracking_uri(URI)
out = mlflow.pyfunc.load_model("models:/m@champion").predict(pd.read_json(INPUTS, orient="split"))
import clinfusion
print(json.dumps({"clinfusion": clinfusion.__file__, "risk": out["risk"].tolist()}))
"""
CFG = {"model": {"hidden": 8, "n_bins": 3}, "optim": {"epochs": 2, "patience": 1}, "bootstrap": 0, "loss": {"diagnosis": 0.3},
       "baselines": ["clinical_cox", "rsf", "coxnet_genomics_clinical"],
       "stack": {"inner_folds": 2, "inner_override": {"optim": {"epochs": 1}}}}


@pytest.fixture(scope="module")
def stack():
    c = make_token_cohort(40, ("genomics", "ecg"), signal=2.0, missing_rate=0.2, seed=3)
    data = cohort_from_frames(c.clinical, c.tokens)
    served, fusion = final_model(data, load_train_config(CFG))
    return data, served, fusion


@pytest.mark.slow
def test_logged_stack_pyfunc_predicts_what_the_stack_predicts_in_process(stack, tmp_path):
    data, served, fusion = stack
    assert isinstance(served, ServableModel) and served.name == "stack"
    assert served.model.members["fusion"].fit is fusion
    assert set(served.model.weights) == {"fusion", "clinical_cox", "rsf", "coxnet_genomics_clinical"}
    ids = data.patient_ids
    inputs = data.covariates.copy()
    inputs.insert(0, "bundle", [bundle_to_json(b) for b in _bundles(data, ids, data.modalities)])
    preds = predictions_frame(served, served.predict(data, ids))
    assert [c for c in preds.columns if c.startswith("surv_")] == ["surv_0", "surv_1", "surv_2"]
    assert any(c.startswith("p_") for c in preds.columns)  # diagnosis from the fusion member
    surv = preds.filter(like="surv_").to_numpy()
    assert ((surv > 0) & (surv <= 1)).all() and (np.diff(surv, axis=1) <= 1e-12).all()
    out = log_training(tmp_path, experiment="stack", params={}, fingerprint="f", code_version="0", summary={"models": {}},
                       fit=served, predictions=preds, inputs=inputs, register_as="m")
    model = load_model(out["registered_uri"], out["tracking_uri"])
    got = model.predict(inputs)
    assert list(got.columns) == list(preds.columns)
    assert np.allclose(got.to_numpy(float), preds.to_numpy(float), atol=1e-6)
    # a new patient with one modality only (no ecg) gets the same risk as the in-process stack
    pid = ids[0]
    single = pd.DataFrame({"bundle": [bundle_to_json({"genomics": data.tokens["genomics"][pid]})],
                           **{c: [data.covariates.iloc[0][c]] for c in data.covariates.columns}})
    sub = served.predict_bundles([{"genomics": data.tokens["genomics"][pid]}], data.covariates.iloc[:1])
    assert np.allclose(model.predict(single)["risk"].to_numpy(), sub["risk"], atol=1e-6)
    # and in a process that has no clinfusion but the copy logged with the model (code_paths)
    inputs.to_json(tmp_path / "inputs.json", orient="split")
    paths = sysconfig.get_paths()
    script = (LOAD.replace("SITE", repr(sorted({paths["purelib"], paths["platlib"]})))
              .replace("URI", repr(out["tracking_uri"])).replace("INPUTS", repr(str(tmp_path / "inputs.json"))))
    proc = subprocess.run([sys.executable, "-I", "-S", "-c", script], capture_output=True, text=True, cwd=tmp_path,
                          env={"MLFLOW_DISABLE_TELEMETRY": "true", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert "/code/clinfusion/" in result["clinfusion"]
    assert np.allclose(result["risk"], preds["risk"], atol=1e-6)


def test_pyfunc_path_equals_the_cohort_path(stack):
    """Scoring bundles + covariates (what the pyfunc receives) gives the cohort-path risks exactly."""
    data, served, _ = stack
    ids = data.patient_ids[:7]
    bundles = _bundles(data, ids, data.modalities)
    got = served.predict_bundles(bundles, data.covariates.iloc[data.index(ids)])
    ref = served.predict(data, ids)
    assert np.allclose(got["risk"], ref["risk"], atol=1e-9)
    assert np.allclose(got["survival"], ref["survival"], atol=1e-9)
