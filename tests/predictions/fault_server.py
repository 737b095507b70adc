"""A model server that misbehaves on purpose (fault tests), switchable while it runs.

    python tests/predictions/fault_server.py --port 0 --mode 500

Modes of `POST /predict`: `ok` (TDP v1, one box per row), `timeout` (answers after 5 s), `500`, `garbage` (not JSON),
`huge` (10 MB, no Content-Length), `close` (announces 100 kB, sends 1 kB, closes), `redirect` (302 to
127.0.0.1:1). `POST /__mode {"mode"}` switches; `GET /__stats` → `{"predict_calls", "rows": {id: times sent},
"predict_connections"}` (how many TCP connections the `/predict` calls came over)."""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

STATE: dict[str, Any] = {"mode": "ok", "calls": 0, "rows": {}, "ports": set()}
LOCK = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path == "/__stats":
            with LOCK:
                stats = {"predict_calls": STATE["calls"], "rows": STATE["rows"]}
                stats["predict_connections"] = len(STATE["ports"])
                self._send(200, json.dumps(stats).encode())
        elif self.path == "/health":
            self._send(200, b'{"status": "UP"}')
        else:
            self._send(404, b"{}")

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        if self.path == "/__mode":
            STATE["mode"] = body["mode"]
            self._send(200, b"{}")
            return
        if self.path != "/predict":
            self._send(200, b'{"model_version": "fault-1"}')
            return
        rows = body.get("rows") or []
        with LOCK:
            STATE["calls"] += 1
            STATE["ports"].add(self.client_address[1])
            mode = STATE["mode"]
            if mode == "ok":
                for row in rows:
                    STATE["rows"][row["id"]] = STATE["rows"].get(row["id"], 0) + 1
        if mode == "ok":
            results = [
                {
                    "id": r["id"],
                    "annotations": [
                        {"name": "vehicle", "bbox": {"left": 1, "top": 2, "width": 30, "height": 40}, "confidence": 0.7}
                    ],
                }
                for r in rows
            ]
            self._send(200, json.dumps({"model_version": "fault-1", "results": results}).encode())
        elif mode == "timeout":
            time.sleep(5)
            self._send(200, b'{"results": []}')
        elif mode == "500":
            self._send(500, b'{"detail": "Traceback ... secret-internal-path /srv/model.py"}')
        elif mode == "garbage":
            self._send(200, b"<html>not json SECRET-BODY-MARKER</html>\x00\xff")
        elif mode == "huge":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Connection", "close")
            self.end_headers()
            chunk = b"[" + b"0," * 65536
            for _ in range(10 * 1024 * 1024 // len(chunk) + 1):
                self.wfile.write(chunk)
            self.close_connection = True
        elif mode == "close":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "100000")
            self.end_headers()
            self.wfile.write(b'{"results": [' + b" " * 1000)
            self.wfile.flush()
            self.close_connection = True
        elif mode == "redirect":
            self.send_response(302)
            self.send_header("Location", "http://127.0.0.1:1/predict")
            self.send_header("Content-Length", "0")
            self.end_headers()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--mode", default="ok")
    args = parser.parse_args()
    STATE["mode"] = args.mode
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    sys.stdout.write(f"fault server on http://127.0.0.1:{server.server_port}\n")
    sys.stdout.flush()
    server.serve_forever()


if __name__ == "__main__":
    main()
