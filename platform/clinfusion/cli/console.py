"""Shared console objects and small printing helpers for CLI commands."""

from __future__ import annotations

from typing import Any

import pandas as pd
from rich.console import Console
from rich.table import Table


def _console(stderr: bool) -> Console:
    c = Console(stderr=stderr, highlight=False)
    if not c.is_terminal:  # pipes and CI logs: do not wrap tables at 80 columns
        c = Console(stderr=stderr, highlight=False, width=160)
    return c


console = _console(False)
err_console = _console(True)
STATE: dict[str, Any] = {"debug": False}


def print_frame(frame: pd.DataFrame, title: str | None = None) -> None:
    """Print a DataFrame as a rich table."""
    table = Table(title=title, show_lines=False)
    for col in frame.columns:
        table.add_column(str(col), justify="right" if pd.api.types.is_numeric_dtype(frame[col]) else "left")
    for row in frame.itertuples(index=False):
        table.add_row(*["" if v is None else str(v) for v in row])
    console.print(table)
