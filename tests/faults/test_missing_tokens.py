"""A modality that was ingested but has no tokens is never dropped silently (issue 23).

Before: a TCGA CSV imported from anywhere but beside a ``gene_sets/`` folder gave a cohort without
gene sets, ``featurize`` failed genomics for every patient, and ``train`` trained on the clinical
table alone without a word. Now the import ships the packaged gene sets (genomics gets tokens) and
``train`` refuses, readably, when an ingested modality has none, unless ``--modalities`` leaves it out.
"""

from __future__ import annotations

import json
import shutil

import pytest
import yaml
from clinfusion.cli.app import main
from clinfusion.testing.tcga import write_tcga_inputs

TINY = {"model": {"hidden": 8, "n_bins": 2}, "optim": {"epochs": 2, "patience": 1}, "bootstrap": 0,
        "baselines": ["clinical_cox"]}


@pytest.fixture(scope="module")
def tcga_ws(tmp_path_factory):
    """A TCGA-layout cohort imported from a folder with no gene sets, ingested and featurized."""
    root = tmp_path_factory.mktemp("tcga")
    csv, splits = write_tcga_inputs(root / "downloads", 20)
    assert main(["import", "tcga", "--csv", str(csv), "--splits", str(splits), "--out", str(root / "cohort")]) == 0
    assert main(["ingest", str(root / "cohort"), "--workspace", str(root / "ws")]) == 0
    assert main(["featurize", "-w", str(root / "ws"), "-m", "genomics", "-m", "clinical"]) == 0
    (root / "cfg.yaml").write_text(yaml.safe_dump(TINY))
    return root


def test_imported_genomics_gets_tokens_and_train_uses_and_names_it(tcga_ws, capsys):
    ws, out = tcga_ws / "ws", tcga_ws / "res.json"
    index = json.loads((ws / "tokens" / "genomics" / "geneset" / "index.json").read_text())
    assert len(index["patients"]) == 20 and not index["failed"]
    capsys.readouterr()
    assert main(["train", "-w", str(ws), "-c", str(tcga_ws / "cfg.yaml"), "--no-mlflow", "--json", str(out)]) == 0
    printed = capsys.readouterr()
    assert "genomics: geneset (default, 20 patients with tokens" in printed.out
    assert "modalities and encoders used:" in printed.err  # the progress line, before training starts
    assert json.loads(out.read_text())["encoders"]["genomics"]["encoder"] == "geneset"


def test_train_refuses_an_ingested_modality_without_tokens_unless_excluded(tcga_ws, capsys):
    ws = tcga_ws / "ws"
    shutil.rmtree(ws / "tokens" / "genomics")  # featurize never ran, or failed, for genomics
    capsys.readouterr()
    rc = main(["train", "-w", str(ws), "-c", str(tcga_ws / "cfg.yaml"), "--no-mlflow"])
    printed = capsys.readouterr()
    text = printed.out + printed.err
    assert rc == 1 and "Traceback" not in text
    assert "no tokens for ['genomics']" in text and "never featurized" in text and "--modalities clinical" in text
    out = tcga_ws / "res2.json"
    assert main(["train", "-w", str(ws), "-c", str(tcga_ws / "cfg.yaml"), "--no-mlflow", "--modalities", "clinical",
                 "--json", str(out)]) == 0
    assert json.loads(out.read_text())["modalities"] == ["clinical"]
