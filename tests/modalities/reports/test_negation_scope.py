"""Negation and its scope in findings extraction: ``label: value`` lines, ``no evidence of``, termination."""

from __future__ import annotations

import pytest
from clinfusion.modalities.reports.findings import find_mentions, report_findings
from clinfusion.modalities.reports.negation import assert_mention


def _mentions(sentence: str) -> dict[str, str]:
    return {m.finding: m.assertion for m in find_mentions([sentence])}


@pytest.mark.parametrize(("sentence", "expected"), [
    # post-negation after a colon (synoptic pathology lines)
    ("Tumour-infiltrating lymphocytes: absent.", {"tumour_infiltrating_lymphocytes": "absent"}),
    ("Tumor-infiltrating lymphocytes: brisk.", {"tumour_infiltrating_lymphocytes": "present"}),
    ("Lymphovascular invasion: not identified.", {"lymphovascular_invasion": "absent"}),
    ("Lymphovascular invasion: present.", {"lymphovascular_invasion": "present"}),
    ("Pneumothorax: none.", {"pneumothorax": "absent"}),
    ("Pleural effusion: negative.", {"effusion": "absent"}),
    ("Nodal metastasis: indeterminate.", {"metastasis": "uncertain"}),
    ("Nodule: no change.", {"nodule": "present"}),  # pseudo trigger, not a negation
    ("Tumour necrosis: present, focal.", {"necrosis": "present"}),
    # pre-negation scope
    ("No evidence of nodal metastasis.", {"metastasis": "absent"}),
    ("No evidence of tumour necrosis.", {"necrosis": "absent"}),
    ("Mediastinum: No mediastinal or hilar lymphadenopathy.", {"lymphadenopathy": "absent"}),
    ("No focal consolidation, pleural effusion or pneumothorax.",
     {"consolidation": "absent", "effusion": "absent", "pneumothorax": "absent"}),
    ("Lungs: no mass.", {"mass": "absent"}),
    # termination at conjunctions
    ("No pleural effusion but there is a small pneumothorax.", {"effusion": "absent", "pneumothorax": "present"}),
    ("No consolidation, however a small effusion is seen.", {"consolidation": "absent", "effusion": "present"}),
    ("Mediastinal lymphadenopathy, concerning for nodal metastasis.",
     {"lymphadenopathy": "present", "metastasis": "uncertain"}),
    ("Enlarged mediastinal lymph nodes, the largest measuring 14 mm.", {"lymphadenopathy": "present"}),
    # bare post-negation
    ("Tumour-infiltrating lymphocytes absent.", {"tumour_infiltrating_lymphocytes": "absent"}),
    ("Pneumothorax not detected.", {"pneumothorax": "absent"}),
])
def test_assertions(sentence, expected):
    assert _mentions(sentence) == expected


def test_tumour_infiltrating_lymphocytes_is_not_a_mass():
    status = report_findings(["Tumour-infiltrating lymphocytes: absent.", "No evidence of nodal metastasis."])
    assert status["mass"] == "not_mentioned"
    assert status["tumour_infiltrating_lymphocytes"] == "absent" and status["metastasis"] == "absent"


def test_colon_rule_needs_the_mention_in_the_label():
    s = "Effusion on the left; right side: absent."  # the semicolon ends the label
    assert assert_mention(s, (0, len("Effusion"))) == "present"
    s = "Effusion. Heart: normal."  # a sentence break before the colon
    assert assert_mention(s, (0, len("Effusion"))) == "present"


def test_synthetic_pathology_report_round_trip():
    from clinfusion.modalities.reports.sentences import split_sentences

    text = ("Tumour size: 2.1 cm in greatest dimension. Tumour-infiltrating lymphocytes: absent. "
            "Lymphovascular invasion: not identified. No evidence of tumour necrosis.")
    status = report_findings(split_sentences(text))
    assert status["mass"] == "present"  # "Tumour size" names the tumour
    assert status["tumour_infiltrating_lymphocytes"] == "absent"
    assert status["lymphovascular_invasion"] == "absent"
    assert status["necrosis"] == "absent"
