"""The secret key behind pseudonyms, UID remapping and date shifts.

The key is configuration, never part of the repository or the workspace's shared data:

1. ``CLINFUSION_PSEUDONYM_KEY`` (hex or any string of at least 16 characters), else
2. ``CLINFUSION_KEY_FILE`` (a file holding the key), else
3. in demo mode only, a local key generated once at ``<workspace>/.secrets/pseudonym.key``
   (mode 0600). Outside demo mode a missing key is a :class:`PrivacyError`, and so is a workspace
   that holds a demo key: a demo workspace is never used as if it held real data by accident.

Demo mode is ``demo=True`` (``clinfusion ingest --demo``, ``make demo``), or ``$CLINFUSION_DEMO=1``
for the later commands of a demo workspace (featurize, train, retrain, catalog ``--cohort``). A
process that was granted demo mode for a workspace (``load_key(ws, demo=True)``) keeps it for that
workspace, so the steps after ``ingest(..., demo=True)`` in one pipeline need no second flag.

The workspace records only the key's fingerprint (a hash of a hash), so ingesting the same
cohort with a different key into an existing workspace is detected instead of silently mixing
two pseudonym spaces.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from clinfusion.errors import PrivacyError

KEY_ENV = "CLINFUSION_PSEUDONYM_KEY"
KEY_FILE_ENV = "CLINFUSION_KEY_FILE"
DEMO_ENV = "CLINFUSION_DEMO"
DEMO_KEY_PATH = Path(".secrets") / "pseudonym.key"
_MIN_KEY_CHARS = 16
_demo_granted: set[str] = set()  # resolved workspace roots this process loaded with demo=True


@dataclass(frozen=True, repr=False)
class PseudonymKey:
    """A secret key; ``repr`` never shows it."""

    secret: bytes
    source: str

    def __repr__(self) -> str:
        return f"PseudonymKey(source={self.source!r}, fingerprint={self.fingerprint})"

    @property
    def fingerprint(self) -> str:
        """A non-reversible 16-hex-digit identifier of the key (safe to store and log)."""
        inner = hashlib.sha256(b"clinfusion-key-fingerprint" + self.secret).digest()
        return hashlib.sha256(inner).hexdigest()[:16]


def _from_text(text: str, source: str) -> PseudonymKey:
    text = text.strip()
    if len(text) < _MIN_KEY_CHARS:
        raise PrivacyError(
            f"pseudonymisation key from {source} is too short: expected at least {_MIN_KEY_CHARS} characters",
            field=KEY_ENV,
        )
    return PseudonymKey(text.encode("utf-8"), source)


def load_key(workspace: Path | None = None, *, demo: bool = False) -> PseudonymKey:
    """Find the pseudonymisation key.

    Args:
        workspace: workspace directory; in demo mode the generated key lives under it.
        demo: allow generating a local key when none is configured.

    Returns:
        The key.

    Raises:
        PrivacyError: no key configured and not in demo mode, or the key is unusable.
    """
    env = os.environ.get(KEY_ENV)
    if env:
        return _from_text(env, f"${KEY_ENV}")
    key_file = os.environ.get(KEY_FILE_ENV)
    if key_file:
        path = Path(key_file)
        if not path.is_file():
            raise PrivacyError("key file does not exist", file=path, field=KEY_FILE_ENV)
        return _from_text(path.read_text(), f"${KEY_FILE_ENV}")
    if workspace is not None:
        return _demo_key(Path(workspace), demo)
    raise _no_key()


def demo_mode(workspace: Path, demo: bool = False) -> bool:
    """Whether the demo key of ``workspace`` may be used: ``demo``, ``$CLINFUSION_DEMO``, or granted
    earlier in this process."""
    if demo or os.environ.get(DEMO_ENV, "").strip().lower() in ("1", "true", "yes"):
        return True
    return str(Path(workspace).resolve()) in _demo_granted


def _demo_key(workspace: Path, demo: bool) -> PseudonymKey:
    local = workspace / DEMO_KEY_PATH
    allowed = demo_mode(workspace, demo)
    if local.is_file() and not allowed:
        raise PrivacyError(
            "this workspace holds a generated demo key and no key is configured: pass --demo (or set "
            f"${DEMO_ENV}=1 for commands without --demo) to use it as a demo workspace, or configure the real "
            f"key with ${KEY_ENV} or ${KEY_FILE_ENV}", file=local, field=KEY_ENV)
    if not local.is_file():
        if not demo:  # only an explicit --demo generates a key; $CLINFUSION_DEMO only reuses one
            raise _no_key()
        workspace.mkdir(mode=0o700, parents=True, exist_ok=True)
        local.parent.mkdir(mode=0o700, exist_ok=True)
        os.chmod(local.parent, 0o700)
        fd = os.open(local, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    _demo_granted.add(str(workspace.resolve()))
    return _from_text(local.read_text(), "workspace demo key")


def _no_key() -> PrivacyError:
    return PrivacyError(
        f"no pseudonymisation key configured: set ${KEY_ENV} (at least {_MIN_KEY_CHARS} characters) "
        f"or ${KEY_FILE_ENV}, or pass --demo to generate a local key for a demo workspace",
        field=KEY_ENV,
    )
