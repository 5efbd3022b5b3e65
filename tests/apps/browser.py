"""Shared pieces of the chromium tests: Debian's chromium, waits for the app, a logged-in page."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .conftest import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]


def idle(page, timeout_ms: int = 120_000) -> None:
    """Wait until the app has finished its script run (Streamlit's running indicator is gone):
    a click that lands while a run is still going can be dropped by the rerun."""
    page.wait_for_timeout(300)
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden", timeout=timeout_ms)


def click_until(page, button, shown, tries: int = 3) -> None:
    """Click ``button`` once the app is idle until ``shown`` appears (a loaded machine can drop a click)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for attempt in range(tries):
        idle(page)
        button.click()
        try:
            shown.wait_for(state="visible", timeout=60_000)
            return
        except PlaywrightTimeout:
            if attempt == tries - 1:
                raise


@contextmanager
def logged_in_page(url: str, user: str = "clin", password: str = PASSWORD) -> Iterator[Any]:
    """A chromium page (1400 x 1000, 60 s timeouts) logged in to the app at ``url``, on its Cohort page."""
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=60_000)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(60_000)
            page.goto(url)
            page.get_by_role("textbox", name="user name").fill(user)
            page.get_by_role("textbox", name="password").fill(password)
            page.get_by_role("button", name="Log in").click()
            expect(page.get_by_role("heading", name="Cohort", exact=True)).to_be_visible()
            yield page
        finally:
            browser.close()
