"""Sections, sentences, dates, negation and findings on hand-built text (pure functions)."""

from __future__ import annotations

import pytest
from clinfusion.modalities.reports.dates import shift_dates
from clinfusion.modalities.reports.findings import FINDINGS, report_findings
from clinfusion.modalities.reports.negation import assert_mention
from clinfusion.modalities.reports.sections import canonical_section, split_sections
from clinfusion.modalities.reports.sentences import split_sentences


def test_sections_canonical_names_and_preamble():
    text = ("CT CHEST\nClinical History: cough.\nCOMPARISON: None.\nFINDINGS:\nNo effusion. Heart normal.\n"
            "Conclusion: Normal chest.")
    secs = split_sections(text)
    assert [s.name for s in secs] == ["PREAMBLE", "HISTORY", "COMPARISON", "FINDINGS", "IMPRESSION"]
    assert secs[3].text == "No effusion. Heart normal."
    assert text[secs[1].start:].startswith("cough.")
    assert canonical_section("Final  Diagnosis") == "DIAGNOSIS"
    assert canonical_section("weather") is None
    assert split_sections("") == []


def test_inline_headers_after_sentence_end():
    secs = split_sections("INDICATION: pain. FINDINGS: clear lungs. IMPRESSION: normal.")
    assert [(s.name, s.text) for s in secs] == [("INDICATION", "pain."), ("FINDINGS", "clear lungs."),
                                                  ("IMPRESSION", "normal.")]


def test_sentences_respect_abbreviations_decimals_and_lists():
    text = "Seen by Dr. Smith, e.g. for follow-up. Nodule measures 3.5 cm. 1. Cardiomegaly. 2. No effusion."
    assert split_sentences(text) == ["Seen by Dr. Smith, e.g. for follow-up.", "Nodule measures 3.5 cm.",
                                     "1. Cardiomegaly.", "2. No effusion."]
    assert split_sentences("Line one\n\nLine two") == ["Line one", "Line two"]


@pytest.mark.parametrize(("raw", "shifted"), [
    ("2024-03-07", "2024-02-26"), ("03/07/2024", "02/26/2024"), ("3/7/24", "2/26/24"), ("25/12/2023", "15/12/2023"),
    ("07.03.2024", "26.02.2024"), ("March 7, 2024", "February 26, 2024"), ("Mar 7 2024", "Feb 26 2024"),
    ("7 March 2024", "26 February 2024"), ("MARCH 2024", "MARCH 2024"), ("January 2024", "December 2023"),
])
def test_dates_shift_keeping_format(raw, shifted):
    assert shift_dates(f"on {raw}.", -10 if "January" not in raw else -20) == f"on {shifted}."


def test_invalid_date_becomes_tag_and_lone_years_stay():
    assert shift_dates("13/45/2020 and in 2019", -3) == "[DATE] and in 2019"


@pytest.mark.parametrize(("sentence", "term", "expected"), [
    ("There is no pleural effusion.", "effusion", "absent"),
    ("No focal consolidation, pleural effusion or pneumothorax.", "pneumothorax", "absent"),
    ("Pneumothorax is not seen.", "Pneumothorax", "absent"),
    ("Possible small left effusion.", "effusion", "uncertain"),
    ("Effusion cannot be excluded.", "Effusion", "uncertain"),
    ("Cannot exclude a small effusion.", "effusion", "uncertain"),
    ("No change in the moderate effusion.", "effusion", "present"),
    ("No pneumothorax but there is a large effusion.", "effusion", "present"),
    ("Large right pleural effusion.", "effusion", "present"),
])
def test_negation_and_uncertainty(sentence, term, expected):
    start = sentence.index(term)
    assert assert_mention(sentence, (start, start + len(term))) == expected


def test_report_findings_statuses():
    sents = ["The heart is enlarged.", "No pneumothorax.", "Possible nodule in the right upper lobe.",
             "No effusion.", "Small left pleural effusion."]
    st = report_findings(sents)
    assert set(st) == set(FINDINGS)
    assert st["cardiomegaly"] == "present"
    assert st["pneumothorax"] == "absent"
    assert st["nodule"] == "uncertain"
    assert st["effusion"] == "present"  # any affirmed mention wins over a negated one
    assert st["fracture"] == "not_mentioned"
