"""Names with non-ASCII letters are scrubbed whole (issue 23: ``José Muñoz`` -> ``[NAME]é Muñoz``)."""

from __future__ import annotations

import unicodedata

import pytest
from clinfusion.modalities.reports.deid import scrub_reports, scrub_text

NAMES = ["José Muñoz", "Émile Dürrenmatt", "Łukasz Żółć", "Søren Kierkegård", "Ángel Núñez", "Zoë Brontë",
         "Ólafur Ragnarsson", "Dương Văn", "Ştefan Ţurcanu", "Σωκράτης Παππάς", "Пётр Иванов", "O’Brien Åkesson"]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("template", ["Dr. {n} reviewed the films.", "Patient: {n}\nFindings: normal.",
                                      "Electronically signed by: {n}", "{n}, MD"])
def test_unicode_name_removed_whole(name, template):
    out = scrub_text(template.format(n=name), 3).text
    for word in name.split():
        assert word not in out, out
    assert "[NAME]" in out


def test_decomposed_accents_are_scrubbed_too():
    nfd = unicodedata.normalize("NFD", "Dr. José Muñoz")
    out = scrub_text(nfd, 0).text
    assert out == "Dr. [NAME]", out


def test_learnt_unicode_name_propagates_to_bare_mentions():
    texts = ["Referring physician: Łukasz Żółć", "Discussed with Żółć today; Łukasz agreed."]
    out = [r.text for r in scrub_reports(texts, 0)]
    assert all("Żółć" not in t and "Łukasz" not in t for t in out), out
    assert "Discussed with [NAME] today" in out[1]


def test_medical_text_with_accents_is_kept():
    text = "Findings: café-au-lait spots. Impression: Ménétrier disease unlikely."
    assert scrub_text(text, 0).text == text
