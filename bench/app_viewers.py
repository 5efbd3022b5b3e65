"""Viewer benchmark in a real browser (warm app): CT scroll step and slide zoom/pan tile latency.

Starts the app on a free 127.0.0.1 port for a workspace, drives Debian's ``/usr/bin/chromium``
with Playwright (never ``playwright install``), logs in and opens the first patient with a CT and a
slide (the Cohort page's "Open patient"), then inside the viewers' iframes:

- **CT scroll step**: a wheel event on the CT canvas, timed from dispatch until the next animation
  frame has been produced (the new slice drawn and painted); ``--steps`` steps down then up.
  Reference in the same run: one bare animation frame in the same iframe (the display's floor).
- **slide tile latency**: per tile, from the moment a zoom or pan needs it until its JPEG has
  decoded and been drawn (``window.__cfslide.latencies``), over ``--zooms`` wheel zooms in and out
  at varying points and drag pans; and per gesture, until every needed tile is on screen.
- the bare ``/_stcore/health`` round trip (the server's floor) as in ``bench/app.py``.

Targets (issue #21): CT scroll step < 100 ms, slide pan/zoom tile latency < 200 ms.

    python bench/app_viewers.py [--workspace demo/workspace] [--user demo --password demo-review] \
        [--steps 30] [--zooms 12] [--out bench/results/app_viewers.json]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("bench_app", HERE / "app.py")
assert _spec is not None and _spec.loader is not None
bench_app = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_app)

CT_STEP_JS = """async (n) => {
  const c = document.getElementById('view'), r = c.getBoundingClientRect(), out = [], frames = [];
  const frame = () => new Promise(res => requestAnimationFrame(() => res()));
  await frame();
  for (let i = 0; i < n; i++) { const t = performance.now(); await frame(); frames.push(performance.now() - t); }
  for (let i = 0; i < 2 * n; i++) {
    const t = performance.now(), before = window.__cfct.renders;
    c.dispatchEvent(new WheelEvent('wheel', {deltaY: i < n ? 100 : -100, clientX: r.left + r.width / 2,
                                             clientY: r.top + r.height / 2, bubbles: true, cancelable: true}));
    await frame();
    if (window.__cfct.renders === before) throw new Error('the wheel did not render a slice');
    out.push(performance.now() - t);
  }
  return {steps: out, frames: frames, render_ms: window.__cfct.lastMs, status: document.getElementById('status').textContent};
}"""

SLIDE_JS = """async (n) => {
  const S = window.__cfslide, c = document.getElementById('view'), r = c.getBoundingClientRect(), gestures = [];
  const frame = () => new Promise(res => requestAnimationFrame(() => res()));
  const settled = async (t) => { for (let k = 0; k < 400; k++) { await frame(); if (S.requested === S.served) return performance.now() - t; } return null; };
  S.latencies.length = 0;
  for (let i = 0; i < n; i++) {
    const x = r.left + r.width * (0.3 + 0.4 * ((i * 37) % 10) / 10), y = r.top + r.height * (0.3 + 0.4 * ((i * 53) % 10) / 10);
    let t = performance.now();
    c.dispatchEvent(new WheelEvent('wheel', {deltaY: i % 6 < 4 ? -100 : 100, clientX: x, clientY: y, bubbles: true, cancelable: true}));
    gestures.push({kind: 'zoom', ms: await settled(t)});
    t = performance.now();
    c.dispatchEvent(new MouseEvent('mousedown', {clientX: x, clientY: y, buttons: 1, bubbles: true}));
    c.dispatchEvent(new MouseEvent('mousemove', {clientX: x + 150, clientY: y + 80, buttons: 1, bubbles: true}));
    window.dispatchEvent(new MouseEvent('mouseup', {clientX: x + 150, clientY: y + 80, bubbles: true}));
    gestures.push({kind: 'pan', ms: await settled(t)});
  }
  return {tiles: S.latencies.slice(), gestures: gestures, served: S.served, status: document.getElementById('status').textContent};
}"""


def _frame(page, name: str, timeout_s: float = 120.0):
    t = time.perf_counter()
    while time.perf_counter() - t < timeout_s:
        for f in page.frames:
            if name in f.url:
                return f
        page.wait_for_timeout(100)
    raise RuntimeError(f"no iframe of component {name} (does the first patient have radiology and pathology?)")


def measure(url: str, user: str, password: str, steps: int, zooms: int) -> dict:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(bench_app.CHROMIUM), args=bench_app.ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            bench_app._login(page, url, user, password)
            page.get_by_role("button", name="Open patient").click()
            bench_app._rendered(page, "Patient ")
            ct = _frame(page, "cf_ct_viewer")
            ct.wait_for_function("() => window.__cfct && window.__cfct.renders > 0", timeout=120_000)
            ct.evaluate(CT_STEP_JS, 3)  # warm-up
            ct_res = ct.evaluate(CT_STEP_JS, steps)
            page.get_by_role("tab", name="Pathology").click()
            sv = _frame(page, "cf_slide_viewer")
            sv.wait_for_function("() => window.__cfslide && window.__cfslide.p !== null", timeout=120_000)
            slide_res = sv.evaluate(SLIDE_JS, zooms)
        finally:
            browser.close()
    return {"ct": ct_res, "slide": slide_res}


def main(argv: list[str] | None = None) -> int:
    from clinfusion.review import server

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workspace", type=Path, default=Path("demo/workspace"))
    ap.add_argument("--user", default="demo")
    ap.add_argument("--password", default="demo-review")
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--zooms", type=int, default=12)
    ap.add_argument("--out", type=Path, default=HERE / "results" / "app_viewers.json")
    args = ap.parse_args(argv)
    proc, url = server.start(args.workspace, log=Path(tempfile.gettempdir()) / "clinfusion-bench-viewers.log")
    try:
        m = measure(url, args.user, args.password, args.steps, args.zooms)
        health = bench_app._health_round_trips(url)
    finally:
        server.stop(proc)
    ms = lambda v: [x / 1000.0 for x in v if x is not None]  # noqa: E731  (browser ms -> s)
    step, frame = bench_app._stats(ms(m["ct"]["steps"])), bench_app._stats(ms(m["ct"]["frames"]))
    tiles = bench_app._stats(ms(m["slide"]["tiles"])) if m["slide"]["tiles"] else None
    gest = bench_app._stats(ms([g["ms"] for g in m["slide"]["gestures"]]))
    ref = bench_app._stats(health)
    out = {
        "workspace": str(args.workspace),
        "ct_scroll_step": step, "ct_slice_render_ms_last": round(m["ct"]["render_ms"], 2), "ct_status": m["ct"]["status"],
        "reference_animation_frame": frame,
        "slide_tile_latency": tiles, "slide_gesture_until_all_tiles_drawn": gest, "slide_tiles_served": m["slide"]["served"],
        "slide_status": m["slide"]["status"],
        "reference_health_round_trip": ref,
        "ratio_ct_step_to_frame_median": round(step["median_s"] / frame["median_s"], 2),
        "ratio_to_target": {"ct_step_p90_over_100ms": round(step["p90_s"] / 0.1, 3),
                            "slide_tile_p90_over_200ms": round(tiles["p90_s"] / 0.2, 3) if tiles else None,
                            "slide_gesture_p90_over_200ms": round(gest["p90_s"] / 0.2, 3)},
        "targets_s": {"ct_scroll_step": 0.1, "slide_tile_latency": 0.2},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2))
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
