"""Find dates in free text and shift them by a number of days, keeping each date's format.

Formats: ISO ``2024-03-07``, US ``03/07/2024`` and ``3/7/24`` (day-first when the first
number is above 12), dotted ``07.03.2024``, ``March 7, 2024``, ``Mar 7 2024``, ``7 March 2024``
``March 2024`` and ``29-Sep-90`` / ``29-Sep-1990`` (PTB ECG headers). A lone year is not shifted (HIPAA Safe Harbor keeps years).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
           "october", "november", "december")
_MONTH_RE = r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sept?(?:ember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"

# ``\s++`` (possessive): a month name followed by a long run of spaces is scanned once.
DATE_RE = re.compile(
    r"(?P<iso>\b(?P<iy>\d{4})-(?P<im>\d{1,2})-(?P<id>\d{1,2})\b)"
    r"|(?P<num>\b(?P<na>\d{1,2})(?P<sep>[/.-])(?P<nb>\d{1,2})(?P=sep)(?P<ny>\d{4}|\d{2})\b)"
    rf"|(?P<mdy>\b(?P<mm>{_MONTH_RE})\s++(?P<md>\d{{1,2}})(?:st|nd|rd|th)?,?\s++(?P<my>\d{{4}})\b)"
    rf"|(?P<dmy>\b(?P<dd>\d{{1,2}})(?:st|nd|rd|th)?\s++(?P<dm>{_MONTH_RE})\,?\s++(?P<dy>\d{{4}})\b)"
    rf"|(?P<my2>\b(?P<m2>{_MONTH_RE})\s++(?P<y2>(?:19|20)\d{{2}})\b)"
    rf"|(?P<dash>\b(?P<xd>\d{{1,2}})-(?P<xm>{_MONTH_RE})-(?P<xy>\d{{4}}|\d{{2}})\b)",
    re.IGNORECASE,
)


def _month_number(name: str) -> int:
    key = name.rstrip(".").lower()[:3]
    return next(i + 1 for i, m in enumerate(_MONTHS) if m.startswith(key))


def _month_name(month: int, like: str) -> str:
    """Month ``month`` written like ``like`` (abbreviated or full, upper or title case, dot kept)."""
    bare = like.rstrip(".")
    full = _MONTHS[month - 1]
    text = full[:3] if len(bare) <= 4 and bare.lower() != full else full
    text = text.upper() if bare.isupper() and len(bare) > 1 else text.capitalize()
    return text + ("." if like.endswith(".") else "")


def _pad(value: int, like: str) -> str:
    return f"{value:0{len(like)}d}" if like.startswith("0") or len(like) == 2 else str(value)


def _year(y: int, like: str) -> str:
    return f"{y % 100:02d}" if len(like) == 2 else str(y)


def _shift_iso(m: re.Match[str], days: int) -> str | None:
    d = _make(int(m["iy"]), int(m["im"]), int(m["id"]))
    if d is None:
        return None
    d += dt.timedelta(days=days)
    return f"{d.year:04d}-{_pad(d.month, m['im'])}-{_pad(d.day, m['id'])}"


def _shift_num(m: re.Match[str], days: int) -> str | None:
    a, b, y_txt = int(m["na"]), int(m["nb"]), m["ny"]
    y = int(y_txt) + (2000 if int(y_txt) < 50 else 1900) if len(y_txt) == 2 else int(y_txt)
    day_first = a > 12 or m["sep"] == "."
    month, day = (b, a) if day_first else (a, b)
    d = _make(y, month, day)
    if d is None:
        return None
    d += dt.timedelta(days=days)
    first, second = (d.day, d.month) if day_first else (d.month, d.day)
    la, lb = (m["na"], m["nb"])
    return f"{_pad(first, la)}{m['sep']}{_pad(second, lb)}{m['sep']}{_year(d.year, y_txt)}"


def _shift_words(m: re.Match[str], days: int) -> str | None:
    if m["mdy"]:
        d = _make(int(m["my"]), _month_number(m["mm"]), int(m["md"]))
        if d is None:
            return None
        d += dt.timedelta(days=days)
        sep = "," if "," in m["mdy"] else ""
        return f"{_month_name(d.month, m['mm'])} {d.day}{sep} {d.year}"
    if m["dmy"]:
        d = _make(int(m["dy"]), _month_number(m["dm"]), int(m["dd"]))
        if d is None:
            return None
        d += dt.timedelta(days=days)
        return f"{d.day} {_month_name(d.month, m['dm'])} {d.year}"
    if m["dash"]:
        y_txt = m["xy"]
        y = int(y_txt) + (2000 if int(y_txt) < 50 else 1900) if len(y_txt) == 2 else int(y_txt)
        d = _make(y, _month_number(m["xm"]), int(m["xd"]))
        if d is None:
            return None
        d += dt.timedelta(days=days)
        return f"{_pad(d.day, m['xd'])}-{_month_name(d.month, m['xm'])}-{_year(d.year, y_txt)}"
    d = _make(int(m["y2"]), _month_number(m["m2"]), 15)
    if d is None:
        return None
    d += dt.timedelta(days=days)
    return f"{_month_name(d.month, m['m2'])} {d.year}"


def _make(y: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(y, month, day)
    except ValueError:
        return None


def shift_dates(text: str, days: int, on_shift: Callable[[], None] | None = None) -> str:
    """Shift every recognised date in ``text`` by ``days``, keeping its format.

    Args:
        text: free text.
        days: offset in days (negative = into the past).
        on_shift: called once per shifted date (for counting).

    Returns:
        The text with dates shifted; strings that look like dates but are not valid calendar
        dates (``13/45/2020``) are replaced by ``[DATE]`` so they cannot leak.
    """

    def repl(m: re.Match[str]) -> str:
        if m["iso"]:
            new = _shift_iso(m, days)
        elif m["num"]:
            new = _shift_num(m, days)
        else:
            new = _shift_words(m, days)
        if on_shift:
            on_shift()
        return new if new is not None else "[DATE]"

    return DATE_RE.sub(repl, text)


_TIME_RE = re.compile(r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:?\d{2})?)?")


def shift_date_value(value: object, days: int) -> str | None:
    """Shift a structured date field (a CSV ``date`` cell) by ``days``.

    Returns:
        The shifted date in its own format (a trailing time of day kept), or ``None`` when the
        whole value is not one valid date: the caller must not store such a value (it may be
        a name or an identifier typed into the wrong column).
    """
    text = str(value).strip()
    iso_t = re.match(r"\d{4}-\d{1,2}-\d{1,2}(?=T)", text)  # ISO 8601 date-time: no word boundary before T
    end = iso_t.end() if iso_t else (m.end() if (m := DATE_RE.match(text)) else -1)
    if end < 0 or not _TIME_RE.fullmatch(text, end):
        return None
    shifted = shift_dates(text[:end], days)
    return None if "[DATE]" in shifted or shifted == text[:end] and days else shifted + text[end:]
