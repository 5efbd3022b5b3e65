"""The registered pyfunc model loads and predicts where clinfusion is not installed.

The model is logged with the clinfusion package as ``code_paths`` and pinned requirements of the
training environment; it is then loaded in a subprocess whose ``sys.path`` holds the standard
library and site-packages only: no checkout, no editable-install ``.pth`` (``python -I -S``).
"""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from clinfusion.testing.tokens import make_token_cohort
from clinfusion.tracking.bundle import bundle_to_json
from clinfusion.tracking.pyfunc import SERVING_DISTRIBUTIONS, predictions_frame
from clinfusion.tracking.run import log_training
from clinfusion.training import cohort_from_frames, load_train_config
from clinfusion.training.trainer import _bundles, predict_fusion, train_fusion

CHECKOUT = Path(__file__).resolve().parents[2]
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
model = mlflow.pyfunc.load_model("models:/m@champion")
out = model.predict(pd.read_json(INPUTS, orient="split"))
import clinfusion
print(json.dumps({"clinfusion": clinfusion.__file__, "columns": list(out.columns), "risk": out["risk"].tolist()}))
"""


@pytest.fixture(scope="module")
def logged(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame, pd.DataFrame, dict]:
    ws = tmp_path_factory.mktemp("pyfunc")
    c = make_token_cohort(12, ("genomics", "ecg"), signal=2.0, seed=3)
    data = cohort_from_frames(c.clinical, c.tokens)
    cfg = load_train_config({"model": {"hidden": 8, "n_bins": 3}, "optim": {"epochs": 1}, "bootstrap": 0})
    fit = train_fusion(data, data.patient_ids, cfg)
    ids = data.patient_ids
    inputs = data.covariates.copy() if fit.covariates is not None else pd.DataFrame(index=range(len(ids)))
    inputs.insert(0, "bundle", [bundle_to_json(b) for b in _bundles(data, ids, fit.modalities)])
    preds = predictions_frame(fit, predict_fusion(fit, data, ids))
    out = log_training(ws, experiment="packaging", params={}, fingerprint="f", code_version="0", summary={"models": {}},
                       fit=fit, predictions=preds, inputs=inputs, register_as="m")
    return ws, inputs, preds, out


def _model_dir(ws: Path) -> Path:
    (req,) = (ws / "mlartifacts").rglob("requirements.txt")
    return req.parent


@pytest.mark.slow
def test_model_carries_its_code_and_pinned_requirements(logged) -> None:
    ws, *_ = logged
    model = _model_dir(ws)
    reqs = (model / "requirements.txt").read_text().split()
    for name in SERVING_DISTRIBUTIONS:
        assert f"{name}=={metadata.version(name).split('+')[0]}" in reqs
    assert not [r for r in reqs if r.startswith("clinfusion")]  # not on any index: shipped as code instead
    code = model / "code" / "clinfusion"
    assert (code / "tracking" / "pyfunc.py").is_file() and (code / "training" / "default_train.yaml").is_file()
    assert not list(code.rglob("__pycache__"))


@pytest.mark.slow
def test_model_predicts_in_a_process_without_the_checkout(logged, tmp_path: Path) -> None:
    ws, inputs, preds, out = logged
    inputs.to_json(tmp_path / "inputs.json", orient="split")
    paths = sysconfig.get_paths()
    site = sorted({paths["purelib"], paths["platlib"]})
    script = (LOAD.replace("SITE", repr(site)).replace("URI", repr(out["tracking_uri"]))
              .replace("INPUTS", repr(str(tmp_path / "inputs.json"))))
    proc = subprocess.run([sys.executable, "-I", "-S", "-c", script], capture_output=True, text=True, cwd=tmp_path,
                          env={"MLFLOW_DISABLE_TELEMETRY": "true", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert not result["clinfusion"].startswith(str(CHECKOUT))
    assert "/code/clinfusion/" in result["clinfusion"]
    assert result["columns"] == list(preds.columns)
    assert np.allclose(result["risk"], preds["risk"], atol=1e-5)
