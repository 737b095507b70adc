"""A small backend written only to Label Studio's ML backend protocol (the shapes of label-studio-ml-backend's
`_wsgi`/`api.py`), with no knowledge of TDP: it shows that such servers plug in unchanged.

    python examples/model_server/label_studio_backend.py --port 9010

`/health` → `{"status": "UP", "model_class"}`; `/setup {"project", "schema"}` → `{"model_version"}`;
`/predict {"tasks", "label_config"}` → `{"results": [{"result": [...], "score", "model_version"}]}`: one
`rectanglelabels` region per task (the centre quarter of the image, labelled with the config's first
`RectangleLabels` label) and a `choices` region when the config has `Choices`; `/webhook` → `{"status": "ok"}`.
"""

from __future__ import annotations

import argparse
import json
import sys
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

VERSION = "ls-centre-box-0.3"


def _config(label_config: str) -> tuple[str | None, str | None, str | None, str | None]:
    """(rectangle control name, its first label, choices control name, its first choice)."""
    try:
        root = ET.fromstring(label_config or "<View/>")  # noqa: S314 (an example server on loopback; the config is the caller's own)
    except ET.ParseError:
        return None, None, None, None
    rect = root.find(".//RectangleLabels")
    choices = root.find(".//Choices")
    rect_label = rect.find("Label") if rect is not None else None
    choice = choices.find("Choice") if choices is not None else None
    return (
        rect.get("name") if rect is not None else None,
        rect_label.get("value") if rect_label is not None else None,
        choices.get("name") if choices is not None else None,
        choice.get("value") if choice is not None else None,
    )


def predict(tasks: list[dict[str, Any]], label_config: str) -> dict[str, Any]:
    rect_name, label, choices_name, choice = _config(label_config)
    results = []
    for _task in tasks:
        regions: list[dict[str, Any]] = []
        if rect_name and label:
            regions.append(
                {
                    "from_name": rect_name,
                    "to_name": "image",
                    "type": "rectanglelabels",
                    "original_width": 640,
                    "original_height": 480,
                    "value": {
                        "x": 25.0,
                        "y": 25.0,
                        "width": 50.0,
                        "height": 50.0,
                        "rotation": 0,
                        "rectanglelabels": [label],
                    },
                    "score": 0.8,
                }
            )
        if choices_name and choice:
            regions.append(
                {"from_name": choices_name, "to_name": "image", "type": "choices", "value": {"choices": [choice]}}
            )
        results.append({"result": regions, "score": 0.8, "model_version": VERSION})
    return {"results": results}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body leave in separate writes: without TCP_NODELAY each answer on a kept-alive connection
    # waits ~40 ms for the client's delayed ACK (Nagle).
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, payload: Any) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path.rstrip("/") == "/health":
            self._send(200, {"status": "UP", "model_class": "CentreBox"})
        else:
            self._send(404, {"error": "not found"})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        path = self.path.rstrip("/")
        if path == "/setup":
            self._send(200, {"model_version": VERSION})
        elif path == "/predict":
            self._send(200, predict(body.get("tasks") or [], body.get("label_config") or ""))
        elif path == "/webhook":
            self._send(200, {"status": "ok"})
        else:
            self._send(404, {"error": "not found"})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=9010)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    sys.stdout.write(f"label studio backend on http://127.0.0.1:{server.server_port}\n")
    sys.stdout.flush()
    server.serve_forever()


if __name__ == "__main__":
    main()
