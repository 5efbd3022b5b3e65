"""Microsoft Presidio (``presidio-analyzer``) as a :class:`~clinfusion.privacy.phi.base.PhiDetector`.

Presidio finds names with a spaCy NER model, but no spaCy model wheel (``en_core_web_sm``)
installs from the package index here, and models are never downloaded at run time. So this
detector runs Presidio's *pattern* recognizers (e-mail, phone numbers via
``phonenumbers``, dates, US SSN/ITIN/passport/driver licence/bank number, medical licence,
credit card, IBAN, IP address) with its no-op NLP engine (not its URL recognizer: its pattern
is super-linear on input like ``a.a.a.``, 5,000 characters took 11 s; the rules find URLs), plus a case-sensitive deny-list
recognizer for person names built from Faker's name lists (several locales; Faker is MIT
licensed and ships the lists, so nothing is fetched). The deny-list is a set lookup per
capitalised word (linear time): Presidio's own ``PatternRecognizer(deny_list=...)`` compiles the
~8,000 names into one alternation that costs ~0.1 ms per character of input. A spaCy model installed locally can be
named with ``spacy_model=`` to add Presidio's NER (``PERSON``, ``ORG``, ``LOCATION``).

Presidio and Faker import on the first :meth:`PresidioDetector.detect` (about 4 s).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from clinfusion.privacy.phi.base import PhiSpan, register

ENTITY_TYPES: dict[str, str] = {
    "EMAIL_ADDRESS": "EMAIL", "URL": "URL", "PHONE_NUMBER": "PHONE", "DATE_TIME": "DATE", "US_SSN": "ID",
    "US_ITIN": "ID", "US_PASSPORT": "ID", "US_DRIVER_LICENSE": "ID", "US_BANK_NUMBER": "ID", "MEDICAL_LICENSE": "ID",
    "CREDIT_CARD": "ID", "IBAN_CODE": "ID", "IP_ADDRESS": "ID", "PERSON": "NAME", "ORGANIZATION": "INSTITUTION",
    "ORG": "INSTITUTION", "LOCATION": "ADDRESS", "NRP": "", "LOC": "ADDRESS", "GPE": "ADDRESS",
}
"""Presidio entity -> PHI type (``""``: not PHI here, e.g. nationality)."""
NAME_LOCALES = ("en_US", "en_GB", "en_IE", "en_IN", "en_KE", "en_NG", "en_NZ", "en_PK", "fr_FR", "fr_CA", "fr_DZ",
                "de_DE", "de_AT", "de_CH", "es_ES", "es_MX", "es_AR", "es_CL", "es_CO", "it_IT", "pt_PT", "pt_BR",
                "nl_NL", "nl_BE", "pl_PL", "cs_CZ", "sk_SK", "sl_SI", "hr_HR", "hu_HU", "ro_RO", "da_DK", "no_NO",
                "sv_SE", "fi_FI", "is_IS", "et_EE", "lt_LT", "lv_LV", "tr_TR", "az_AZ", "uz_UZ", "id_ID", "vi_VN",
                "ga_IE", "ha_NG", "ig_NG", "yo_NG", "tw_GH", "zu_ZA", "sw")
"""Faker locales whose person-name lists feed the name gazetteer: every Latin-script locale of
Faker, so names of patients from anywhere (Icelandic, Finnish, Hungarian, Brazilian, Nigerian,
Vietnamese) are known words, not only Western European ones."""
_CAP_WORD = re.compile(r"(?<![\w'\-])[A-ZÀ-ÖØ-Þ][\w'\-]{1,40}+")
_DENY_CONFIDENCE = 0.6
_RECOGNIZERS = ("EmailRecognizer", "PhoneRecognizer", "DateRecognizer", "UsSsnRecognizer",
                "UsItinRecognizer", "UsPassportRecognizer", "UsLicenseRecognizer", "UsBankRecognizer",
                "MedicalLicenseRecognizer", "CreditCardRecognizer", "IbanRecognizer", "IpRecognizer")


@lru_cache(maxsize=1)
def faker_name_words() -> tuple[str, ...]:
    """First and last names of Faker's person providers for :data:`NAME_LOCALES` (capitalised, >= 3 letters)."""
    import importlib

    from clinfusion.privacy.phi.terms import protected_words

    words: set[str] = set()
    for loc in NAME_LOCALES:
        provider = importlib.import_module(f"faker.providers.person.{loc}").Provider
        for attr in ("first_names", "first_names_male", "first_names_female", "last_names"):
            values = getattr(provider, attr, ())
            if not isinstance(values, (dict, list, tuple, set, frozenset)):
                continue  # a computed attribute (property) in some locales: not a word list
            words.update(str(v) for v in (values.keys() if isinstance(values, dict) else values))
    protected = protected_words()
    return tuple(sorted(w for w in words if len(w) >= 3 and w[0].isupper() and " " not in w
                        and w.lower() not in protected))


@lru_cache(maxsize=1)
def _deny_set() -> frozenset[str]:
    return frozenset(faker_name_words())


@lru_cache(maxsize=1)
def _ambiguous_set() -> frozenset[str]:
    """Name words that are also common words (philter-lite's whitelist): ``Low``, ``May``,
    ``Short``, ``Rose``, ``Hope``. Alone they are words (``Low lung volumes``); they count as a
    name only beside another name word (``Rose Hope``), see :func:`deny_list_spans`."""
    from clinfusion.privacy.phi.gazetteer import common_words

    common = common_words()
    return frozenset(w for w in faker_name_words() if w.lower() in common)


def deny_list_spans(text: str) -> list[tuple[int, int]]:
    """Capitalised words of Faker's name lists; an ambiguous one (:func:`_ambiguous_set`) only
    when the capitalised word right before or after it (one space apart) is a name word too."""
    deny, ambiguous = _deny_set(), _ambiguous_set()
    words = list(_CAP_WORD.finditer(text))
    out = []
    for i, m in enumerate(words):
        w = m.group(0)
        if w not in deny:
            continue
        if w in ambiguous:
            prev = words[i - 1] if i > 0 else None
            nxt = words[i + 1] if i + 1 < len(words) else None
            beside = [o for o in (prev, nxt) if o is not None and o.group(0) in deny
                      and text[min(o.end(), m.end()):max(o.start(), m.start())] == " "]
            if not beside:
                continue
        out.append(m.span())
    return out


def _offline_tldextract() -> None:
    """Make ``tldextract`` (used by Presidio's e-mail validation) read its bundled suffix-list
    snapshot instead of fetching the Public Suffix List over the network."""
    import tldextract.tldextract as tx

    tx.TLD_EXTRACTOR = tx.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True)


def _analyzer(spacy_model: str | None) -> Any:

    _offline_tldextract()
    from presidio_analyzer import (
        AnalyzerEngine,
        RecognizerRegistry,
        predefined_recognizers,
    )
    from presidio_analyzer.nlp_engine import NlpEngineProvider, NoOpNlpEngine

    registry = RecognizerRegistry(supported_languages=["en"])
    for cls in _RECOGNIZERS:
        registry.add_recognizer(getattr(predefined_recognizers, cls)())
    if spacy_model:
        nlp = NlpEngineProvider(nlp_configuration={
            "nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": spacy_model}]}).create_engine()
        registry.add_recognizer(predefined_recognizers.SpacyRecognizer())
    else:
        nlp = NoOpNlpEngine(models=[{"lang_code": "en", "model_name": "none"}])
    return AnalyzerEngine(registry=registry, nlp_engine=nlp, supported_languages=["en"])


@register("presidio")
class PresidioDetector:
    """Presidio pattern recognizers + a name deny-list (see the module doc).

    Args:
        score_threshold: Presidio results below this score are dropped (Presidio scores, 0..1). The
            default 0.35 drops Presidio's "weak" 0.3 driver-licence pattern, which matched vertebral
            levels (``T12``, ``L1``) and ``x2`` in the IU reports (bench/deid.py).
        spacy_model: name or path of a locally installed spaCy model to add NER (optional).
    """

    name = "presidio"

    def __init__(self, score_threshold: float = 0.35, spacy_model: str | None = None) -> None:
        self.score_threshold = score_threshold
        self.spacy_model = spacy_model
        self._engine: Any = None

    def detect(self, text: str) -> list[PhiSpan]:
        """Spans of PHI in ``text``; confidence is Presidio's score."""
        if self._engine is None:
            self._engine = _analyzer(self.spacy_model)
        out = [PhiSpan(s, e, "NAME", _DENY_CONFIDENCE, self.name) for s, e in deny_list_spans(text)]
        for r in self._engine.analyze(text=text, language="en", score_threshold=self.score_threshold):
            kind = ENTITY_TYPES.get(r.entity_type, "ID")
            if kind and r.end > r.start:
                out.append(PhiSpan(r.start, r.end, kind, float(min(max(r.score, 0.0), 1.0)), self.name))
        return out
