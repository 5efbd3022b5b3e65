"""In chromium: a reload keeps the login, a cohort row click opens the patient, a structured override
is submitted, and logging out ends the session for the URL it was kept in."""

from __future__ import annotations

import re

import pytest
from clinfusion.review import reviews

from .browser import CHROMIUM, click_until, idle, logged_in_page


def _choose(page, box_name: str, option: str) -> None:
    box = page.get_by_role("combobox", name=box_name)
    box.click()
    box.fill(option)
    page.get_by_role("option", name=option, exact=True).click()
    idle(page)


@pytest.mark.slow
@pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is absent (CI installs it: apt-get install chromium)")
def test_row_click_opens_patient_and_structured_override_is_saved(live_app, review_ws, tmp_path):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import expect

    with logged_in_page(live_app) as page:
        idle(page)
        assert "session=" in page.url
        page.reload()  # a new browser session: the signed token in the URL restores the login
        expect(page.get_by_role("heading", name="Cohort", exact=True)).to_be_visible()
        idle(page)
        grid = page.locator('[data-testid="stDataFrame"]').last
        grid.scroll_into_view_if_needed()
        box = grid.bounding_box()
        heading = page.get_by_role("heading", name=re.compile(r"^Patient P"))
        for _ in range(3):  # a loaded machine can drop a click during a rerun
            idle(page)
            page.mouse.click(box["x"] + 15, box["y"] + 35 + 35 * 1.5)  # row 2's selection cell
            try:
                heading.wait_for(state="visible", timeout=60_000)
                break
            except PlaywrightTimeout:  # retried; the expect below raises the last failure
                continue
        expect(heading).to_be_visible()
        pid = heading.inner_text().removeprefix("Patient ").strip()
        idle(page)
        page.screenshot(path=tmp_path / "1_patient_from_row.png", full_page=True)
        page.get_by_role("tab", name="Prediction and review").click()
        expect(page.get_by_text("survival at 1, 3 and 5 years")).to_be_visible()
        _choose(page, "decision", "override")
        expect(page.get_by_text("used for retraining: the latest diagnosis override")).to_be_visible()
        corrected = page.get_by_role("combobox", name="corrected diagnosis")
        corrected.click()
        page.get_by_role("option").first.click()
        idle(page)
        page.get_by_role("textbox", name="reason (required for an override)").fill("histology of the resection")
        click_until(page, page.get_by_role("button", name="Submit review"), page.get_by_text("saved (override) on diagnosis"),
                    tries=1)
        page.screenshot(path=tmp_path / "2_override.png", full_page=True)
        token_url = page.url
        page.get_by_role("button", name="Log out").click()
        expect(page.get_by_role("button", name="Log in")).to_be_visible()
        page.goto(token_url)  # the revoked token no longer opens anything
        expect(page.get_by_text("revoked")).to_be_visible()
        expect(page.get_by_role("button", name="Log in")).to_be_visible()
    row = reviews.list_reviews(review_ws, pid).iloc[-1]
    assert row[["decision", "target", "reason", "username"]].tolist() == ["override", "diagnosis",
                                                                          "histology of the resection", "clin"]
    assert row["corrected"] in {"adenocarcinoma", "small_cell", "squamous_cell"}
