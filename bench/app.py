"""Review app benchmark: patient-page open time in a real browser, after warm-up.

Starts the app on a free 127.0.0.1 port for a workspace, drives Debian's ``/usr/bin/chromium``
with Playwright (sync API; never ``playwright install``), logs in, opens a patient, warms up
(every measured patient once, so Streamlit's caches are filled), then measures switching the
patient selector to each patient until that patient's page is fully rendered: heading
``Patient <id>`` visible, the CT viewer caption visible and the app no longer running.
Reference in the same run: the round trip of Streamlit's bare ``/_stcore/health`` endpoint.

    python bench/app.py [--workspace demo/workspace] [--user demo --password demo-review] \
        [--patients 8] [--repeats 2] [--out bench/results/app.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]


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


def _open(page, pid: str, expect) -> float:
    """Switch the patient selector to ``pid``; seconds until its page is rendered."""
    box = page.get_by_role("combobox", name="patient (pseudonym)")
    box.click()
    box.fill(pid)
    option = page.get_by_role("option", name=pid)
    option.wait_for()
    t = time.perf_counter()
    option.click()
    expect(page.get_by_role("heading", name=f"Patient {pid}")).to_be_visible()
    expect(page.get_by_text("axial slice").first).to_be_visible()
    expect(page.locator('[data-testid="stStatusWidget"]')).to_have_count(0)
    return time.perf_counter() - t


def _login(page, url: str, user: str, password: str, expect) -> None:
    page.goto(url)
    page.get_by_role("textbox", name="user name").fill(user)
    page.get_by_role("textbox", name="password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Cohort")).to_be_visible()
    page.get_by_role("button", name="Open patient").click()
    expect(page.get_by_role("heading", name="Patient ")).to_be_visible()


def measure(url: str, pids: list[str], user: str, password: str, repeats: int) -> list[float]:
    """Open times (s) of ``pids`` x ``repeats`` after one warm-up pass over ``pids``."""
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=60_000)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            _login(page, url, user, password, expect)
            for pid in pids:  # warm-up
                _open(page, pid, expect)
            return [_open(page, pid, expect) for _ in range(repeats) for pid in pids]
        finally:
            browser.close()


def main(argv: list[str] | None = None) -> int:
    from clinfusion.review import server
    from clinfusion.review.workspace_data import cohort_frame
    from clinfusion.workspace import Workspace

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workspace", type=Path, default=Path("demo/workspace"))
    ap.add_argument("--user", default="demo")
    ap.add_argument("--password", default="demo-review")
    ap.add_argument("--patients", type=int, default=8)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--out", type=Path, default=Path("bench/results/app.json"))
    args = ap.parse_args(argv)
    if not CHROMIUM.exists():
        raise SystemExit(f"{CHROMIUM} is absent: apt-get install chromium")
    ids = cohort_frame(Workspace.open(args.workspace))["patient_id"].tolist()
    pids = ids[1:args.patients + 1]  # the first is shown when the page opens
    proc, url = server.start(args.workspace, log=Path(tempfile.gettempdir()) / "clinfusion-bench-app.log")
    try:
        times = measure(url, pids, args.user, args.password, args.repeats)
        health = _health_round_trips(url)
    finally:
        server.stop(proc)
    result = {"workspace": str(args.workspace), "patients": pids, "repeats": args.repeats,
              "patient_page_open": _stats(times), "reference_health_round_trip": _stats(health),
              "target_s": 1.0, "meets_target": statistics.median(times) < 1.0, "raw_s": [round(t, 4) for t in times]}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(json.dumps({k: v for k, v in result.items() if k != "raw_s"}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
