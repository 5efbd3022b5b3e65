"""Patient images never get a Streamlit ``/media`` URL (served to anyone, also after logout).

Every patient image of the review app goes through ``apps/review/images.py``, which renders it
inline in the page of a session that passed the login check. The test records every file handed to
Streamlit's media file manager while a clinician opens a patient with CT, slide and ECG, and
requires that none was; a control run shows the recorder sees ``st.image``.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from clinfusion.review import server
from clinfusion.testing.app_images import inline_images
from PIL import Image
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parents[2] / "apps" / "review" / "app.py"
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
PASSWORD = "media-pass-1"


@pytest.fixture(scope="module")
def media_ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from clinfusion.ingest import ingest
    from clinfusion.review.users import add_user
    from clinfusion.synth import generate_cohort

    base = tmp_path_factory.mktemp("media")
    generate_cohort(base / "cohort", n_patients=2, seed=1, scale="small", modalities=("radiology", "pathology", "ecg"))
    ingest(base / "cohort", base / "ws", demo=True)
    shutil.rmtree(base / "cohort")
    add_user(base / "ws", "clin", PASSWORD, "clinician", rounds=4)
    return base / "ws"


@pytest.fixture
def media_added(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Mimetypes of every file added to any MediaFileManager (what ``/media/<id>`` would serve)."""
    added: list[str] = []
    real = MediaFileManager.add

    def add(self, path_or_data, mimetype, coordinates, file_name=None, is_for_static_download=False):
        added.append(mimetype)
        return real(self, path_or_data, mimetype, coordinates, file_name, is_for_static_download)

    monkeypatch.setattr(MediaFileManager, "add", add)
    return added


def _login(at: AppTest) -> AppTest:
    at.run()
    at.text_input[0].input("clin")
    at.text_input[1].input(PASSWORD)
    at.button[0].click()
    return at.run()


def test_the_recorder_sees_st_image(media_added: list[str]) -> None:
    def page() -> None:
        import numpy as np
        import streamlit as st

        st.image(np.zeros((4, 4), dtype=np.uint8))

    AppTest.from_function(page).run()
    assert len(media_added) == 1 and media_added[0].startswith("image/")


@pytest.mark.slow
def test_patient_images_are_inline_and_leave_no_media_file(media_ws: Path, monkeypatch: pytest.MonkeyPatch,
                                                           media_added: list[str]) -> None:
    monkeypatch.setenv("CLINFUSION_WORKSPACE", str(media_ws))
    app = _login(AppTest.from_file(str(APP), default_timeout=120))
    app.button(key="open_patient").click().run()
    assert not app.exception
    shown = inline_images(app)
    captions = [img.caption for img in shown]
    assert {"thumbnail", "tissue overlay"} <= set(captions) and any(c.startswith("12-lead ECG") for c in captions)
    assert len(shown) >= 3  # thumbnail, tissue overlay, ECG (the CT volume goes to its component's args, no URL)
    for img in shown:
        assert Image.open(io.BytesIO(img.png)).format == "PNG"
    assert not [m for m in media_added if m.startswith("image/")], "a patient image was given a /media URL"
    assert not app.image

    next(b for b in app.button if b.label == "Log out").click().run()
    assert [t.label for t in app.text_input] == ["user name", "password"]
    assert not inline_images(app), "patient images are still in the page after logout"


@pytest.mark.slow
@pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is absent (CI installs it: apt-get install chromium)")
def test_live_server_sends_patient_images_inline_only(media_ws: Path, tmp_path: Path) -> None:
    """In chromium against a real server: the patient's images show as data: URIs, the browser never
    requests a ``/media`` URL, and after logout the page holds no image."""
    from playwright.sync_api import expect, sync_playwright

    proc, url = server.start(media_ws, log=tmp_path / "server.log")
    requested: list[str] = []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.set_default_timeout(90_000)
                page.on("request", lambda r: requested.append(r.url))
                page.goto(url)
                page.get_by_role("textbox", name="user name").fill("clin")
                page.get_by_role("textbox", name="password").fill(PASSWORD)
                page.get_by_role("button", name="Log in").click()
                expect(page.get_by_role("heading", name="Cohort")).to_be_visible(timeout=90_000)
                page.get_by_role("button", name="Open patient").click()
                expect(page.get_by_text("lung window").first).to_be_visible(timeout=90_000)  # CT viewer (volume in its args)
                page.get_by_role("tab", name="Pathology").click()
                thumb = page.locator('figure.cf-image img[alt="thumbnail"][src^="data:image/png;base64,"]').first
                expect(thumb).to_be_visible()  # rendered by the browser from the data: URI
                assert thumb.evaluate("img => img.naturalWidth") > 0
                page.get_by_role("tab", name="ECG").click()
                expect(page.locator("figure.cf-image img").nth(2)).to_be_attached()  # thumbnail, overlay, ECG
                page.get_by_role("button", name="Log out").click()
                expect(page.get_by_role("textbox", name="user name")).to_be_visible(timeout=90_000)
                assert page.locator("figure.cf-image img").count() == 0
            finally:
                browser.close()
    finally:
        server.stop(proc)
    assert any("/_stcore/" in u for u in requested)  # the recorder saw the app's own traffic
    media = [u for u in requested if urlsplit(u).path.startswith("/media/")]  # not the app's /static/media fonts
    assert not media, "the browser fetched a /media URL"
