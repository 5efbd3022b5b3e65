"""End to end in a real browser: Debian's chromium driven by Playwright against a live server."""

from __future__ import annotations

import pytest
from clinfusion.review import reviews
from clinfusion.review.workspace_data import cohort_frame
from clinfusion.workspace import Workspace

from .browser import CHROMIUM, click_until, idle, logged_in_page


@pytest.mark.slow
@pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is absent (CI installs it: apt-get install chromium)")
def test_login_open_patient_and_review_in_chromium(live_app, review_ws, tmp_path):
    from playwright.sync_api import expect

    pid = cohort_frame(Workspace.open(review_ws))["patient_id"].iloc[0]
    with logged_in_page(live_app) as page:
        idle(page)
        page.screenshot(path=tmp_path / "1_cohort.png", full_page=True)
        click_until(page, page.get_by_role("button", name="Open patient"),
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
        click_until(page, page.get_by_role("button", name="Submit review"), page.get_by_text("saved (comment)"), tries=1)
        page.screenshot(path=tmp_path / "3_review.png", full_page=True)
    stored = reviews.list_reviews(review_ws, pid)
    assert "reviewed in the browser" in set(stored["comment"])
    assert all((tmp_path / f).stat().st_size > 10_000 for f in ("1_cohort.png", "2_patient.png", "3_review.png"))
