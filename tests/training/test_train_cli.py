from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest
import yaml
from clinfusion.cli.app import main
from clinfusion.testing.tokens import make_token_cohort, write_token_workspace

CFG = {
    "model": {"hidden": 8, "n_bins": 2},
    "optim": {"epochs": 3, "patience": 2},
    "loss": {"diagnosis": 0.3},
    "bootstrap": 20,
}


@pytest.mark.slow
def test_train_cli_writes_results_and_a_reloadable_mlflow_model(tmp_path):
    cohort = make_token_cohort(30, ("genomics", "ecg"), missing_rate=0.2, seed=2)
    ws = write_token_workspace(cohort, tmp_path)
    (tmp_path / "cfg.yaml").write_text(yaml.safe_dump(CFG))
    out = tmp_path / "res.json"
    rc = main(["train", "--workspace", str(ws.root), "--config", str(tmp_path / "cfg.yaml"), "--folds", "2", "--json", str(out)])
    assert rc == 0
    res = json.loads(out.read_text())
    assert res["task"] == "survival" and res["folds"] == 2
    expected = {"fusion", "clinical_cox", "coxnet", "rsf", "concat_mlp", "late_fusion", "unimodal_genomics", "unimodal_ecg"}
    assert expected <= set(res["models"])
    for m in res["models"].values():
        assert len(m["cindex"]) == 2
        assert 0.0 <= m["cindex_mean"] <= 1.0
    assert "auroc_mean" in res["models"]["fusion"]
    # the stack is the default model: first in the results, weights per fold and for the final model
    assert res["default_model"] == "stack" and next(iter(res["models"])) == "stack"
    stack = res["models"]["stack"]
    assert len(stack["weights"]) == 2 and all(w >= 0 for fold in stack["weights"] for w in fold.values())
    assert set(stack["final_weights"]["weights"]) <= set(stack["candidates"]) and "fusion" in stack["candidates"]
    assert res["mlflow_run_id"]
    # the registered pyfunc loads in a fresh process and reproduces the logged predictions
    code = (
        "import sys, mlflow, pandas as pd\n"
        "from mlflow.artifacts import download_artifacts\n"
        "mlflow.set_tracking_uri(sys.argv[1])\n"
        "m = mlflow.pyfunc.load_model(sys.argv[2])\n"
        "inp = pd.read_json(download_artifacts(run_id=sys.argv[3], artifact_path='inputs.json'), orient='split')\n"
        "ref = pd.read_csv(download_artifacts(run_id=sys.argv[3], artifact_path='predictions.csv'))\n"
        "assert ref.pop('patient_id').notna().all()\n"
        "got = m.predict(inp)\n"
        "assert list(got.columns) == list(ref.columns), (got.columns, ref.columns)\n"
        "print(float((got - ref).abs().to_numpy().max()))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, res["mlflow_tracking_uri"], res["model_uri"], res["mlflow_run_id"]],
                          capture_output=True, text=True, env={**__import__("os").environ, "MLFLOW_DISABLE_TELEMETRY": "true"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert float(proc.stdout.strip().splitlines()[-1]) < 1e-5
    # token-level integrated-gradients attributions of the final model are logged with the run
    import mlflow
    from mlflow.artifacts import download_artifacts

    mlflow.set_tracking_uri(res["mlflow_tracking_uri"])
    attr = pd.read_parquet(download_artifacts(run_id=res["mlflow_run_id"], artifact_path="token_attributions.parquet"))
    assert {"genomics", "ecg"} <= set(attr.modality) and attr.attribution.abs().sum() > 0
    summary = pd.read_csv(download_artifacts(run_id=res["mlflow_run_id"], artifact_path="attribution_summary.csv"))
    assert set(summary.columns) == {"modality", "name", "mean_abs"}
    assert main(["evaluate", "--json", str(out)]) == 0
    assert isinstance(pd.read_json(out, typ="series"), pd.Series)


@pytest.mark.slow
def test_train_model_option_registers_that_model_and_names_it_default(tmp_path):
    import mlflow
    from mlflow.artifacts import download_artifacts

    cohort = make_token_cohort(24, ("genomics",), seed=5)
    ws = write_token_workspace(cohort, tmp_path)
    (tmp_path / "cfg.yaml").write_text(yaml.safe_dump({**CFG, "baselines": ["clinical_cox"]}))
    out = tmp_path / "res.json"
    rc = main(["train", "--workspace", str(ws.root), "--config", str(tmp_path / "cfg.yaml"), "--folds", "2",
               "--json", str(out), "--model", "fusion"])
    assert rc == 0
    res = json.loads(out.read_text())
    assert res["default_model"] == "fusion" and next(iter(res["models"])) == "fusion"
    assert {"stack", "clinical_cox"} <= set(res["models"])  # the others stay separate entries
    mlflow.set_tracking_uri(res["mlflow_tracking_uri"])
    folds = pd.read_csv(download_artifacts(run_id=res["mlflow_run_id"], artifact_path="fold_predictions.csv"))
    held = folds[folds["held_out"]].set_index("patient_id")
    fusion_rows = res["models"]["fusion"]
    assert len(held) == res["n_patients"] and len(fusion_rows["cindex"]) == 2
    files = {a.path for a in mlflow.MlflowClient().list_artifacts(res["mlflow_run_id"], "fusion/artifacts")}
    assert {"fusion/artifacts/spec.json", "fusion/artifacts/weights.pt"} <= files  # the fusion pyfunc, not a pickle

def test_train_model_option_rejects_an_unknown_model(tmp_path, capsys):
    cohort = make_token_cohort(8, ("genomics",), seed=5)
    ws = write_token_workspace(cohort, tmp_path)
    assert main(["train", "--workspace", str(ws.root), "--folds", "2", "--model", "magic"]) != 0
    assert "default_model" in capsys.readouterr().err
