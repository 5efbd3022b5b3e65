"""Every PHI detector on small hand-made examples (issue 19), plus the contract all of them keep.

The library detectors load lazily (Presidio ~4 s, philter ~2.5 s); one instance per module.
"""

from __future__ import annotations

import pytest
from clinfusion.privacy.phi import PHI_TYPES, PhiPipeline, PhiSpan, detector_names, make_detector
from clinfusion.privacy.phi.rules import detect_rules

DETECTORS = detector_names()
CLINICAL = ("Parkinson disease", "Hodgkin lymphoma", "Bell palsy", "Crohn disease", "non-Hodgkin lymphoma")
DATES = {  # six formats -> the same date shifted by -10 days, in its own format
    "2024-03-07": "2024-02-26", "03/07/2024": "02/26/2024", "7 March 2024": "26 February 2024",
    "March 7, 2024": "February 26, 2024", "07.03.2024": "26.02.2024", "Mar 7 2024": "Feb 26 2024",
}


@pytest.fixture(scope="module", params=DETECTORS)
def detector(request):
    return make_detector(request.param)


def _covered(spans: list[PhiSpan], text: str, value: str) -> bool:
    start = text.index(value)
    return all(any(s.start <= i < s.end for s in spans) for i in range(start, start + len(value)) if not text[i].isspace())


def test_registry_lists_the_rules_and_both_libraries():
    assert {"rules", "presidio", "philter"} <= set(DETECTORS)
    with pytest.raises(Exception, match="expected one of"):
        make_detector("no-such-detector")


def test_contract_spans_are_typed_in_bounds_and_scored(detector):
    text = "Dr. John Smith saw the patient on 2024-03-07; call (617) 555-0199 or mail j.smith@example.org."
    spans = detector.detect(text)
    assert spans, detector.name
    for s in spans:
        assert 0 <= s.start < s.end <= len(text) and s.type in PHI_TYPES and 0.0 <= s.confidence <= 1.0
        assert s.source == detector.name


@pytest.mark.parametrize("term", CLINICAL)
def test_clinical_eponyms_survive_every_detector(detector, term):
    text = f"FINDINGS: {term} is noted. History of {term}."
    assert PhiPipeline([detector]).scrub(text, -10).text == text


def test_words_that_are_also_names_survive_in_lower_case(detector):
    text = "The patient has hope of recovery; a rose-coloured rash on the arm. Heart size is normal."
    assert PhiPipeline([detector]).scrub(text, -10).text == text


def test_every_detector_finds_an_email_and_an_iso_date(detector):
    text = "Contact j.smith@example.org about the scan of 2024-03-07."
    spans = detector.detect(text)
    assert _covered(spans, text, "j.smith@example.org") and _covered(spans, text, "2024-03-07")


# --- rules ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("raw", "shifted"), list(DATES.items()))
def test_rules_shift_dates_in_six_formats_keeping_the_format(raw, shifted):
    assert PhiPipeline(["rules"]).scrub(f"Seen on {raw}.", -10).text == f"Seen on {shifted}."


@pytest.mark.parametrize(("text", "value", "kind"), [
    ("MRN: 00482913 noted", "00482913", "MRN"), ("Accession: ACC123456789.", "ACC123456789", "ID"),
    ("SSN 123-45-6789.", "123-45-6789", "ID"), ("Phone: (555) 318-2290.", "(555) 318-2290", "PHONE"),
    ("Lives at 4821 Juniper Hollow Road, Ashbury Vale.", "4821 Juniper Hollow Road", "ADDRESS"),
    ("Transferred from Wrenfield General Hospital.", "Wrenfield General Hospital", "INSTITUTION"),
    ("see https://portal.example.org/x now", "https://portal.example.org/x", "URL"),
    ("Referring physician: Dr. Octavius Pemberton", "Octavius Pemberton", "NAME"),
    ("A 93-year-old woman.", "93-year-old", "AGE"),
])
def test_rules_find_each_type(text, value, kind):
    spans, _ = detect_rules(text)
    assert _covered(spans, text, value)
    assert any(s.type == kind for s in spans), [s.type for s in spans]


def test_rules_find_a_bare_name_without_title_or_label():
    """Bare names are found by the word lists (tests/privacy/phi/test_gazetteer_rules.py has more)."""
    spans, _ = detect_rules("Seen by Margaret today.")
    assert [(s.start, s.end, s.type) for s in spans] == [(8, 16, "NAME")]


# --- libraries -----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["presidio", "philter"])
def test_libraries_find_bare_names_and_names_that_are_words(name):
    det = make_detector(name)
    for text, value in [("Seen by Margaret today.", "Margaret"), ("Rose Hope was called back.", "Rose Hope")]:
        assert _covered(det.detect(text), text, value), (name, text)


def test_presidio_finds_identifiers_and_numeric_dates():
    det = make_detector("presidio")
    text = "SSN 078-05-1120, phone 212-555-0143, seen 03/07/2024 and March 7, 2024."
    spans = det.detect(text)
    for value in ("078-05-1120", "212-555-0143", "03/07/2024"):  # "March 7, 2024" it misses: the rules find it
        assert _covered(spans, text, value), value


def test_philter_runs_in_linear_chunks_on_a_long_input():
    det = make_detector("philter")
    text = ("No effusion. " * 200) + "Seen by Margaret today."
    spans = det.detect(text)
    assert _covered(spans, text, "Margaret") and all(s.end <= len(text) for s in spans)


def test_presidio_deny_list_takes_a_common_word_only_beside_a_name():
    """``Low``/``May`` are surnames in some Faker locales and words in every report."""
    det = make_detector("presidio")
    assert not [s for s in det.detect("Low lung volumes. May represent atelectasis.") if s.type == "NAME"]
    text = "Rose Hope was called back."
    assert _covered(det.detect(text), text, "Rose Hope")
