"""The three viewers in the app (AppTest): CT volume component, slide deep zoom, true-scale ECG."""

from __future__ import annotations

import base64
import io
import json

import numpy as np
import pytest
from clinfusion.review import ct_volume, dzi, workspace_data
from clinfusion.testing import apptest
from clinfusion.testing.app_images import inline_images
from clinfusion.workspace import Workspace
from PIL import Image
from streamlit.testing.v1 import AppTest

from .conftest import APP, PASSWORD


def components(app: AppTest) -> dict[str, dict]:
    """Custom component instances of the last run: component name -> its JSON args."""
    out = {}
    for el in app.get("component_instance"):
        out[el.proto.component_name] = json.loads(el.proto.json_args)
    return out


@pytest.fixture
def patient_app(review_ws, monkeypatch):
    monkeypatch.setenv("CLINFUSION_WORKSPACE", str(review_ws))
    app = apptest.login(AppTest.from_file(str(APP), default_timeout=120), "clin", PASSWORD)
    app.button(key="open_patient").click().run()
    assert not app.exception
    return app


def test_ct_viewer_gets_the_series_volume_inline(patient_app, review_ws):
    pid = patient_app.title[0].value.removeprefix("Patient ")
    series = workspace_data.radiology_series(Workspace.open(review_ws), pid)
    comps = components(patient_app)
    ct = next(v for k, v in comps.items() if k.endswith("cf_ct_viewer"))
    vol = ct_volume.downsample(ct_volume.load_volume(series[0].path))
    shown = np.frombuffer(base64.b64decode(ct["data"]), "<i2").reshape(ct["shape"])
    assert (shown == vol.data).all() and ct["units"] == "HU" and ct["initial_preset"] == "lung"
    assert ct["presets"]["mediastinum"] == [40.0, 400.0]
    assert any("opens in the lung window (L -600, W 1500)" in c.value for c in patient_app.caption)
    assert patient_app.selectbox(key="rad_series").options == [s.label for s in series]


def test_slide_viewer_gets_the_pyramid_and_attention_layer(patient_app, review_ws):
    pid = patient_app.title[0].value.removeprefix("Patient ")
    slides = workspace_data.pathology_slides(Workspace.open(review_ws), pid)
    sv = next(v for k, v in components(patient_app).items() if k.endswith("cf_slide_viewer"))
    expect = dzi.viewer_payload(slides[0]["dir"])
    assert (sv["full_width"], sv["full_height"], sv["levels"]) == (expect["full_width"], expect["full_height"], expect["levels"])
    assert set(sv["tiles"]) == set(expect["tiles"]) and sv["finest_level"] == expect["finest_level"]
    first = Image.open(io.BytesIO(base64.b64decode(sv["tiles"]["0/0_0"])))
    assert first.size == (1, 1)
    layers = sv["heat"]["layers"]
    assert layers and layers[0]["name"] == "attention weight" and len(layers[0]["score"]) == len(slides[0]["tiles"])
    assert any(c.value.startswith("deep zoom:") for c in patient_app.caption)


def test_ecg_is_true_scale_and_gain_changes_it(patient_app):
    ecg = [i for i in inline_images(patient_app) if i.caption.startswith("12-lead ECG")]
    assert ecg and "25 mm/s, 10 mm/mV at 96 dpi" in ecg[0].caption
    w, h = Image.open(io.BytesIO(ecg[0].png)).size
    gain = next(s for s in patient_app.selectbox if s.label == "gain (mm/mV)")
    assert gain.options == ["5.0", "10.0", "20.0"] and gain.value == 10.0
    gain.set_value(20.0).run()
    next(s for s in patient_app.selectbox if s.label == "speed (mm/s)").set_value(50.0).run()
    big = [i for i in inline_images(patient_app) if i.caption.startswith("12-lead ECG")][0]
    assert "50 mm/s, 20 mm/mV at 96 dpi" in big.caption
    w2, h2 = Image.open(io.BytesIO(big.png)).size
    assert w2 > 1.8 * w and h2 > 1.5 * h  # twice the paper per second, twice the mm per mV
    assert patient_app.dataframe and not patient_app.exception
