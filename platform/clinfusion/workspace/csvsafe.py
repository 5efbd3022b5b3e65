"""CSV formula-injection neutralisation for every CSV the platform writes (OWASP "CSV Injection").

A spreadsheet opening a CSV evaluates a cell that begins with ``=``, ``+``, ``-``, ``@``, a tab
or a carriage return as a formula (``=HYPERLINK(...)``, ``@SUM(...)``, DDE payloads). Report
text, review comments and user names end up in exports, so every *text* cell (and column
name) that begins with one of those characters is prefixed with a single quote, which
spreadsheets show as text. Numbers are never touched: a numeric ``-3.5`` stays a number (only
cells of object/string columns that hold ``str`` values are rewritten).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

FORMULA_START: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")
"""Leading characters that make a spreadsheet treat a cell as a formula."""


def safe_cell(value: Any) -> Any:
    """``value`` with a leading ``'`` when it is a string that starts like a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_safe(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose text cells and column names cannot be read as formulas."""
    out = df.copy()
    for c in out.columns:
        if out[c].dtype == object or pd.api.types.is_string_dtype(out[c].dtype):
            out[c] = out[c].map(safe_cell)
    out.columns = [safe_cell(c) for c in out.columns]
    return out


def write_csv(df: pd.DataFrame, path: str | Path, **kwargs: Any) -> None:
    """Write ``df`` as CSV after :func:`csv_safe` (``kwargs`` go to ``DataFrame.to_csv``)."""
    csv_safe(df).to_csv(path, **{"index": False, **kwargs})
