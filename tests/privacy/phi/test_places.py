"""Bare place names after a place cue: towns are PHI (Safe Harbor), states, countries and words are not."""

from __future__ import annotations

import pytest
from clinfusion.privacy.phi.places import find_cued_places
from clinfusion.privacy.phi.terms import protected_words


def _found(text: str) -> list[str]:
    return [text[s:e] for s, e in find_cued_places(text, protected_words())]


@pytest.mark.parametrize(("text", "place"), [
    ("Patient lives in Milford with his wife.", "Milford"),
    ("She is originally from Fürling, Austria.", "Fürling"),
    ("I am in UIGINISH for a business trip.", "UIGINISH"),
    ("The agency is based in Pinares - Las Delicias.", "Pinares - Las Delicias"),
    ("Born in El Akarit, moved later.", "El Akarit"),
    ("He is a native of Kópasker.", "Kópasker"),
])
def test_towns_after_a_cue_are_found(text, place):
    assert _found(text) == [place]


@pytest.mark.parametrize("text", [
    "He lives in Nursing Home care.", "Born in France in 1950.", "Lives in Texas.", "Returned to ICU overnight.",
    "I am in Pain today.", "Findings based in Part on the prior study.", "Lives in SNF.",
    "No evidence of Hodgkin disease in Milford's study",  # no cue before the town
])
def test_words_states_countries_and_uncued_words_stay(text):
    assert _found(text) == []
