"""The CT and slide viewers in a real browser: wheel scrolls CT slices, wheel zooms the slide (tiles served)."""

from __future__ import annotations

import pytest
from clinfusion.review.workspace_data import cohort_frame
from clinfusion.workspace import Workspace

from .browser import CHROMIUM, click_until, idle, logged_in_page


def _frame(page, name: str, timeout_s: float = 60.0):
    """The iframe of custom component ``name`` once it has loaded."""
    for _ in range(int(timeout_s * 10)):
        for f in page.frames:
            if name in f.url:
                return f
        page.wait_for_timeout(100)
    raise AssertionError(f"no iframe of component {name}: {[f.url for f in page.frames]}")


@pytest.mark.slow
@pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is absent (CI installs it: apt-get install chromium)")
def test_ct_scrolls_and_slide_zooms_in_chromium(live_app, review_ws, tmp_path):
    from playwright.sync_api import expect

    pid = cohort_frame(Workspace.open(review_ws))["patient_id"].iloc[0]
    with logged_in_page(live_app) as page:
        click_until(page, page.get_by_role("button", name="Open patient"),
                    page.get_by_role("heading", name=f"Patient {pid}"))
        idle(page)
        ct = _frame(page, "cf_ct_viewer")
        status = ct.locator("#status")
        expect(status).to_contain_text("axial slice")
        before = int(status.text_content().split("slice ")[1].split("/")[0])
        canvas = ct.locator("#view")
        canvas.scroll_into_view_if_needed()
        canvas.hover()
        page.mouse.wheel(0, 120)
        expect(status).to_contain_text(f"axial slice {before + 1}/")
        page.mouse.wheel(0, -120)
        page.mouse.wheel(0, -120)
        expect(status).to_contain_text(f"axial slice {before - 1}/")
        expect(ct.locator("#info")).to_contain_text("HU")  # value readout at the cursor
        box = canvas.bounding_box()
        page.mouse.move(box["x"] + 50, box["y"] + 50)
        page.mouse.down()
        page.mouse.move(box["x"] + 120, box["y"] + 90, steps=4)
        page.mouse.up()
        expect(status).to_contain_text("(custom)")  # free window/level by drag
        ct.locator('button[data-name="sagittal"]').click()
        expect(status).to_contain_text("sagittal slice")
        page.screenshot(path=tmp_path / "ct.png", full_page=True)

        page.get_by_role("tab", name="Pathology").click()
        sv = _frame(page, "cf_slide_viewer")
        s_status = sv.locator("#status")
        expect(s_status).to_contain_text("tiles decoded")
        served0 = sv.evaluate("() => window.__cfslide.served")
        level0 = int(s_status.text_content().split("level ")[1].split(" ")[0])
        view = sv.locator("#view")
        view.scroll_into_view_if_needed()
        view.hover()
        for _ in range(4):
            page.mouse.wheel(0, -120)
        # zoomed in: a finer pyramid level is drawn and every tile it needed has been served (decoded and drawn;
        # S.needed[k] = -1 once served, a time while waiting); tiles may have been prefetched before they were needed
        sv.wait_for_function("""(l0) => { const S = window.__cfslide, L = Number(document.getElementById('status')
            .textContent.split('level ')[1].split(' ')[0]);
          const ks = Object.keys(S.needed).filter(k => k.startsWith(L + '/'));
          return L > l0 && ks.length > 0 && ks.every(k => S.needed[k] === -1 && S.cache[k]); }""", arg=level0)
        level1 = int(s_status.text_content().split("level ")[1].split(" ")[0])
        assert level1 > level0 and sv.evaluate("() => window.__cfslide.served") >= served0 > 0
        view.click()
        expect(sv.locator("#info")).to_contain_text("level-0 px")
        page.screenshot(path=tmp_path / "slide.png", full_page=True)
