"""TDP's reference model server: one process speaking both protocols of docs/model-endpoints.md.

    python examples/model_server/server.py --port 9009 [--token SECRET] [--instant]

- TDP protocol v1: `GET /health`, `POST /setup`, `POST /predict {"protocol": "tdp.v1", "rows": [...]}` →
  `{"model_version", "results": [{"id", "annotations": [...]}]}`, `POST /embed {"rows": [...]}` →
  `{"model_version", "dims", "results": [{"id", "vector"}]}`, `POST /assist {"row", "point"|"bbox"}` →
  `{"model_version", "suggestion": annotation | null}` (interactive assist).
- Label Studio ML backend: `POST /predict {"tasks": [...]}` → `{"results": [{"result": [regions], "score",
  "model_version"}]}`, `POST /setup {"schema"}` → `{"model_version"}`, `POST /webhook` (training events:
  `START_TRAINING` with `training_data.url` retrains like `/train`).
- `POST /train {"training_data": {"url"}}`: reads the platform's training-data snapshot, answers
  `{"status", "model_version", "rows", "boxes"}` with a new model version.

`--token`: requests must carry `Authorization: <token>`. `--instant`: answer without fetching or looking at the
images (one fixed box per row), to measure the platform's own overhead. `--delay S`: wait S seconds before answering
a POST (a slow model).
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from detector import CLASSES, MODEL_VERSION, decode, detect, embed, refine

MAX_BODY = 32 * 1024 * 1024
FETCH_TIMEOUT = 10


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT) as response:  # noqa: S310 (the platform's signed URL)
        return response.read(MAX_BODY)


def _fixed_box(width: int | None, height: int | None) -> dict[str, Any]:
    w, h = width or 640, height or 480
    return {"name": "vehicle", "bbox": {"left": w // 4, "top": h // 2, "width": w // 4, "height": h // 6}}


class Model:
    def __init__(self, instant: bool) -> None:
        self.instant = instant
        self.version = MODEL_VERSION
        self.trainings = 0
        self.lock = threading.Lock()
        self.pool = ThreadPoolExecutor(max_workers=4)

    def boxes(self, url: str | None, width: int | None, height: int | None) -> list[dict[str, Any]]:
        if self.instant:
            return [{**_fixed_box(width, height), "confidence": 0.5}]
        if not url:
            raise ValueError("no image URL")
        return detect(decode(fetch(url)))

    def vector(self, url: str | None) -> list[float]:
        if not url:
            raise ValueError("no image URL")
        return embed(decode(fetch(url)))

    def tdp_predict(self, rows: list[dict[str, Any]]) -> dict[str, Any]:
        def one(row: dict[str, Any]) -> dict[str, Any]:
            try:
                return {"id": row["id"], "annotations": self.boxes(row.get("url"), row.get("width"), row.get("height"))}
            except Exception as exc:  # a row the model cannot read is reported for that row only
                return {"id": row.get("id"), "annotations": [], "error": f"{type(exc).__name__}: {exc}"[:200]}

        return {"model_version": self.version, "results": list(self.pool.map(one, rows))}

    def tdp_embed(self, rows: list[dict[str, Any]]) -> dict[str, Any]:
        def one(row: dict[str, Any]) -> dict[str, Any]:
            try:
                return {"id": row["id"], "vector": self.vector(row.get("url"))}
            except Exception as exc:
                return {"id": row.get("id"), "error": f"{type(exc).__name__}: {exc}"[:200]}

        return {"model_version": self.version, "dims": 64, "results": list(self.pool.map(one, rows))}

    def ls_predict(self, tasks: list[dict[str, Any]]) -> dict[str, Any]:
        def one(task: dict[str, Any]) -> dict[str, Any]:
            url = (task.get("data") or {}).get("image")
            pixels = None if self.instant else decode(fetch(url))
            height, width = (480, 640) if pixels is None else pixels.shape[:2]
            found = self.boxes(url, width, height) if pixels is None else detect(pixels)
            regions = [
                {
                    "from_name": "label",
                    "to_name": "image",
                    "type": "rectanglelabels",
                    "original_width": width,
                    "original_height": height,
                    "value": {
                        "x": 100 * b["bbox"]["left"] / width,
                        "y": 100 * b["bbox"]["top"] / height,
                        "width": 100 * b["bbox"]["width"] / width,
                        "height": 100 * b["bbox"]["height"] / height,
                        "rotation": 0,
                        "rectanglelabels": [b["name"]],
                    },
                    "score": b.get("confidence"),
                }
                for b in found
            ]
            score = min((r["score"] for r in regions if r["score"] is not None), default=0.0)
            return {"result": regions, "score": score, "model_version": self.version}

        return {"results": list(self.pool.map(one, tasks))}

    def train(self, training_data: Any) -> dict[str, Any]:
        """Read the platform's training-data snapshot (signed NDJSON link) and "retrain": this classical detector
        has nothing to fit, so it counts the labeled rows and boxes and reports a new model version."""
        if not isinstance(training_data, dict) or not isinstance(training_data.get("url"), str):
            raise ValueError("no training_data.url")
        lines = [json.loads(line) for line in fetch(training_data["url"]).splitlines() if line.strip()]
        boxes = sum(len(line.get("annotations") or []) for line in lines)
        with self.lock:
            self.trainings += 1
            base = MODEL_VERSION.rsplit("-", 1)[0]
            self.version = f"{base}-{1 + self.trainings}"
            version = self.version
        return {"status": "trained", "model_version": version, "rows": len(lines), "boxes": boxes}


def make_handler(model: Model, token: str | None, delay: float = 0.0) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet: one line per error only
            pass

        def _send(self, status: int, payload: Any) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _authorized(self) -> bool:
            if token and self.headers.get("Authorization") != token:
                self._send(401, {"error": "unauthorized"})
                return False
            return True

        def do_GET(self) -> None:
            if not self._authorized():
                return
            if self.path.rstrip("/") == "/health":
                self._send(200, {"status": "UP", "model_class": "ColourComponents", "model_version": model.version})
            else:
                self._send(404, {"error": "not found"})

        def do_POST(self) -> None:
            if not self._authorized():
                return
            if delay:  # a slow model (for measuring the platform while calls time out)
                time.sleep(delay)
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self._send(413, {"error": "too large"})
                return
            try:
                body = json.loads(self.rfile.read(length) or b"{}")
            except ValueError:
                self._send(400, {"error": "not JSON"})
                return
            path = self.path.rstrip("/")
            if path == "/setup":
                self._send(200, {"model_version": model.version, "classes": list(CLASSES)})
            elif path == "/predict" and isinstance(body.get("rows"), list):
                self._send(200, model.tdp_predict(body["rows"]))
            elif path == "/predict" and isinstance(body.get("tasks"), list):
                self._send(200, model.ls_predict(body["tasks"]))
            elif path == "/assist" and isinstance(body.get("row"), dict):
                try:
                    pixels = decode(fetch(body["row"].get("url") or ""))
                except Exception as exc:
                    self._send(422, {"error": f"{type(exc).__name__}"})
                    return
                found = refine(pixels, point=body.get("point"), box=body.get("bbox"))
                self._send(200, {"model_version": model.version, "suggestion": found})
            elif path == "/embed" and isinstance(body.get("rows"), list):
                self._send(200, model.tdp_embed(body["rows"]))
            elif path == "/train" or (path == "/webhook" and body.get("action") == "START_TRAINING"):
                try:
                    trained = model.train(body.get("training_data"))
                except Exception as exc:
                    self._send(422, {"error": f"{type(exc).__name__}"})
                    return
                if path == "/webhook":  # Label Studio's answer shape: 201 {"result": ..., "status": "ok"}
                    self._send(201, {"result": trained, "status": "ok", "model_version": trained["model_version"]})
                else:
                    self._send(200, trained)
            elif path == "/webhook":
                self._send(200, {"status": "ok", "action": str(body.get("action", ""))[:50]})
            else:
                self._send(404, {"error": "unknown path or body"})

    return Handler


def serve(
    port: int, *, token: str | None = None, instant: bool = False, host: str = "127.0.0.1", delay: float = 0.0
) -> None:
    model = Model(instant)
    server = ThreadingHTTPServer((host, port), make_handler(model, token, delay))
    server.daemon_threads = True
    sys.stdout.write(f"model server on http://{host}:{server.server_port} ({model.version})\n")
    sys.stdout.flush()
    server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=9009)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--token", default=None, help="require Authorization: <token>")
    parser.add_argument("--instant", action="store_true", help="answer without looking at the images")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds to wait before answering a POST")
    args = parser.parse_args()
    serve(args.port, token=args.token, instant=args.instant, host=args.host, delay=args.delay)


if __name__ == "__main__":
    main()
