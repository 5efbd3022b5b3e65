"""Span merging, the replacement policy and the pipeline's name propagation (issue 19)."""

from __future__ import annotations

import pytest
from clinfusion.errors import ConfigError
from clinfusion.privacy.phi import PhiPipeline, PhiSpan, ReplacementPolicy
from clinfusion.privacy.phi.merge import merge_spans
from clinfusion.privacy.phi.replace import replace_spans


def test_overlapping_spans_merge_to_their_union_and_keep_the_stronger_type():
    spans = [PhiSpan(0, 5, "NAME", 0.7, "philter"), PhiSpan(3, 10, "MRN", 1.0, "rules")]
    assert merge_spans(spans) == [PhiSpan(0, 10, "MRN", 1.0, "philter+rules")]


def test_adjacent_name_parts_become_one_name():
    text = "Smith, John^Paul came"
    spans = [PhiSpan(0, 5, "NAME"), PhiSpan(7, 11, "NAME"), PhiSpan(12, 16, "NAME")]
    merged = merge_spans(spans, text)
    assert [(s.start, s.end) for s in merged] == [(0, 16)]
    assert replace_spans(text, merged, 0)[0] == "[NAME] came"


def test_dates_keep_their_interval_under_the_keyed_shift():
    text = "Admitted 2024-03-01, discharged 2024-03-11."
    out = PhiPipeline(["rules"]).scrub(text, -37).text
    assert out == "Admitted 2024-01-24, discharged 2024-02-03."  # still 10 days apart


def test_a_partial_date_from_a_library_becomes_a_tag_and_a_lone_year_is_kept():
    text = "seen March 7 and in 2019"
    spans = [PhiSpan(5, 12, "DATE", 0.6, "x"), PhiSpan(20, 24, "DATE", 0.6, "x")]
    new, counts = replace_spans(text, spans, -3)
    assert new == "seen [DATE] and in 2019" and counts == {"DATE": 1}


def test_policy_per_type_is_configurable_and_validated():
    policy = ReplacementPolicy(actions={"INSTITUTION": "keep", "DATE": "tag"}, tags={"MRN": "[ID]"})
    text = "MRN: 00482913 at Wrenfield General Hospital on 2024-03-07."
    out = PhiPipeline(["rules"], policy=policy).scrub(text, -10).text
    assert out == "[ID] at Wrenfield General Hospital on [DATE]."
    with pytest.raises(ConfigError, match="deid.policy.NAME"):
        ReplacementPolicy(actions={"NAME": "shift"})
    with pytest.raises(ConfigError, match="unknown PHI type"):
        ReplacementPolicy(tags={"FAX": "[F]"})


def test_names_learnt_in_one_text_are_removed_from_the_patients_other_texts():
    texts = ["Patient: Thaddeus Bramblestead\nFINDINGS: normal.", "Discussed with thaddeus today."]
    out = PhiPipeline(["rules"]).scrub_many(texts, 0)
    assert out[1].text == "Discussed with [NAME] today." and "Thaddeus" in out[0].names
