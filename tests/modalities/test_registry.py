"""The modality registry is built from the one modality list and every entry resolves."""

from __future__ import annotations

import pytest
from clinfusion.cohort.spec import ALL_MODALITIES, MODALITIES
from clinfusion.errors import ConfigError
from clinfusion.featurize.base import Encoder
from clinfusion.modalities.base import Reader
from clinfusion.modalities.registry import (
    MODALITY_PLUGINS,
    conventional_plugin,
    default_encoder,
    encoders,
    export_function,
    plugin,
    reader_class,
)


def test_one_list_of_modalities() -> None:
    assert set(MODALITIES) < set(ALL_MODALITIES) and len(set(ALL_MODALITIES)) == len(ALL_MODALITIES)
    assert all(MODALITY_PLUGINS[m] == conventional_plugin(m) for m in ALL_MODALITIES)


@pytest.mark.parametrize("modality", ALL_MODALITIES)
def test_every_modality_has_reader_encoders_and_export(modality: str) -> None:
    reader = reader_class(modality)
    assert issubclass(reader, Reader) and reader.modality == modality
    reg = encoders(modality)
    assert default_encoder(modality) in reg
    assert all(issubclass(e, Encoder) and e.modality == modality and e.name == n for n, e in reg.items())
    assert callable(export_function(modality))


def test_unknown_modality_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError, match=r"unknown modality 'xray'; expected one of \[.*'clinical'"):
        plugin("xray")
