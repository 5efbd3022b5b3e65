"""Run the CLI so that file modes are enforced, also when the tests run as root.

Root ignores file modes (CAP_DAC_OVERRIDE and friends), so a test of "the workspace is read-only"
or "this input may not be read" would pass for the wrong reason; the command then runs under
``setpriv`` without the capabilities that bypass them.
"""

from __future__ import annotations

import os
import shutil
import sys

CLI = "from clinfusion.cli import main; raise SystemExit(main())"
_DROP = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search,-fowner,-linux_immutable"]


def mode_enforcing_cli() -> list[str] | None:
    """The argv prefix of a ``clinfusion`` run that honours file modes, or None (root without setpriv)."""
    if os.geteuid() != 0:
        return [sys.executable, "-c", CLI]
    if shutil.which("setpriv") is None:
        return None
    return [*_DROP, sys.executable, "-c", CLI]
