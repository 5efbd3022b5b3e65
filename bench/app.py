"""Review app benchmark in a real browser (warm app): patient page from a cohort row click, and a
cohort filter change, each timed until every element of the page has rendered.

Starts the app on a free 127.0.0.1 port for a workspace, drives Debian's ``/usr/bin/chromium``
with Playwright (sync API; never ``playwright install``) and logs in. Then:

- **patient page from a cohort row click**: on the Cohort page, click row ``i`` of the patient
  table (its row-selection cell), time until the patient page is fully rendered, go back to the
  Cohort page (not timed); every row is opened once as warm-up (Streamlit's caches filled), then
  ``--repeats`` times;
- **cohort filter change**: add, then remove, a value of the ``sex`` (else ``stage``) filter in
  the sidebar, each change timed until the Cohort page is fully rendered.

"Fully rendered" (:data:`RENDERED_JS`): the app has finished its script run (Streamlit's running
indicator is gone), no element is marked stale, every ``<img>`` has decoded (``complete`` with a
width) and every same-origin ``<iframe>`` (custom components: CT, slide viewers) has loaded, and
the page's heading is the expected one. Reference in the same run: the round trip of Streamlit's
bare ``/_stcore/health`` endpoint. Targets (issue #21): patient page median < 1.5 s and p90 < 2.5 s,
filter change median < 1 s.

    python bench/app.py [--workspace demo/workspace] [--user demo --password demo-review] \
        [--patients 8] [--repeats 2] [--filters 6] [--out bench/results/app.json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
TARGETS_S = {"patient_open_median": 1.5, "patient_open_p90": 2.5, "filter_change_median": 1.0}
ROW_PX, HEADER_PX, MARKER_X_PX = 35, 35, 15  # Streamlit's dataframe: row and header height, row-selection column
RENDERED_JS = """(heading) => {
  if (document.querySelector('[data-testid="stStatusWidget"]')) return false;
  if (document.querySelector('[data-stale="true"]')) return false;
  const h = Array.from(document.querySelectorAll('h1')).map(e => e.textContent.trim());
  if (!h.some(t => t.startsWith(heading))) return false;
  for (const img of document.images) { if (!img.complete || img.naturalWidth === 0) return false; }
  for (const f of document.querySelectorAll('iframe')) {
    try { if (!f.contentDocument || f.contentDocument.readyState !== 'complete') return false; } catch (e) { }
  }
  return true;
}"""


def _stats(values: list[float]) -> dict[str, float]:
    return {"n": len(values), "median_s": round(statistics.median(values), 4),
            "p90_s": round(float(np.percentile(values, 90)), 4), "max_s": round(max(values), 4)}


def _health_round_trips(url: str, n: int = 20) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=10) as r:
            r.read()
        out.append(time.perf_counter() - t)
    return out


def _rendered(page, heading: str, timeout_ms: int = 120_000) -> None:
    page.wait_for_timeout(50)  # let the click's rerun start (the running indicator appears)
    page.wait_for_function(RENDERED_JS, arg=heading, timeout=timeout_ms, polling=25)


def _to_cohort(page) -> None:
    page.get_by_role("link", name="Cohort").click()
    _rendered(page, "Cohort")


def _open_row(page, row: int) -> tuple[str, float]:
    """Click patient-table row ``row`` on the Cohort page; ``(patient id, seconds until its page is rendered)``."""
    grid = page.locator('[data-testid="stDataFrame"]').last
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    t = time.perf_counter()
    page.mouse.click(box["x"] + MARKER_X_PX, box["y"] + HEADER_PX + ROW_PX * (row + 0.5))
    page.wait_for_function("() => Array.from(document.querySelectorAll('h1')).some(e => /^Patient P/.test(e.textContent))",
                           timeout=120_000, polling=25)
    _rendered(page, "Patient ")
    took = time.perf_counter() - t
    title = page.locator("h1", has_text=re.compile(r"^Patient ")).first.inner_text()
    return title.removeprefix("Patient ").strip(), took


def _login(page, url: str, user: str, password: str) -> None:
    page.goto(url)
    page.get_by_role("textbox", name="user name").fill(user)
    page.get_by_role("textbox", name="password").fill(password)
    page.get_by_role("button", name="Log in").click()
    _rendered(page, "Cohort")


ARM_JS = """() => {
  window.__cfRan = false;
  const obs = new MutationObserver(() => {
    if (document.querySelector('[data-testid="stStatusWidget"]')) { window.__cfRan = true; obs.disconnect(); }
  });
  obs.observe(document.body, {childList: true, subtree: true});
}"""


COUNT_JS = "() => document.querySelector('[data-testid=\"stMetricValue\"]')?.textContent"
CHANGED_JS = ("(old) => window.__cfRan === true || "
              "document.querySelector('[data-testid=\"stMetricValue\"]')?.textContent !== old")
"""A rerun has started (running indicator seen) or already changed the patient count."""


def _filter_changes(page, n: int) -> tuple[str, list[float]]:
    """Add then remove a value of the sex (else stage) filter ``n`` times in all; seconds per change
    (from the click until the rerun it started has finished and the page is rendered)."""
    sidebar = page.locator('[data-testid="stSidebar"]')
    name = "sex" if sidebar.locator('[data-testid="stMultiSelect"]', has_text="sex").count() else "stage"
    widget = sidebar.locator('[data-testid="stMultiSelect"]', has_text=name).first
    out = []
    for i in range(n):
        before = page.evaluate(COUNT_JS)
        widget.locator("input").click()
        page.evaluate(ARM_JS)  # flags the start of the rerun the change triggers
        if i % 2 == 0:
            # a real value, not the multiselect's "Select all" entry (which would leave the count unchanged)
            option = page.get_by_role("option").filter(has_not_text=re.compile(r"^Select all$")).first
            option.wait_for()
            t = time.perf_counter()
            option.click()
        else:
            t = time.perf_counter()
            widget.locator("input").press("Backspace")
        page.wait_for_function(CHANGED_JS, arg=before, timeout=120_000, polling=10)
        _rendered(page, "Cohort")
        out.append(time.perf_counter() - t)
        page.keyboard.press("Escape")
    return name, out


def measure(url: str, rows: int, user: str, password: str, repeats: int, filters: int) -> dict:
    """Row-click open times (s) after one warm-up pass, the opened patients, and filter-change times (s)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(120_000)
            _login(page, url, user, password)
            opened = []
            for r in range(rows):  # warm-up
                opened.append(_open_row(page, r)[0])
                _to_cohort(page)
            times = []
            for _ in range(repeats):
                for r in range(rows):
                    pid, took = _open_row(page, r)
                    if pid != opened[r]:
                        raise RuntimeError(f"row {r} opened {pid}, expected {opened[r]}")
                    times.append(took)
                    _to_cohort(page)
            _filter_changes(page, 2)  # warm-up
            which, changes = _filter_changes(page, filters)
            return {"patients": opened, "open_s": times, "filter": which, "filter_s": changes}
        finally:
            browser.close()


def main(argv: list[str] | None = None) -> int:
    from clinfusion.review import server

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workspace", type=Path, default=Path("demo/workspace"))
    ap.add_argument("--user", default="demo")
    ap.add_argument("--password", default="demo-review")
    ap.add_argument("--patients", type=int, default=8, help="cohort rows opened (the table shows about 10)")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--filters", type=int, default=6, help="timed filter changes (alternately add / remove)")
    ap.add_argument("--out", type=Path, default=Path("bench/results/app.json"))
    args = ap.parse_args(argv)
    if not CHROMIUM.exists():
        raise SystemExit(f"{CHROMIUM} is absent: apt-get install chromium")
    proc, url = server.start(args.workspace, log=Path(tempfile.gettempdir()) / "clinfusion-bench-app.log")
    try:
        m = measure(url, args.patients, args.user, args.password, args.repeats, args.filters)
        health = _health_round_trips(url)
    finally:
        server.stop(proc)
    opened, filt, ref = _stats(m["open_s"]), _stats(m["filter_s"]), _stats(health)
    result = {
        "workspace": str(args.workspace), "patients": m["patients"], "repeats": args.repeats,
        "load_avg_1_5_15_after": [round(v, 2) for v in os.getloadavg()], "cpus": os.cpu_count(),
        "measured_until": "script run finished, no stale element, every <img> decoded, every iframe loaded, heading shown",
        "patient_page_from_cohort_row_click": opened, "cohort_filter_change": {**filt, "filter": m["filter"]},
        "reference_health_round_trip": ref,
        "ratio_to_health_median": {"patient_page": round(opened["median_s"] / ref["median_s"], 1),
                                   "filter_change": round(filt["median_s"] / ref["median_s"], 1)},
        "targets_s": TARGETS_S,
        "meets_targets": {"patient_open_median": opened["median_s"] < TARGETS_S["patient_open_median"],
                          "patient_open_p90": opened["p90_s"] < TARGETS_S["patient_open_p90"],
                          "filter_change_median": filt["median_s"] < TARGETS_S["filter_change_median"]},
        "raw_s": {"patient_open": [round(t, 4) for t in m["open_s"]], "filter_change": [round(t, 4) for t in m["filter_s"]]},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(json.dumps({k: v for k, v in result.items() if k != "raw_s"}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
