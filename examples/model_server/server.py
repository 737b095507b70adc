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
  `{"status", "model_version", "rows", "boxes"}` with a new model version. Asynchronously when asked
  (`--async-train S`, or `POST /train?async=S`): `202 {"status": "started", "job_id", "status_url"}`, the job
  finishes S seconds later; `GET /train/<job_id>` → `{"status": "training"|"done"|"failed", "model_version",
  "error"}`. Label Studio: the `START_TRAINING` webhook answers `201 {"job", "status": "ok"}` and
  `POST /job_status {"job"}` → `{"job_status": "started"|"finished"|"failed", "error", "ended_at"}`.
  `--train-fail`: asynchronous jobs fail (to test the platform's failure path).

`--token`: requests must carry `Authorization: <token>`. `--instant`: answer without fetching or looking at the
images (one fixed box per row), to measure the platform's own overhead. `--work-ms MS`: with `--instant`, take MS
milliseconds per row to answer `/predict` (a model of known speed, e.g. a GPU model: it waits, it does not use this
machine's CPU). `--delay S`: wait S seconds before answering a POST (a slow model, not counted as its own time).

Every answer to a POST carries `X-Model-Seconds`: the server's own time for it (reading the body, the model, encoding
the answer; measured here, not by the caller), so a client can tell the model's time from its own.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

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
    def __init__(self, instant: bool, work_ms: float = 0.0) -> None:
        self.instant = instant
        self.work_ms = work_ms
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

        if self.instant and self.work_ms:
            time.sleep(len(rows) * self.work_ms / 1000)
            return {"model_version": self.version, "results": [one(row) for row in rows]}
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


class TrainingJobs:
    """Asynchronous training: a job per call, run in a thread that waits `seconds` (a long fit), then trains."""

    def __init__(self, model: Model, fail: bool = False) -> None:
        self.model, self.fail = model, fail
        self.jobs: dict[str, dict[str, Any]] = {}
        self.lock = threading.Lock()

    def start(self, training_data: Any, seconds: float) -> str:
        job = uuid.uuid4().hex
        with self.lock:
            self.jobs[job] = {"status": "training", "model_version": None, "error": None, "ended_at": None}
        threading.Thread(target=self._run, args=(job, training_data, seconds), daemon=True).start()
        return job

    def _run(self, job: str, training_data: Any, seconds: float) -> None:
        time.sleep(seconds)
        try:
            if self.fail:
                raise RuntimeError("the fit diverged (server started with --train-fail)")
            outcome = {"status": "done", "model_version": self.model.train(training_data)["model_version"]}
        except Exception as exc:
            outcome = {"status": "failed", "error": f"{type(exc).__name__}: {exc}"[:300]}
        with self.lock:
            self.jobs[job].update(outcome, ended_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))

    def get(self, job: str) -> dict[str, Any] | None:
        with self.lock:
            found = self.jobs.get(job)
            return {"job_id": job, **found} if found else None


def make_handler(
    model: Model, token: str | None, delay: float = 0.0, async_train: float | None = None, train_fail: bool = False
) -> type[BaseHTTPRequestHandler]:
    jobs = TrainingJobs(model, fail=train_fail)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body leave in separate writes: without TCP_NODELAY each answer on a kept-alive connection
        # waits ~40 ms for the client's delayed ACK (Nagle).
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:  # quiet: one line per error only
            pass

        started = 0.0

        def _send(self, status: int, payload: Any) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            if self.started:
                self.send_header("X-Model-Seconds", f"{time.perf_counter() - self.started:.6f}")
            self.end_headers()
            self.wfile.write(body)

        def _authorized(self) -> bool:
            if token and self.headers.get("Authorization") != token:
                self._send(401, {"error": "unauthorized"})
                return False
            return True

        def do_GET(self) -> None:
            self.started = 0.0
            if not self._authorized():
                return
            path = urlsplit(self.path).path.rstrip("/")
            if path == "/health":
                self._send(200, {"status": "UP", "model_class": "ColourComponents", "model_version": model.version})
            elif path.startswith("/train/"):
                job = jobs.get(path.removeprefix("/train/"))
                self._send(200 if job else 404, job or {"error": "no such job"})
            else:
                self._send(404, {"error": "not found"})

        def do_POST(self) -> None:
            self.started = 0.0
            if not self._authorized():
                return
            if delay:  # a slow model (for measuring the platform while calls time out)
                time.sleep(delay)
            self.started = time.perf_counter()
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self._send(413, {"error": "too large"})
                return
            try:
                body = json.loads(self.rfile.read(length) or b"{}")
            except ValueError:
                self._send(400, {"error": "not JSON"})
                return
            parts = urlsplit(self.path)
            path = parts.path.rstrip("/")
            asked = parse_qs(parts.query).get("async")
            seconds = float(asked[0]) if asked and asked[0].replace(".", "", 1).isdigit() else async_train
            training = path == "/train" or (path == "/webhook" and body.get("action") == "START_TRAINING")
            if training and seconds is not None:
                job = jobs.start(body.get("training_data"), seconds)
                if path == "/webhook":
                    self._send(201, {"job": job, "status": "ok"})
                else:
                    self._send(202, {"status": "started", "job_id": job, "status_url": f"/train/{job}"})
                return
            if path == "/job_status":
                job = jobs.get(str(body.get("job", "")))
                if job is None:
                    self._send(404, {"error": "no such job"})
                    return
                word = {"training": "started", "done": "finished"}.get(job["status"], job["status"])
                self._send(200, {"job_status": word, "error": job["error"], "ended_at": job["ended_at"]})
            elif path == "/setup":
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
    port: int,
    *,
    token: str | None = None,
    instant: bool = False,
    host: str = "127.0.0.1",
    delay: float = 0.0,
    async_train: float | None = None,
    train_fail: bool = False,
    work_ms: float = 0.0,
) -> None:
    model = Model(instant, work_ms)
    server = ThreadingHTTPServer((host, port), make_handler(model, token, delay, async_train, train_fail))
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
    parser.add_argument("--async-train", type=float, default=None, help="train asynchronously, done after S seconds")
    parser.add_argument("--train-fail", action="store_true", help="asynchronous training jobs fail")
    parser.add_argument("--work-ms", type=float, default=0.0, help="with --instant: milliseconds per predicted row")
    args = parser.parse_args()
    serve(
        args.port,
        token=args.token,
        instant=args.instant,
        host=args.host,
        delay=args.delay,
        async_train=args.async_train,
        train_fail=args.train_fail,
        work_ms=args.work_ms,
    )


if __name__ == "__main__":
    main()
