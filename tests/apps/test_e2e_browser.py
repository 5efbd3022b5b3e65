"""End to end in a real browser: Debian's chromium driven by Playwright against a live server."""

from __future__ import annotations

from pathlib import Path

import pytest
from clinfusion.review import reviews, server
from clinfusion.review.workspace_data import cohort_frame
from clinfusion.workspace import Workspace

from .conftest import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]


def _idle(page, timeout_ms: int = 120_000) -> None:
    """Wait until the app has finished its script run (Streamlit's running indicator is gone):
    a click that lands while a run is still going can be dropped by the rerun."""
    page.wait_for_timeout(300)
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden", timeout=timeout_ms)


def _click_until(page, button, shown, tries: int = 3) -> None:
    """Click ``button`` once the app is idle until ``shown`` appears (a loaded machine can drop a click)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for attempt in range(tries):
        _idle(page)
        button.click()
        try:
            shown.wait_for(state="visible", timeout=60_000)
            return
        except PlaywrightTimeout:
            if attempt == tries - 1:
                raise


@pytest.fixture
def live_app(review_ws, tmp_path):
    proc, url = server.start(review_ws, log=tmp_path / "server.log")
    yield url
    server.stop(proc)


@pytest.mark.slow
@pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is absent (CI installs it: apt-get install chromium)")
def test_login_open_patient_and_review_in_chromium(live_app, review_ws, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=60_000)
    pid = cohort_frame(Workspace.open(review_ws))["patient_id"].iloc[0]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(60_000)
            page.goto(live_app)
            page.get_by_role("textbox", name="user name").fill("clin")
            page.get_by_role("textbox", name="password").fill(PASSWORD)
            page.get_by_role("button", name="Log in").click()
            expect(page.get_by_role("heading", name="Cohort")).to_be_visible()
            _idle(page)
            page.screenshot(path=tmp_path / "1_cohort.png", full_page=True)
            _click_until(page, page.get_by_role("button", name="Open patient"),
                         page.get_by_role("heading", name=f"Patient {pid}"))
            expect(page.get_by_text("lung window").first).to_be_visible()  # the CT viewer
            expect(page.get_by_text("timeline")).to_be_visible()
            page.screenshot(path=tmp_path / "2_patient.png", full_page=True)
            page.get_by_role("tab", name="Reports").click()
            expect(page.locator("mark").first).to_be_visible()
            page.get_by_role("tab", name="Prediction and review").click()
            expect(page.get_by_text("risk percentile in the cohort")).to_be_visible()  # the prediction panel
            expect(page.get_by_text("similar patients")).to_be_visible()
            box = page.get_by_role("combobox", name="decision")
            box.click()
            box.fill("comment")
            page.get_by_role("option", name="comment").click()
            page.get_by_role("textbox", name="comment").fill("reviewed in the browser")
            _click_until(page, page.get_by_role("button", name="Submit review"), page.get_by_text("saved (comment)"), tries=1)
            page.screenshot(path=tmp_path / "3_review.png", full_page=True)
        finally:
            browser.close()
    stored = reviews.list_reviews(review_ws, pid)
    assert "reviewed in the browser" in set(stored["comment"])
    assert all((tmp_path / f).stat().st_size > 10_000 for f in ("1_cohort.png", "2_patient.png", "3_review.png"))
