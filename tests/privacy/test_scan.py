"""``clinfusion privacy-scan`` (issue 19): a clean ingested workspace passes, planted identifiers are
found inside every container kind, and the report never shows an identifier in full."""

from __future__ import annotations

import gzip
import json
import sqlite3
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from clinfusion.cli.app import main
from clinfusion.privacy.scan import mask_token, scan_workspace

SECRET = "Quillfeather-MRN-583920"
APP = Path(__file__).resolve().parents[2] / "apps" / "review" / "app.py"


@pytest.fixture(scope="module")
def ingested(tmp_path_factory):
    from clinfusion.ingest import ingest
    from clinfusion.testing import write_tiny_cohort

    base = tmp_path_factory.mktemp("scan")
    cohort = write_tiny_cohort(base / "cohort", n_patients=3)
    for pid in cohort.patients:
        (cohort.root / "reports" / pid).mkdir(parents=True)
        (cohort.root / "reports" / pid / "r.txt").write_text(
            f"Patient: Rosamund Quillfeather  MRN: {pid}-583920\nFINDINGS: No effusion. Seen by Dr. Ysolde Farthingale.")
    ingest(cohort.root, base / "ws", demo=True)
    return cohort, base / "ws"


def _png_with_text(path: Path, text: str) -> None:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return len(body).to_bytes(4, "big") + kind + body + zlib.crc32(kind + body).to_bytes(4, "big")

    ihdr = (1).to_bytes(4, "big") * 2 + bytes([8, 0, 0, 0, 0])
    idat = zlib.compress(b"\x00\x00")
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"zTXt", b"Comment\x00\x00" + zlib.compress(text.encode()))
                     + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


def test_an_ingested_workspace_holds_no_raw_id_and_no_planted_name(ingested, tmp_path, monkeypatch):
    cohort, ws = ingested
    tokens = tmp_path / "tokens.txt"
    tokens.write_text("Rosamund\nQuillfeather\nFarthingale\n")
    assert scan_workspace(ws, ["Rosamund", "Quillfeather", "Farthingale", *cohort.patients]) == []
    assert main(["privacy-scan", str(ws), "--tokens", str(tokens)]) == 0
    monkeypatch.setenv("CLINFUSION_DEMO", "1")
    assert main(["privacy-scan", str(ws), "--cohort", str(cohort.root)]) == 0  # operator mode: the raw ids


def test_identifiers_are_found_inside_every_kind_of_file(tmp_path, capsys):
    import nibabel as nib

    ws = tmp_path / "ws"
    (ws / "mlruns" / "1" / "abc" / "artifacts").mkdir(parents=True)
    pd.DataFrame({"patient": ["P1", "P2"], "note": ["ok", f"x {SECRET.lower()} y"]}).to_parquet(ws / "catalog.parquet")
    con = sqlite3.connect(ws / "mlflow.db")
    con.execute("CREATE TABLE params (key TEXT, value TEXT)")
    con.execute("INSERT INTO params VALUES ('cohort', ?)", (SECRET,))
    con.commit()
    con.close()
    (ws / "lineage.json").write_text(json.dumps({"runs": [{"args": {"who": SECRET}}]}))
    img = nib.Nifti1Image(np.zeros((2, 2, 2), np.float32), np.eye(4))
    img.header["descrip"] = SECRET.encode()
    nib.save(img, ws / "ct.nii.gz")
    _png_with_text(ws / "preview.png", f"patient {SECRET}")
    (ws / "mlruns" / "1" / "abc" / "artifacts" / "model.npy").write_bytes(b"\x93NUMPY" + SECRET.encode("utf-16-le"))
    with gzip.open(ws / "mlruns" / "1" / "abc" / "artifacts" / "log.txt.gz", "wt") as f:
        f.write("line one\n" + SECRET + "\n")
    hits = scan_workspace(ws, [SECRET])
    assert {h.file for h in hits} == {"catalog.parquet", "mlflow.db", "lineage.json", "ct.nii.gz", "preview.png",
                                      "mlruns/1/abc/artifacts/model.npy", "mlruns/1/abc/artifacts/log.txt.gz"}
    locations = {h.file: h.location for h in hits}
    assert locations["catalog.parquet"] == "row 1 column 'note'"
    assert locations["mlflow.db"] == "table params row 0 column value"
    assert locations["lineage.json"] == "json $.runs[0].args.who"
    assert locations["ct.nii.gz"] == "gzip member: nifti header descrip"
    assert locations["preview.png"] == "png zTXt chunk"
    assert locations["mlruns/1/abc/artifacts/log.txt.gz"] == "gzip member: line 2"
    assert main(["privacy-scan", str(ws), "--tokens", str(_write(tmp_path / "t.txt", SECRET))]) == 1
    out = capsys.readouterr().out
    assert SECRET not in out and mask_token(SECRET) in out and "7 hit(s)" in out


def test_short_tokens_are_refused_with_a_reason(tmp_path):
    from clinfusion.errors import ConfigError

    with pytest.raises(ConfigError, match="shorter than 4 characters"):
        scan_workspace(tmp_path, ["ab"])
    assert main(["privacy-scan", str(tmp_path), "--tokens", str(_write(tmp_path / "t.txt", "x1"))]) == 1


def test_the_review_apps_researcher_views_leave_no_identifier(ingested, monkeypatch):
    from clinfusion.review import users
    from clinfusion.review.store import DB_ENV
    from clinfusion.testing import apptest
    from streamlit.testing.v1 import AppTest

    cohort, ws = ingested
    monkeypatch.setenv("CLINFUSION_WORKSPACE", str(ws))
    monkeypatch.delenv(DB_ENV, raising=False)
    users.add_user(ws, "res", "scan-pass-123", "researcher", rounds=4)
    at = apptest.login(AppTest.from_file(str(APP), default_timeout=120), "res", "scan-pass-123")
    assert not at.exception
    shown = " ".join(str(e.value) for e in [*at.dataframe, *at.markdown, *at.text] if e.value is not None)
    assert not any(pid in shown for pid in cohort.patients)
    assert scan_workspace(ws, [*cohort.patients, "Rosamund", "Quillfeather"]) == []  # nor the store it wrote


def _write(path: Path, text: str) -> Path:
    path.write_text(text + "\n")
    return path
