"""The project's hand-written rules as one :class:`~clinfusion.privacy.phi.base.PhiDetector`.

Patterns run in a fixed order on a *masked* copy of the text: protected medical terms
(:mod:`.terms`) and every span already found are overwritten by a private-use character of the
same length, so offsets never move and no later pattern can match inside an earlier span
(e-mail before URL, identifiers before phone numbers, addresses and institutions before names).
Then: person names by titles, labels and credentials (:mod:`.names`), every learnt name word
(and the caller's ``known_names``) wherever it recurs, ages over 89, dates (:mod:`.dates`), bare
names by word lists (:func:`.names.find_gazetteer_names`, after dates so that ``Jun`` in
``07 Jun 2025`` stays a date), and last, phone numbers in international digit groups and long
digit identifiers (after dates, so that ``07.03.2024`` stays a shiftable date).

Addresses cover US/UK street forms, one-word European street names with a house number
(``Kirchgasse 7``), Romance prefixes (``Via Garibaldi 21``), units, P.O. boxes and a trailing
``, City[, ST] postcode``, whole ``street number, City[, region] postcode`` lines in European and
Latin shapes (:data:`ADDRESS_LINE_RE`, united with the street matches), and the city and
"Country postcode" lines of an envelope-style block (:func:`address_block_spans`); institutions are capitalised sequences ending in a health keyword
(``Hospital``, ``Clinic``) or an organisation suffix (``Inc``, ``Ltd``, ``GmbH``, ``University``,
``Foundation``: capitalised or all-capital only, so ``bariatric surgery`` survives).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable

from clinfusion.privacy.phi.base import PhiSpan, register
from clinfusion.privacy.phi.charclass import LETTER, NOT_AFTER_NAME_CHAR, UPPER, WORD
from clinfusion.privacy.phi.dates import DATE_RE
from clinfusion.privacy.phi.names import find_gazetteer_names, find_names
from clinfusion.privacy.phi.places import find_cued_places
from clinfusion.privacy.phi.terms import protected_spans, protected_words

MASK = "\ue000"
"""Private-use character written over protected and already-found text (no pattern matches it)."""

# Linear-time patterns: every repetition that could meet a long run of the same characters is
# possessive (``*+``, ``++``: never re-scanned on failure) or bounded (``{0,40}``), and patterns
# that could start anywhere in such a run are anchored by a lookbehind to the start of the run.
# tests/security/test_regex_linear.py runs each of them on 200 kB adversarial inputs.
EMAIL_RE = re.compile(r"(?<![\w.+\-])[\w.+\-]++@[\w\-]++(?:\.[\w\-]++)+")
URL_RE = re.compile(r"\b(?:https?://|www\.)\S++", re.IGNORECASE)
# an identifier token: letters, digits and hyphens with a run of >= 3 digits in its first 44 chars
_ID_TOKEN = r"(?:[A-Z\-]|\d(?!\d\d)){0,40}\d{3}[A-Z0-9\-]*+"
MRN_RE = re.compile(
    rf"\bMRN[\s#:\-]*+{_ID_TOKEN}"
    r"|\b(?:medical\s++record(?:\s++(?:number|no\.?|#))?|record\s++(?:number|no\.?)|hospital\s++(?:number|no\.?)|"
    rf"patient\s++(?:id|number|no\.?))[\s#:\-]*+{_ID_TOKEN}",
    re.IGNORECASE,
)
ID_RE = re.compile(
    r"\b(?:accession|acc|ssn|social\s++security|account|acct|encounter|visit|case|specimen\s++id|lab\s++id|"
    r"health\s++(?:card|plan)|insurance|policy|member|license|licence|device\s++serial)(?:\s++(?:number|no\.?|id|#))?"
    r"[\s#:\-]*+[A-Z]{0,4}[\-]?\d[\dA-Z\-]{3,}+"
    r"|\bACC\d{5,}+\b|\b\d{3}-\d{2}-\d{4}\b",
    re.IGNORECASE,
)
PHONE_RE = re.compile(
    r"(?:\+?1[\s.\-]?)?\(\d{3}\)[\s.\-]?\d{3}[\s.\-]\d{4}\b"
    r"|\b(?:\+?1[\s.\-])?\d{3}[.\-\s]\d{3}[.\-]\d{4}\b"
    r"|\b(?:phone|tel|telephone|fax|pager|mobile|cell|bleep|ext)\.?[\s#:\-]*+\+?[\d()][\d()\s.\-]{5,80}\d",
    re.IGNORECASE,
)
# digit groups right after a phrase that says a phone number follows ("call me at 30-17-42-66",
# "messages to 94 31 11"): >= 6 digits (checked in detect_rules), any grouping
CUED_PHONE_RE = re.compile(
    r"(?i:\b(?:call(?:[ \t]++me)?(?:[ \t]++(?:at|on))?|reach(?:[ \t]++me)?[ \t]++(?:at|on)|text(?:[ \t]++me)?[ \t]++(?:at|on)|"
    r"messages?[ \t]++to|registered(?:[ \t]++(?:number|phone|mobile))?|(?:phone|mobile|cell)[ \t]++number(?:[ \t]++is)?|"
    r"contact(?:[ \t]++me)?[ \t]++(?:at|on)))[ \t]*+:?[ \t]*+(\+?[\d(][\d()]*+(?:[ \t.\-][\d()]++){0,6}+)")
_STREET = (r"(?:Street|St|Avenue|Ave|Road|Rd|Lane|Ln|Drive|Dr|Court|Ct|Way|Row|Crescent|Boulevard|Blvd|"
           r"Place|Pl|Terrace|Hollow|Close|Square|Parkway|Pkwy|Highway|Hwy|Circle|Cir|Trail|Walk|Gardens|Hill|"
           r"Mews|Grove|Park|Green|Rise|View|Vale|Heights|Alley|Plaza|Loop|Pike|Run|Path|Crossing|Quay|Wharf)")
# street types that name a street without a house number ("Ridge Road", "Rissik St")
_STREET_NO_NUMBER = (r"(?:Street|St|Avenue|Ave|Road|Rd|Lane|Ln|Drive|Boulevard|Blvd|Parkway|Pkwy|Highway|Hwy|"
                     r"Terrace|Crescent|Court)")
# street-type endings of a one-word street name in other European languages (Zeppelinstraße,
# Lindargata, Ebbevegen, Kerkstraat, Algade): the word must be followed by a house number
_STREET_ENDINGS = (r"(?:stra(?:ss|ß)e|str\.?|gasse|weg|allee|platz|ring|damm|ufer|gata|gatan|gade|vej|vegen|veien|"
                   r"v[äa]gen|straat|laan|plein|gracht|katu|tie|utca|ulica|cesta|ulice)")
_STREET_PREFIX = r"(?:Rue|Rua|Via|Viale|Calle|Avenida|Av\.|Avenue|Piazza|Praça|Plaza|Paseo|Carrer|Chemin|Boulevard|Ulica)"
_CAP = rf"(?:{WORD}|{UPPER})"  # a capitalised word or a lone capital
# ", City[, ST] 12345" after a street: a city of 1-3 capitalised (or all-capital) words, then an
# optional state/region code and a postcode (US ZIP+4, UK, Canadian, Brazilian, 3-5 digits)
_POSTCODE = (r"(?:[A-Z]{1,3}[ \t]++)?(?:[A-Z]{1,2}\d[A-Z\d]?[ \t]++\d[A-Z]{2}|[A-Z]\d[A-Z][ \t]?\d[A-Z]\d|"
             r"\d{5}-\d{3}|\d{3,5}(?:-\d{4})?)\b")
_CITY_TAIL = rf"(?:[ \t]*+,[ \t]*+{WORD}(?:[ \t]++{WORD}){{0,2}}+(?:[ \t]*+,?[ \t]*+{_POSTCODE})?)?"
_UNIT = r"(?:[ \t]*+,?[ \t]*+(?:Apt|Suite|Unit|Flat|Floor|Ste|Room)\.?[ \t]*+#?\w{1,10}+)?"
ADDRESS_RE = re.compile(
    rf"\b\d{{1,5}}[A-Za-z]?[ \t]++(?:{_CAP}[ \t]++){{0,4}}{WORD}[ \t]++{_STREET}\b\.?{_UNIT}{_CITY_TAIL}"
    rf"|\b\d{{1,5}}[A-Za-z]?[ \t]++{_STREET_PREFIX}(?:[ \t]++(?:{_CAP}|de|da|do|dos|das|del|di|la|le|des)){{1,6}}+{_UNIT}{_CITY_TAIL}"
    rf"|{NOT_AFTER_NAME_CHAR}{_STREET_PREFIX}(?:[ \t]++(?:{_CAP}|de|da|do|dos|das|del|di|la|le|des)){{1,6}}+"
    rf"[ \t]++\d{{1,5}}[A-Za-z]?\b{_UNIT}{_CITY_TAIL}"
    rf"|{NOT_AFTER_NAME_CHAR}{UPPER}{LETTER}{{1,30}}(?i:{_STREET_ENDINGS})[ \t]++\d{{1,5}}[A-Za-z]?\b{_UNIT}{_CITY_TAIL}"
    rf"|{NOT_AFTER_NAME_CHAR}(?:{WORD}[ \t]++){{1,3}}{_STREET_NO_NUMBER}\b\.?"
    rf"|{NOT_AFTER_NAME_CHAR}{_STREET_PREFIX}(?:[ \t]++(?:de|da|do|dos|das|del|di|la|le|des))?(?:[ \t]++{WORD}){{1,4}}+"
    rf"|{NOT_AFTER_NAME_CHAR}{UPPER}{LETTER}{{1,30}}(?i:stra(?:ss|ß)e|gasse|gata|gatan|vegen|veien|straat|vej|weg)\b"
    r"|\b(?:Apt|Suite|Unit|Flat)\.?[ \t]*+#?\d{1,6}[A-Z]?\b"
    r"|(?i:\b(?:address|addr|residence|lives at)\b\.?[ \t]*+:[ \t]*+[^\n]++)"
    rf"|(?i:\bP\.?[ \t]?O\.?[ \t]*+Box[ \t]++\d++){_CITY_TAIL}",
)
# A whole address line "street number, City[, region] postcode" in any European/Latin shape
# (Sokolovská 1732, Moravský Beroun, MO 793 05 / 19 rue La Boétie, PARIS, IL 75014): the street
# part is 1-6 capitalised words, particles or street abbreviations around a house number, the
# city 1-5 capitalised words, the postcode one of the shapes below. The trailing postcode is what
# makes the line an address; without it ("Grade 3, Stage II") nothing matches.
_PARTICLE = r"(?:de|da|do|dos|das|del|di|du|des|la|le|les|e|i|y|van|von|der|den|am|an|im|sur|en|och|pri|na|nad|pod|bei|ob)"
_LC_STREET = (r"(?:rue|route|cours|chemin|impasse|all[ée]e|avenue|via|viale|calle|rua|ul\.|ulica|avda\.|str\.|C/|c/|"
              r"vei|veien|vej|vegen|gate|gata|gatan|gade|gasse|weg|stra(?:ss|ß)e|u\.|utca|út|tér|rakpart|körút|"
              r"P\.?[ \t]?O\.?[ \t]*+Box|Postbox)")
_STREET_WORD = rf"(?:{_CAP}\.?|{_PARTICLE}|{_LC_STREET})"
_CITY = rf"{_CAP}(?:[ \t]++(?:{_CAP}|{_PARTICLE})){{0,4}}"
_POSTCODE_ANY = (r"(?:[A-Z]{1,2}\d[A-Z\d]?[ \t]++\d[A-Z]{2}|[A-Z]\d[A-Z][ \t]?\d[A-Z]\d|\d{5}-\d{3}|\d{2}-\d{3}|"
                 r"\d{4}-\d{3}|\d{3}[ \t]\d{2}(?!\d)|\d{4}[ \t]?[A-Z]{2}(?![A-Za-z])|\d{3,5}(?:-\d{4})?)")
ADDRESS_LINE_RE = re.compile(
    rf"(?:\b\d{{1,5}}[A-Za-z]?(?:[ \t]++{_STREET_WORD}){{1,6}}"
    rf"|{NOT_AFTER_NAME_CHAR}(?:{_LC_STREET}|{_CAP}\.?)(?:[ \t]++{_STREET_WORD}){{0,5}}[ \t]++\d{{1,5}}[A-Za-z]?\.?)"
    rf"[ \t]*+,[ \t]*+{_CITY}[ \t]*+,?[ \t]*+(?:[A-Z]{{1,3}}[ \t]++|\d{{1,2}}[ \t]++)?{_POSTCODE_ANY}\b"
    rf"|(?i:\b(?:zip(?:[ \t]?code)?|postal[ \t]?code|post[ \t]?code)\b)[ \t]*+:?[ \t]*+{_POSTCODE_ANY}\b"
    r"|\bP\.?[ \t]?O\.?[ \t]*+Box\b|\bPostbox[ \t]++\d++\b"
    # a house number and street right before a unit (5015 Avda. Rio Nalon Suite 3)
    rf"|\b\d{{1,5}}[A-Za-z]?(?:[ \t]++{_STREET_WORD}){{1,5}}(?=[ \t]*+,?\s{{0,4}}(?:Apt|Suite|Unit|Flat|Ste)\b)"
)
# One line of an address block (city, "Country postcode", region, postcode) after an address line
_BLOCK_LINE = re.compile(
    rf"[ \t]*+[>?*\u2022\-]*+[ \t]*+((?:{_CAP}|{_POSTCODE_ANY})(?:[ \t]++(?:{_CAP}|{_PARTICLE}|{_POSTCODE_ANY})){{0,5}})"
    r"[ \t]*+")
# the street line before a unit line ("5015 Avda. Rio Nalon" above "Suite 3")
_STREET_LINE = re.compile(rf"[ \t]*+[>?*\u2022\-]*+[ \t]*+(\d{{1,5}}[A-Za-z]?(?:[ \t]++{_STREET_WORD}){{1,6}})[ \t]*+")
_ENDS_WITH_POSTCODE = re.compile(r"\d[ \t]?[A-Z]{0,2}$")
_MAX_BLOCK_LINES = 3
_MAX_BLOCK_LINE_CHARS = 60


def _line_bounds(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of every line of ``text`` (without its newline)."""
    lines: list[tuple[int, int]] = []
    pos = 0
    for line in text.split("\n"):
        lines.append((pos, pos + len(line)))
        pos += len(line) + 1
    return lines


def _lines_below(text: str, lines: list[tuple[int, int]], i: int) -> list[tuple[int, int]]:
    """Block lines after line ``i``: up to three, at most one blank between, ending at a postcode."""
    out: list[tuple[int, int]] = []
    blanks = 0
    for ls, le in lines[i + 1:i + 2 + _MAX_BLOCK_LINES]:
        if not text[ls:le].strip():
            blanks += 1
            if blanks > 1:
                break
            continue
        m = _BLOCK_LINE.fullmatch(text, ls, le) if le - ls <= _MAX_BLOCK_LINE_CHARS else None
        if m is None:
            break
        out.append(m.span(1))
        if _ENDS_WITH_POSTCODE.search(m.group(1)):
            break  # "Country postcode" closes the block
    return out


def address_block_spans(text: str, spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Lines of a postal address block around address spans that end their line.

    An envelope-style block puts the street, unit, city and "Country postcode" on lines of their
    own; the street and unit are found by the patterns, the city and postcode lines only by their
    place. After an address span that ends its line, up to three following short lines (at most
    one blank between) made only of capitalised words, particles and postcodes are addresses too,
    and so is a "number street" line right above it.
    """
    lines = _line_bounds(text)
    starts = [ls for ls, _ in lines]
    out: list[tuple[int, int]] = []
    for s, e in spans:
        i = bisect.bisect_right(starts, max(e - 1, s)) - 1
        if not text[e:lines[i][1]].strip():
            out += _lines_below(text, lines, i)
        k = bisect.bisect_right(starts, s) - 1
        if k > 0 and not text[lines[k][0]:s].strip(" \t>?*\u2022-"):
            ps, pe = lines[k - 1]
            m = _STREET_LINE.fullmatch(text, ps, pe) if pe - ps <= _MAX_BLOCK_LINE_CHARS else None
            if m is not None:
                out.append(m.span(1))
    return out


_ORG_WORD = rf"(?:{UPPER}[\w'&.\-/]{{0,30}}+|&|and|of|the|for|de|du|des|der|und|di)"
_ORG_SUFFIX_WORDS = (
    "Inc", "Incorporated", "LLC", "L.L.C", "Ltd", "Limited", "PLC", "Plc", "Corp", "Corporation", "Co", "Company",
    "Group", "Holding", "Holdings", "Trust", "Fund", "Partners", "Associates", "Foundation", "Bancorp", "Bank",
    "Industries", "Technologies", "Systems", "Services", "Solutions", "Enterprises", "International",
    "Pharmaceuticals", "Therapeutics", "Biosciences", "GmbH", "AG", "SA", "S.A", "SE", "NV", "N.V", "BV", "B.V",
    "AB", "ASA", "A/S", "Oyj", "SpA", "S.p.A", "SCA", "SAS", "KK", "LP", "L.P", "LLP", "University", "College",
    "School", "Academy", "Society", "Association", "Council", "Agency", "Ministry", "Church", "Hospice",
    "Pharmacy", "Practice", "Surgery", "Centre", "Center", "plc")
# capitalised or all-capital suffixes only: "Technically limited" and "bariatric surgery" are not organisations
_ORG_SUFFIX = "(?:" + "|".join(sorted({re.escape(w) for s in _ORG_SUFFIX_WORDS for w in (s, s.upper())},
                                      key=len, reverse=True)) + ")"
INSTITUTION_RE = re.compile(
    rf"\b(?:(?i:St)\.?[ \t]++)?(?:{WORD}[ \t]++){{1,4}}"
    r"(?i:Hospital|Medical[ \t]++Cent(?:er|re)|Infirmary|Institute|Clinic|Health[ \t]++System|Healthcare|"
    r"Cancer[ \t]++Cent(?:er|re)|Imaging[ \t]++Cent(?:er|re)|Laboratories|Laboratory)\b"
    rf"|{NOT_AFTER_NAME_CHAR}(?:The[ \t]++)?{UPPER}[\w'&.\-/]{{0,30}}+(?:[ \t]++{_ORG_WORD}){{0,6}},?[ \t]++"
    rf"{_ORG_SUFFIX}\b\.?(?:[ \t]*+(?i:Ltd|Inc|Co|II|III)\b\.?)?"
    rf"|{NOT_AFTER_NAME_CHAR}(?:University|College|Bank|Ministry|Department)[ \t]++of(?:[ \t]++(?:{WORD}|the|and)){{1,4}}+"
    r"|(?i:\b(?:institution|hospital|facility|employer|company|organi[sz]ation)[ \t]*+:[ \t]*+[^\n]++)"
    # brand names written in lower case before an unambiguous company suffix (elexxion AG, fuboTV Inc.)
    r"|(?<![\w.\-])[a-z][\w'&\-]{1,30}+(?:[ \t]++[a-z][\w'&\-]{1,30}+){0,2}[ \t]++(?:GmbH|AG|Inc|LLC|Ltd|plc|S\.A|N\.V)\b\.?"
)
AGE_RE = re.compile(
    r"\b(?:9\d|1[0-4]\d)[ \t]*+-?[ \t]*+(?:years?|yrs?)[ \t]*+-?[ \t]*+old\b"
    r"|\b(?:9\d|1[0-4]\d)[ \t]*+(?:y/?o|y\.o\.|yo|yrs?)(?![A-Za-z])"
    r"|\b(?:age[ds]?|aged)[ \t]*+:?[ \t]*+(?:9\d|1[0-4]\d)\b",
    re.IGNORECASE,
)
IP_RE = re.compile(r"(?<![\w.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?![\w.])"
                   r"|(?<![\w:])(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}(?![\w:])")
IBAN_RE = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}+(?:[ ]?[A-Z0-9]{1,3})?\b")
CARD_RE = re.compile(r"\b\d{4}(?:[ \-]?\d{4}){2}(?:[ \-]?\d{1,4}){1,2}\b|\b\d{4}[ \-]?\d{6}[ \-]?\d{5}\b")
DOMAIN_RE = re.compile(r"(?<![\w@.\-])(?:[A-Za-z0-9\-]{1,63}\.){1,4}+(?:com|org|net|edu|gov|io|info|biz|uk|de|fr|"
                       r"nl|es|ca|au|ch|se|dk|fi|pl|cz|za|br|jp|cn|ru)(?:/[^\s]*+)?(?![\w\-])")
PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("EMAIL", EMAIL_RE), ("URL", URL_RE), ("URL", DOMAIN_RE), ("MRN", MRN_RE), ("ID", ID_RE), ("ID", IP_RE),
    ("ID", IBAN_RE), ("ID", CARD_RE), ("PHONE", PHONE_RE), ("ADDRESS", ADDRESS_RE), ("INSTITUTION", INSTITUTION_RE),
)
"""The pattern steps before names, in order."""
# after dates (so that 07.03.2024 stays a shiftable date): digit groups that look like a phone
# number (>= 7 digits in 2-5 groups of 2-5, optional +country code and (area) code), and any
# token of >= 5 digits, optionally with up to 4 letters around it (licence, account, record numbers)
INTL_PHONE_RE = re.compile(
    r"(?<![\w+.,/\-])(?:\+\d{1,3}[ \t.\-]?)?(?:\(\d{1,4}\)[ \t.\-]?)?\d{1,5}(?:[ \t.\-]\d{2,8}){1,4}+(?![\w.,/\-]\d|[\w])")
_MIN_PHONE_DIGITS = 7
LONG_ID_RE = re.compile(r"(?<![\w\-])[A-Z]{0,4}\d{5,20}+[A-Z]{0,4}(?![\w\-])")

_CONFIDENCE = {"titled": 0.95, "propagated": 0.85}


def _mask(text: str, spans: Iterable[tuple[int, int]]) -> str:
    chars = list(text)
    for s, e in spans:
        chars[s:e] = MASK * (e - s)
    return "".join(chars)


def _union(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping or touching ``(start, end)`` intervals merged, sorted."""
    out: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def _name_word_pattern(words: Iterable[str]) -> re.Pattern[str] | None:
    words = sorted({w for w in words if len(w) >= 2}, key=len, reverse=True)
    if not words:
        return None
    return re.compile(rf"(?<!{LETTER})(?:" + "|".join(re.escape(w) for w in words) + rf")(?!{LETTER})", re.IGNORECASE)


def detect_rules(text: str, known_names: Iterable[str] = ()) -> tuple[list[PhiSpan], set[str]]:
    """Run every rule on ``text`` (already NFC-normalised).

    Args:
        text: the text.
        known_names: name words already learnt for this patient (e.g. from another report).

    Returns:
        ``(spans, learnt)``: non-overlapping spans, and the name words found by titles, labels
        and credentials (original case; keep them in memory only, to propagate to the
        patient's other texts).
    """
    masked = _mask(text, protected_spans(text))
    spans: list[PhiSpan] = []

    def add(kind: str, found: list[tuple[int, int]], confidence: float = 1.0) -> None:
        nonlocal masked
        spans.extend(PhiSpan(s, e, kind, confidence, "rules") for s, e in found if e > s)
        masked = _mask(masked, found)

    add("PHONE", [m.span(1) for m in CUED_PHONE_RE.finditer(masked) if sum(c.isdigit() for c in m.group(1)) >= 6])
    for kind, pattern in PATTERNS:
        if pattern is ADDRESS_RE:  # both address patterns on the same text, overlapping matches united
            found = _union([m.span() for p in (ADDRESS_RE, ADDRESS_LINE_RE) for m in p.finditer(masked)])
            add(kind, found)
            add(kind, [b for b in address_block_spans(masked, found) if MASK not in masked[b[0]:b[1]]])
            continue
        add(kind, [m.span() for m in pattern.finditer(masked)])
    add("ADDRESS", find_cued_places(masked, protected_words()))
    name_spans, learnt = find_names(masked, protected_words())
    add("NAME", name_spans, _CONFIDENCE["titled"])
    pattern = _name_word_pattern(learnt | set(known_names))
    if pattern is not None:
        add("NAME", [m.span() for m in pattern.finditer(masked)], _CONFIDENCE["propagated"])
    add("AGE", [m.span() for m in AGE_RE.finditer(masked)])
    add("DATE", [m.span() for m in DATE_RE.finditer(masked)])
    for s, e, c in find_gazetteer_names(masked, protected_words()):  # after dates: "Jun", "April" are names too
        add("NAME", [(s, e)], c)
    add("PHONE", [m.span() for m in INTL_PHONE_RE.finditer(masked)
                  if sum(c.isdigit() for c in m.group(0)) >= _MIN_PHONE_DIGITS])
    add("ID", [m.span() for m in LONG_ID_RE.finditer(masked)])
    return spans, learnt


@register("rules")
class RulesDetector:
    """The hand-written rules (:func:`detect_rules`) behind the detector contract.

    Args:
        known_names: name words to remove wherever they occur (set per patient by the pipeline).
    """

    name = "rules"

    def __init__(self, known_names: Iterable[str] = ()) -> None:
        self.known_names = set(known_names)

    def detect(self, text: str) -> list[PhiSpan]:
        """Spans of PHI in ``text``."""
        return detect_rules(text, self.known_names)[0]
