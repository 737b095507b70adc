"""The video editor's frame-step latency in headless Chromium (part of `benchmark video`).

A page with the label page's skeleton loads the real modules (static/labeling/video.js and friends) through
Playwright routes (no server; http://localhost is a secure context, so WebCodecs' VideoFrame is there as on the HTTPS
site): the probe document (the real probe's frame table), and a 1080p VP9 video served with HTTP Range like the
stream endpoint. `tracks` box tracks are on the label. A step dispatches → and ends when the step's frame is painted
(the `tdp-frame-shown` event) and the next animation frame ran: the time from the key to the frame on screen with
its boxes. Figures: steps at a held key's pace, and steps back to back (see editor_step_latency)."""

from __future__ import annotations

import json
import os
import statistics
from pathlib import Path
from typing import Any

from django.conf import settings

CHROMIUM = os.environ.get("TDP_CHROMIUM", "/usr/bin/chromium")
FRAMES = 90
W, H = 1920, 1080

PAGE = """<!doctype html><html><head><link rel="stylesheet" href="/static/labeling/label.css">
<link rel="stylesheet" href="/static/labeling/video.css"></head><body>
<div class="label-layout" id="label-layout"><section class="workspace">
<div id="asset" class="asset" data-media-type="video" data-video-url="/bench/video.json" data-stream-url="/bench/v.webm"
 data-content-url="/bench/v.webm"></div></section>
<aside class="panel"><form id="label-form" data-submit-url="/bench/submit" data-next-url="/bench/next">
<input type="hidden" name="csrfmiddlewaretoken" value="x"><div id="tools"></div><span id="object-count"></span>
<ol id="objects"></ol><div id="questions"></div><div class="submit-bar"></div></form></aside></div>
<script id="ontology-data" type="application/json">ONTOLOGY</script>
<script id="annotations-data" type="application/json">ANNOTATIONS</script>
<script type="module" src="/static/labeling/video.js"></script></body></html>"""

# The first frame is on screen (painted from the decoded-frame cache, static/labeling/video-player.js).
LOADED = """() => new Promise((resolve) => {
  if (document.documentElement.dataset.videoShown === "0") resolve();
  else document.addEventListener("tdp-frame-shown", resolve, { once: true });
})"""

MEASURE = """async ([steps, pause]) => {
  const html = document.documentElement;
  const times = [];
  for (let i = 0; i < steps; i++) {
    const target = String(Number(html.dataset.videoFrame) + 1);
    const t0 = performance.now();
    const shown = new Promise((resolve) => {
      if (html.dataset.videoShown === target) return resolve();
      const on = (e) => {
        if (String(e.detail.frame) !== target) return;
        document.removeEventListener("tdp-frame-shown", on);
        resolve();
      };
      document.addEventListener("tdp-frame-shown", on);
    });
    document.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowRight", bubbles: true }));
    await shown;
    await new Promise((resolve) => requestAnimationFrame(() => resolve()));
    times.push(performance.now() - t0);
    if (pause) await new Promise((resolve) => setTimeout(resolve, pause));
  }
  return times;
}"""


def _video() -> bytes:
    import io
    from fractions import Fraction

    import av
    import numpy as np

    out = io.BytesIO()
    with av.open(out, mode="w", format="webm") as container:
        stream = container.add_stream("libvpx-vp9", rate=30, options={"deadline": "realtime", "cpu-used": "8"})
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
        stream.codec_context.time_base = Fraction(1, 30)
        for i in range(FRAMES):
            array = np.full((H, W, 3), 40, dtype=np.uint8)
            array[300:500, 20 * i : 20 * i + 300] = 230
            frame = av.VideoFrame.from_ndarray(array, format="rgb24")
            frame.pts = i
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()


def _routes(page: Any, body: bytes, tracks: int) -> None:
    from apps.datasets.domain.video_probe import probe_video

    static = Path(settings.BASE_DIR) / "static"
    # The probed frame table, as the server sends it (WebM timestamps are milliseconds: 0.033, not 1/30).
    frame_times = probe_video(body, images=False).table.times()
    ontology = {
        "tools": [{"name": "car", "tool": "bbox", "schema_id": "car", "color": "#e6194b", "classifications": []}]
    }
    annotations = [
        {
            "name": "car",
            "track_id": f"t{n}",
            "keyframes": [
                {
                    "frame": f,
                    "bbox": {"left": 20 + (n % 10) * 180 + f, "top": 40 + (n // 10) * 200, "width": 120, "height": 90},
                }
                for f in range(0, FRAMES, 15)
            ],
        }
        for n in range(tracks)
    ]
    info = {
        "status": "ready",
        "frame_count": FRAMES,
        "frame_times": frame_times,
        "width": W,
        "height": H,
    }
    html = PAGE.replace("ONTOLOGY", json.dumps(ontology)).replace("ANNOTATIONS", json.dumps(annotations))

    def handle(route: Any) -> None:
        path = route.request.url.split("localhost", 1)[1].split("?")[0]
        if path == "/label":
            route.fulfill(status=200, content_type="text/html", body=html)
        elif path.startswith("/static/"):
            name = static / path[len("/static/") :]
            kind = "text/css" if name.suffix == ".css" else "text/javascript"
            route.fulfill(status=200, content_type=kind, body=name.read_bytes())
        elif path == "/bench/video.json":
            route.fulfill(status=200, content_type="application/json", body=json.dumps(info))
        elif path == "/bench/v.webm":
            wanted = route.request.headers.get("range", "")
            start, end = 0, len(body) - 1
            if wanted.startswith("bytes="):
                a, _, b = wanted[6:].partition("-")
                start = int(a or 0)
                end = min(int(b), end) if b else end
            headers = {"Accept-Ranges": "bytes", "Content-Range": f"bytes {start}-{end}/{len(body)}"}
            route.fulfill(
                status=206 if wanted else 200, content_type="video/webm", headers=headers, body=body[start : end + 1]
            )
        else:
            route.fulfill(status=404, body="")

    page.route("http://localhost/**", handle)


def _stats(prefix: str, times: list[float]) -> dict[str, Any]:
    times = sorted(times)
    return {
        f"{prefix}_steps": len(times),
        f"{prefix}_ms_median": round(statistics.median(times), 1),
        f"{prefix}_ms_p95": round(times[int(0.95 * (len(times) - 1))], 1),
        f"{prefix}_ms_max": round(times[-1], 1),
    }


def editor_step_latency(
    *, tracks: int = 50, steps: int = 40, pause_ms: int = 33, warm_ms: int = 1000
) -> dict[str, Any]:
    """Two runs on one page: `steps` steps at a held arrow key's pace (`pause_ms` between steps, after `warm_ms` on
    the first frame, as a labeler looks at it), then `steps` more back to back with no pause (faster than the
    decoder plays ahead: the frames come at decoding speed)."""
    from playwright.sync_api import sync_playwright

    body = _video()
    steps = min(steps, (FRAMES - 2) // 2)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            page = browser.new_page(viewport={"width": 1920, "height": 1080})
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            _routes(page, body, tracks)
            page.goto("http://localhost/label")
            try:
                page.wait_for_selector("html[data-editor-ready=true]", state="attached", timeout=30_000)
            except Exception as exc:
                raise RuntimeError(f"The video editor did not start in the benchmark page: {errors}") from exc
            page.evaluate(LOADED)
            page.wait_for_timeout(warm_ms)
            paced = page.evaluate(MEASURE, [steps, pause_ms])
            burst = page.evaluate(MEASURE, [steps, 0])
            shown = int(page.get_attribute("html", "data-video-shown") or -1)
        finally:
            browser.close()
    if errors:
        raise RuntimeError(f"The editor failed in the benchmark page: {errors}")
    return {
        "editor_video": f"{W}x{H} VP9, {FRAMES} frames",
        "editor_tracks": tracks,
        "editor_final_frame": shown,
        "editor_step_pause_ms": pause_ms,
        **_stats("editor_step", paced),
        **_stats("editor_step_burst", burst),
        "editor_step_goal_ms": 50,
    }
