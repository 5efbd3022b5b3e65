"""The ``clinfusion`` command: thin wrappers that parse, call the library and print.

Exit codes: 0 ok; 1 usage, configuration or validation error (a readable message, no traceback
unless ``--debug``); 2 finished, but some items were quarantined or failed.
"""

from __future__ import annotations

from clinfusion.cli.app import app, main

__all__ = ["app", "main"]
