"""A local XYZ tile server for the tests (loopback only; the tests allow-list it in TDP_OUTBOUND_ALLOWED_HOSTS, the
way other tests allow their loopback servers). Tile z/x/y is a PNG whose colour encodes it: red = z · 10,
green = x mod 256, blue = y mod 256 (so a test can tell which tile, and which y order, is on screen)."""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from PIL import Image

TILE = re.compile(r"^/tiles/(\d+)/(\d+)/(\d+)\.png$")


def tile_png(z: int, x: int, y: int, size: int = 256) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (size, size), (min(z * 10, 255), x % 256, y % 256)).save(out, format="PNG")
    return out.getvalue()


class TileHandler(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        self.server.requests.append(self.path)  # type: ignore[attr-defined]
        match = TILE.match(self.path)
        if match is None:
            body, status, kind = b"not a tile", 404, "text/plain"
        else:
            body, status, kind = tile_png(*(int(g) for g in match.groups())), 200, "image/png"
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@contextmanager
def tile_server() -> Iterator[ThreadingHTTPServer]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), TileHandler)
    httpd.requests = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()


def template(httpd: ThreadingHTTPServer) -> str:
    return f"http://127.0.0.1:{httpd.server_address[1]}/tiles/{{z}}/{{x}}/{{y}}.png"
