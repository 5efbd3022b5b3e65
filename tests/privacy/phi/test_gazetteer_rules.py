"""The rules' word-list names and the patterns for addresses, institutions and identifiers (issue 19).

Hand-made examples only (none from the bench's evaluation set). The word lists are philter-lite's
name and whitelist sets and Faker's names (:mod:`clinfusion.privacy.phi.gazetteer`).
"""

from __future__ import annotations

import pytest
from clinfusion.privacy.phi import PhiPipeline
from clinfusion.privacy.phi.gazetteer import common_words, name_words, place_words
from clinfusion.privacy.phi.rules import detect_rules


def _types_over(text: str, value: str) -> set[str] | None:
    """Types of the spans covering every non-space character of ``value``; ``None`` if any is uncovered."""
    spans, _ = detect_rules(text)
    start = text.index(value)
    kinds: set[str] = set()
    for i in range(start, start + len(value)):
        if text[i].isspace():
            continue
        hit = [s for s in spans if s.start <= i < s.end]
        if not hit:
            return None
        kinds.update(s.type for s in hit)
    return kinds


def test_word_lists_load_and_separate_names_from_words():
    names, common = name_words(), common_words()
    assert {"margaret", "rose", "hope"} <= names and {"rose", "hope", "chest", "effusion"} <= common
    assert "margaret" not in common and "france" in place_words()


@pytest.mark.parametrize(("text", "value"), [
    ("Seen by Margaret today.", "Margaret"),
    ("Rose Hope was called back.", "Rose Hope"),
    ("The results were discussed with Hope Margolis.", "Hope Margolis"),
    ("Seen by Rose today.", "Rose"),
    ("Margaret Qwzykowa phoned.", "Margaret Qwzykowa"),
    ("Letter copied to Jan van der Berg.", "Jan van der Berg"),
    ("Discussed with Brandtvedt on the ward.", "Brandtvedt"),
])
def test_bare_names_are_found_without_a_title(text, value):
    assert _types_over(text, value) == {"NAME"}


@pytest.mark.parametrize("text", [
    "Hope remains for a full recovery.", "The patient has hope of recovery; a rose-coloured rash on the arm.",
    "Well-expanded lungs. T-spine degenerative change. Left-sided effusion.",
    "Parkinson disease and Hodgkin lymphoma. Bell palsy resolved. Swimmer's view obtained.",
    "Travelled to France in May. Heart size is normal.", "Technically limited study after bariatric surgery.",
    "Nodule of 2.5 cm at T12; 3 views of the chest; BP 120/80; 0.9% saline 1000 mL.",
    "COPD. CABG in the past. No acute cardiopulmonary abnormality.",
])
def test_clinical_and_common_words_survive(text):
    assert PhiPipeline(["rules"]).scrub(text, -10).text == text


def test_month_names_stay_dates_not_names():
    text = "Admitted 07 Jun 2025 and seen again April 8, 2025."
    assert _types_over(text, "07 Jun 2025") == {"DATE"} and _types_over(text, "April 8, 2025") == {"DATE"}


@pytest.mark.parametrize(("text", "value", "kind"), [
    ("Lives at Kirchgasse 7, Hallstatt 4830.", "Kirchgasse 7, Hallstatt 4830", "ADDRESS"),
    ("Sent to Via Garibaldi 21, Torino.", "Via Garibaldi 21, Torino", "ADDRESS"),
    ("Moved to 1600 Pennsylvania Avenue, Suite 400, Springfield, IL 62704.",
     "1600 Pennsylvania Avenue, Suite 400, Springfield, IL 62704", "ADDRESS"),
    ("Her flat is on Marlowe Road near the park.", "Marlowe Road", "ADDRESS"),
    ("Write to Sokolovská 1732, Moravský Beroun, MO 793 05 today.", "Sokolovská 1732, Moravský Beroun, MO 793 05",
     "ADDRESS"),
    ("Lives at 19 rue La Boétie, PARIS, IL 75014 now.", "19 rue La Boétie, PARIS, IL 75014", "ADDRESS"),
    ("Moved to Søren Jaabæks vei 148, MANDAL,  4515 in May.", "Søren Jaabæks vei 148, MANDAL,  4515", "ADDRESS"),
    ("Post to P.O. Box 43, Ikerasassuaq, KU 3924.", "P.O. Box 43, Ikerasassuaq, KU 3924", "ADDRESS"),
    ("Home: Kárpát u. 16., Veszprémgalsa, VE 8475.", "Kárpát u. 16., Veszprémgalsa, VE 8475", "ADDRESS"),
    ("ZIP: 3665", "3665", "ADDRESS"),
    ("Works for elexxion AG in sales.", "elexxion AG", "INSTITUTION"),
    ("Employed by Acme Widget Holdings Inc. since 2010.", "Acme Widget Holdings Inc.", "INSTITUTION"),
    ("Referred by the University of Westmarch.", "University of Westmarch", "INSTITUTION"),
    ("Works at NORTHWIND TRADERS LTD in town.", "NORTHWIND TRADERS LTD", "INSTITUTION"),
    ("Portal login from 10.2.33.4 failed.", "10.2.33.4", "ID"),
    ("Refund to DE89 3704 0044 0532 0130 00 please.", "DE89 3704 0044 0532 0130 00", "ID"),
    ("Card 4111 1111 1111 1111 on file.", "4111 1111 1111 1111", "ID"),
    ("Driver licence D1234567 was shown.", "D1234567", "ID"),
    ("Call +44 20 7946 0958 after six.", "+44 20 7946 0958", "PHONE"),
    ("Images at example-hospital.org/cases/17 today.", "example-hospital.org/cases/17", "URL"),
])
def test_addresses_institutions_and_identifiers(text, value, kind):
    kinds = _types_over(text, value)
    assert kinds is not None and kind in kinds, kinds


def test_a_numeric_date_is_not_taken_for_a_phone_number():
    text = "Seen 07.03.2024 in clinic."
    assert _types_over(text, "07.03.2024") == {"DATE"}
    assert PhiPipeline(["rules"]).scrub(text, -10).text == "Seen 26.02.2024 in clinic."


def test_address_block_lines_after_a_street():
    """An envelope-style block: the city and "Country postcode" lines are addresses by their place,
    and the block ends at the postcode line (the next line is text again)."""
    text = "Ann Lee\n\n5015 Avda. Rio Nalon\n Suite 3\n KOLONGA\n Australia 4671\nThanks for the visit"
    for value in ("5015 Avda. Rio Nalon", "Suite 3", "KOLONGA", "Australia 4671"):
        assert "ADDRESS" in (_types_over(text, value) or set()), value
    assert _types_over(text, "Thanks for the visit") is None


@pytest.mark.parametrize("text", [
    "Grade 3, Stage II, size 12 mm.", "Lesion 2, Segment 6, 12 mm.", "Hodgkin lymphoma 2019, Parkinson Disease, 200 mg",
    "Levels L4, L5, S1 were imaged.", "Low lung volumes.\nNo effusion.\nHeart size normal",
])
def test_clinical_lists_are_not_addresses(text):
    spans, _ = detect_rules(text)
    assert not [s for s in spans if s.type == "ADDRESS"], [(text[s.start:s.end], s.type) for s in spans]


def test_a_name_found_once_is_a_name_wherever_it_recurs():
    text = "Yoshka: Remember me? I met Yoshka yesterday."
    assert "NAME" in (_types_over(text, "Yoshka") or set())  # the first, sentence-initial occurrence
    spans, _ = detect_rules(text)
    assert sum(text[s.start:s.end] == "Yoshka" for s in spans) == 2


@pytest.mark.parametrize(("text", "value", "is_name"), [
    ("Spoke with Andrea Smith about the results.", "Smith", True),
    ("Smith fracture of the distal radius.", "Smith", False),
    ("Gilbert syndrome is known.", "Gilbert", False),
])
def test_eponym_words_are_names_only_beside_a_name(text, value, is_name):
    kinds = _types_over(text, value) or set()
    assert ("NAME" in kinds) is is_name, kinds


@pytest.mark.parametrize(("text", "value", "found"), [
    ("Please have the manager call me at 30-17-42-66 today.", "30-17-42-66", True),
    ("I get no messages to 94 31 11 any more.", "94 31 11", True),
    ("Contact me at +45 32 61 16 16 now.", "+45 32 61 16 16", True),
    ("Call on 2 days if worse.", "2", False),
    ("BP registered 120 80 at rest.", "120 80", False),  # fewer than 6 digits
])
def test_digit_groups_after_a_phone_cue(text, value, found):
    kinds = _types_over(text, value) or set()
    assert ("PHONE" in kinds) is found, kinds
