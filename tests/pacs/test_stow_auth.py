"""``export-sr --stow URL --stow-auth basic|bearer``: credentials from environment variables NAMED on the command line."""

from __future__ import annotations

import pydicom
import pytest
from clinfusion.cli.app import main
from clinfusion.cli.pacs_cmds import stow_target
from clinfusion.errors import ConfigError
from clinfusion.pacs.client import PacsError
from clinfusion.pacs.sr import SrPrediction, prediction_sr, read_values, reference_dataset, store
from clinfusion.testing.orthanc import orthanc_missing, start_orthanc

URL = "http://127.0.0.1:9/dicom-web"


def test_no_stow_no_target_and_auth_options_need_stow():
    assert stow_target(None, None) is None
    with pytest.raises(ConfigError, match="need --stow URL"):
        stow_target(None, "bearer", token_env="PACS_TOKEN")
    with pytest.raises(ConfigError, match="--stow-auth basic or bearer"):
        stow_target(URL, None, token_env="PACS_TOKEN")


def test_option_errors_name_the_option(monkeypatch):
    with pytest.raises(ConfigError, match="--stow-token-env") as err:
        stow_target(URL, "bearer")
    assert err.value.field == "--stow-token-env"
    with pytest.raises(ConfigError, match="--stow-password-env"):
        stow_target(URL, "basic", user_env="PACS_USER")
    with pytest.raises(ConfigError) as err:
        stow_target(URL, "kerberos", token_env="PACS_TOKEN")
    assert err.value.field == "--stow-auth" and "bearer" in err.value.message
    with pytest.raises(ConfigError, match="without credentials"):
        stow_target("http://u:pw@host/dicom-web", None)
    monkeypatch.delenv("PACS_TOKEN", raising=False)
    with pytest.raises(ConfigError, match="'PACS_TOKEN'") as err:
        stow_target(URL, "bearer", token_env="PACS_TOKEN")
    assert err.value.field == "--stow-auth"


def test_bearer_token_sent_in_the_header_never_stored(monkeypatch):
    from clinfusion.pacs.client import make_client

    monkeypatch.setenv("PACS_TOKEN", "tok-123")
    cfg = stow_target(URL, "bearer", token_env="PACS_TOKEN")
    assert cfg.auth.token_env == "PACS_TOKEN" and "tok-123" not in cfg.model_dump_json()
    assert make_client(cfg)._session.headers["Authorization"] == "Bearer tok-123"


def test_cli_fails_before_any_work_when_the_variable_is_unset(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("NO_SUCH_PACS_TOKEN", raising=False)
    ws = tmp_path / "ws"
    ws.mkdir()
    code = main(["export-sr", "-w", str(ws), "--all", "--stow", URL, "--stow-auth", "bearer",
                 "--stow-token-env", "NO_SUCH_PACS_TOKEN"])
    out = capsys.readouterr()
    assert code != 0 and "NO_SUCH_PACS_TOKEN" in out.out + out.err
    assert not (ws / "exports").exists()


def _sr(folder):
    """An SR in the study of a one-slice CT (as export-sr builds it from a de-identified header)."""
    from clinfusion.testing.dicom import write_ct_series
    from pydicom.uid import generate_uid

    image = pydicom.dcmread(write_ct_series(folder / "ct", n_slices=1, rows=8, cols=8)[0], stop_before_pixels=True)
    ref = reference_dataset({k: str(image.get(k, "")) for k in ("PatientID", "PatientName", "StudyInstanceUID",
                                                                "SeriesInstanceUID", "SOPInstanceUID", "SOPClassUID",
                                                                "StudyDate", "Modality")})
    return prediction_sr(ref, SrPrediction(0.2, 40.0, "low", "final model", "m v1"), series_uid=generate_uid(),
                         sop_uid=generate_uid())


def test_basic_auth_stow_to_orthanc_with_a_user(tmp_path, monkeypatch):
    if orthanc_missing():
        pytest.skip(orthanc_missing())
    server = start_orthanc(user=("clin", "s3cret-pw"))
    try:
        sr = _sr(tmp_path)
        with pytest.raises(PacsError, match="STOW-RS store of the SR failed: HTTP 401"):
            store(sr, server.dicomweb_url, stow_target(server.dicomweb_url, None))
        monkeypatch.setenv("PACS_USER", "clin")
        monkeypatch.setenv("PACS_PASSWORD", "s3cret-pw")
        cfg = stow_target(server.dicomweb_url, "basic", user_env="PACS_USER", password_env="PACS_PASSWORD")
        store(sr, server.dicomweb_url, cfg)
        from clinfusion.pacs.client import make_client

        back = make_client(cfg).retrieve_instance(sr.StudyInstanceUID, sr.SeriesInstanceUID, sr.SOPInstanceUID)
        assert read_values(back)["Risk score"] == pytest.approx(0.2)
    finally:
        server.stop()
