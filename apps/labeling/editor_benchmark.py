"""`python manage.py benchmark editor [--size N] [--option repeat=40]`: the labeling editor in headless Chromium.

The real label page (templates/labeling/label.html and the ES modules under static/labeling/) is rendered without
a database and served with a 4000×3000 PNG by a small HTTP server this benchmark starts; N (1,000) boxes arrive as
the page's annotations, the way a draft or a rework label does. Chromium (Playwright, Debian's /usr/bin/chromium)
opens it at 1440×900 and measures:

- `ready_ms`: navigation start → image decoded, every box drawn and the page painted;
- `select_ms_p50/max`: pressing a box that was not selected → painted (the canvas of the other boxes repainted
  without it, the side panel waits for pointerup);
- `drag_frame_ms_p50/p95/max`: one drag frame, from the pointer move being handled to the frame painted (the move
  event is dispatched at the start of an animation frame; the time is read in a task queued from that frame's
  rAF, which runs after style, layout and paint), over `repeat` frames of a box drag among N boxes;
- `drag_handler_ms_p95`, `undo_js_ms_p50`: the JavaScript part alone (the move handler; undo without the paint);
- `move_commit_ms`: pointer up → the change recorded for undo and painted;
- `undo_ms_p50/max`, `redo_ms_p50`: Ctrl+Z / redo of a move among N boxes, to paint;
- `set_document_ms`: replacing the whole document (N boxes) through the editor API, to paint.
Goals (issue 22): ready < 1 s, drag frame p95 < 16 ms, undo < 50 ms. `load_average` is the machine's 1-minute load
when the run ends: on a shared machine the figures grow with it.
"""

from __future__ import annotations

import json
import os
import random
import struct
import threading
import time
import uuid
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.management.base import CommandError
from django.template.loader import render_to_string
from django.test import RequestFactory

from apps.core.benchmarks import benchmark
from apps.ontologies.demo import VEHICLES

WIDTH, HEIGHT = 4000, 3000
CHROMIUM = os.environ.get("TDP_CHROMIUM", "/usr/bin/chromium")


def _png(width: int, height: int) -> bytes:
    """A gradient RGB PNG (no Pillow needed)."""
    rows = bytearray()
    for y in range(height):
        shade = 40 + y * 150 // height
        line = bytes((shade, 70 + (y * 97) % 60, 110)) * width
        rows += b"\x00" + line

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = zlib.compress(bytes(rows), 1)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


def _boxes(count: int, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)  # noqa: S311 (test data, not secrets)
    out = []
    for _ in range(count):
        w, h = rng.randint(20, 220), rng.randint(20, 180)
        left, top = rng.randint(0, WIDTH - w), rng.randint(0, HEIGHT - h)
        out.append({"name": "vehicle", "bbox": {"left": left, "top": top, "width": w, "height": h}})
    return out


def _page(annotations: list[dict[str, Any]]) -> str:
    request = RequestFactory().get("/label")
    request.user = AnonymousUser()
    project = SimpleNamespace(id=uuid.uuid4(), name="Editor benchmark", instructions="Box every vehicle.")
    row = SimpleNamespace(
        id=uuid.uuid4(), global_key="benchmark.png", media_type="image", width=WIDTH, height=HEIGHT, row_data=""
    )
    context = {
        "task": SimpleNamespace(id=uuid.uuid4()),
        "project": project,
        "data_row": row,
        "is_text": False,
        "content_url": "/media/benchmark.png",
        "ontology": {"tools": VEHICLES["tools"], "classifications": VEHICLES["classifications"]},
        "annotations": annotations,
        "errors": [],
    }
    return render_to_string("labeling/label.html", context, request=request)


class _Server:
    """Serves the rendered page, the image and static/ on 127.0.0.1 (a free port), in a thread."""

    def __init__(self, html: str, image: bytes) -> None:
        static_root = Path(settings.BASE_DIR) / "static"
        files = {"/": (html.encode(), "text/html; charset=utf-8"), "/media/benchmark.png": (image, "image/png")}

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                found = files.get(path)
                if found is None and path.startswith("/static/"):
                    file = (static_root / path[len("/static/") :]).resolve()
                    if file.is_file() and static_root.resolve() in file.parents:
                        types = {".js": "text/javascript", ".css": "text/css"}
                        kind = types.get(file.suffix, "application/octet-stream")
                        found = (file.read_bytes(), kind)
                if found is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body, kind = found
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                return

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


# In-page measurements (see the module docstring for what each one covers).
MEASURE_JS = (Path(__file__).resolve().parent / "editor_benchmark.js").read_text(encoding="utf-8")


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return round(ordered[index], 2)


@benchmark("editor")
def editor_benchmark(params: dict[str, Any]) -> dict[str, Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # a dev dependency (requirements-dev.txt)
        raise CommandError("The editor benchmark needs Playwright: pip install -r requirements-dev.txt") from exc
    if not os.path.exists(CHROMIUM):
        raise CommandError(f"Chromium not found at {CHROMIUM} (set TDP_CHROMIUM).")
    size = int(params.get("size") or 1000)
    repeat = int(params.get("repeat") or 60)
    annotations = _boxes(size)
    started = time.perf_counter()
    server = _Server(_page(annotations), _png(WIDTH, HEIGHT))
    setup_s = time.perf_counter() - started
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-dev-shm-usage"]
            )
            try:
                page = browser.new_page(viewport={"width": 1440, "height": 900})
                errors: list[str] = []
                page.on("pageerror", lambda error: errors.append(str(error)))
                page.goto(server.url)
                result = page.evaluate(MEASURE_JS, {"repeat": repeat, "size": size})
                if errors:
                    raise CommandError(f"JavaScript errors on the page: {errors}")
            finally:
                browser.close()
    finally:
        server.close()
    drag = result.pop("drag")
    select = result.pop("select")
    handler = result.pop("handler")
    undo = result.pop("undo")
    undo_js = result.pop("undoJs")
    redo = result.pop("redo")
    return {
        "boxes": size,
        "image": f"{WIDTH}x{HEIGHT}",
        "ready_ms": round(result["ready"], 1),
        "select_ms_p50": _percentile(select, 50),
        "select_ms_max": round(max(select), 2),
        "drag_frame_ms_p50": _percentile(drag, 50),
        "drag_frame_ms_p95": _percentile(drag, 95),
        "drag_frame_ms_max": round(max(drag), 2),
        "drag_frames": len(drag),
        "drag_handler_ms_p95": _percentile(handler, 95),
        "move_commit_ms": round(result["commit"], 2),
        "undo_ms_p50": _percentile(undo, 50),
        "undo_ms_max": round(max(undo), 2),
        "undo_js_ms_p50": _percentile(undo_js, 50),
        "redo_ms_p50": _percentile(redo, 50),
        "set_document_ms": round(result["setDocument"], 1),
        "drawn_boxes": result["drawn"],
        "setup_s": round(setup_s, 2),
        "load_average": round(os.getloadavg()[0], 2),
        "goals": {"ready_ms": 1000, "drag_frame_ms_p95": 16, "undo_ms": 50},
        "params": json.loads(json.dumps({"size": size, "repeat": repeat})),
    }
