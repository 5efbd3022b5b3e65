from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from clinfusion.errors import PrivacyError
from clinfusion.privacy import KEY_ENV, KEY_FILE_ENV, Pseudonymizer, load_key


def test_env_key_and_repr_hides_secret() -> None:
    key = load_key()
    assert key.source == f"${KEY_ENV}"
    assert "test-key" not in repr(key)
    assert len(key.fingerprint) == 16


def test_missing_key_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(KEY_ENV)
    with pytest.raises(PrivacyError, match=KEY_ENV):
        load_key(tmp_path)


def test_short_key_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "short")
    with pytest.raises(PrivacyError, match="too short"):
        load_key()


def test_key_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(KEY_ENV)
    f = tmp_path / "k"
    f.write_text("0123456789abcdef-file\n")
    monkeypatch.setenv(KEY_FILE_ENV, str(f))
    assert load_key().secret == b"0123456789abcdef-file"
    monkeypatch.setenv(KEY_FILE_ENV, str(tmp_path / "missing"))
    with pytest.raises(PrivacyError, match="does not exist"):
        load_key()


def test_demo_key_is_generated_once_and_private(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(KEY_ENV)
    k1 = load_key(tmp_path, demo=True)
    k2 = load_key(tmp_path, demo=True)
    assert k1.secret == k2.secret
    path = tmp_path / ".secrets" / "pseudonym.key"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_pseudonyms_are_deterministic_keyed_and_purpose_separated() -> None:
    pz = Pseudonymizer(load_key())
    assert pz.patient("MRN-1") == pz.patient("MRN-1")
    assert pz.patient("MRN-1") != pz.patient("MRN-2")
    assert pz.patient("MRN-1").startswith("P") and len(pz.patient("MRN-1")) == 13
    assert pz.token("item", "x") != pz.token("other", "x")
    from clinfusion.privacy.keys import PseudonymKey

    other = Pseudonymizer(PseudonymKey(b"another-key-0123456789", "test"))
    assert other.patient("MRN-1") != pz.patient("MRN-1")


def test_uid_remap_is_valid_dicom_uid() -> None:
    pz = Pseudonymizer(load_key())
    uid = pz.uid("1.2.840.113619.2.55.3.604688119.969.1268071029.320")
    assert uid == pz.uid("1.2.840.113619.2.55.3.604688119.969.1268071029.320")
    assert uid.startswith("2.25.") and len(uid) <= 64 and uid.replace(".", "").isdigit()


def test_date_shift_is_per_patient_in_range() -> None:
    pz = Pseudonymizer(load_key(), max_shift_days=30)
    shifts = {pz.date_shift_days(f"p{i}") for i in range(200)}
    assert all(-30 <= s <= -1 for s in shifts)
    assert len(shifts) > 20
