"""HTTP clients of the scale and load tests: round-robin over the web processes (what a load balancer does),
retries on `503` after `Retry-After` with the same `Idempotency-Key`, and latency per endpoint."""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import requests

from tests.scale.seed import weather


@dataclass
class Stats:
    lock: threading.Lock = field(default_factory=threading.Lock)
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    unavailable: list[dict[str, Any]] = field(default_factory=list)  # each 503 seen (then retried)
    reconnects: int = 0  # requests resent once after the server closed a kept-alive connection

    def record(self, endpoint: str, seconds: float) -> None:
        with self.lock:
            self.latencies[endpoint].append(seconds)

    def error(self, text: str) -> None:
        with self.lock:
            self.errors.append(text[:500])

    def report(self, wall_seconds: float) -> dict[str, Any]:
        def pct(values: list[float], q: float) -> float:
            ordered = sorted(values)
            return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1)

        return {
            "wall_s": round(wall_seconds, 1),
            "errors": len(self.errors),
            "retried_503": len(self.unavailable),
            "reconnects": self.reconnects,
            "endpoints": {
                name: {
                    "count": len(values),
                    "rps": round(len(values) / wall_seconds, 2) if wall_seconds else None,
                    "p50_ms": pct(values, 0.5),
                    "p95_ms": pct(values, 0.95),
                }
                for name, values in sorted(self.latencies.items())
                if values
            },
        }


class Api:
    def __init__(self, bases: list[str], token: str, stats: Stats, *, max_wait: float = 90.0) -> None:
        self.bases = itertools.cycle(bases)
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Token {token}"
        self.stats = stats
        self.max_wait = max_wait

    def call(
        self,
        method: str,
        path: str,
        *,
        endpoint: str,
        expect: tuple[int, ...] = (200,),
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> requests.Response | None:
        """One logical request: retried (same body, same headers) while the answer is 503 + Retry-After. Any other
        unexpected answer is an error. Returns None after an error."""
        deadline = time.monotonic() + self.max_wait
        reconnected = False
        while True:
            started = time.monotonic()
            try:
                response = self.session.request(method, next(self.bases) + path, headers=headers, timeout=120, **kwargs)
            except requests.ConnectionError as exc:
                # A kept-alive connection the server closed just as we reused it: resend once on a new connection,
                # as a load balancer does (every call is safe to repeat: writes carry an Idempotency-Key, claims
                # return the caller's live lease). A second failure is an error.
                if reconnected:
                    self.stats.error(f"{endpoint}: {type(exc).__name__}: {exc}")
                    return None
                reconnected = True
                with self.stats.lock:
                    self.stats.reconnects += 1
                continue
            except requests.RequestException as exc:
                self.stats.error(f"{endpoint}: {type(exc).__name__}: {exc}")
                return None
            self.stats.record(endpoint, time.monotonic() - started)
            if response.status_code == 503 and time.monotonic() < deadline:
                retry_after = response.headers.get("Retry-After")
                body = (
                    response.json() if response.headers.get("Content-Type", "").startswith("application/json") else {}
                )
                with self.stats.lock:
                    self.stats.unavailable.append({"endpoint": endpoint, "retry_after": retry_after, "body": body})
                if retry_after is None:
                    self.stats.error(f"{endpoint}: 503 without Retry-After")
                    return None
                time.sleep(min(float(retry_after), 1.0))
                continue
            if response.status_code not in expect:
                self.stats.error(f"{endpoint}: {response.status_code} {response.text[:300]}")
                return None
            return response


def label_until(
    api: Api, project_id: str, *, stop_at: float, submitted: list[str], answer: str = "sunny", empty_tries: int = 5
) -> None:
    """A labeler: claim, submit (with an Idempotency-Key), until the queue is empty or time is up. Appends the id
    of every label the server confirmed (201)."""
    empty = 0
    while time.monotonic() < stop_at:
        claim = api.call("POST", f"/api/v1/projects/{project_id}/queue/next", endpoint="queue_next", expect=(200, 204))
        if claim is None:
            return
        if claim.status_code == 204:  # maybe only slots another labeler holds right now: ask again a few times
            empty += 1
            if empty >= empty_tries:
                return
            time.sleep(0.3)
            continue
        empty = 0
        task = claim.json()["task"]
        created = api.call(
            "POST",
            f"/api/v1/tasks/{task}/labels",
            endpoint="label_submit",
            expect=(201,),
            json={"annotations": weather(answer)},
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
        if created is None:
            return
        submitted.append(created.json()["id"])


def review_until(api: Api, project_id: str, *, stop_at: float, reviewed: list[str], idle_s: float = 0.5) -> None:
    """A reviewer: claim a label to review and approve it, until time is up (waits when nothing is to review)."""
    while time.monotonic() < stop_at:
        claim = api.call(
            "POST", f"/api/v1/projects/{project_id}/review/next", endpoint="review_next", expect=(200, 204)
        )
        if claim is None:
            return
        if claim.status_code == 204:
            time.sleep(idle_s)
            continue
        label = claim.json()["label"]["id"]
        done = api.call(
            "POST",
            f"/api/v1/labels/{label}/reviews",
            endpoint="review_decide",
            expect=(201,),
            json={"decision": "approve"},
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
        if done is None:
            return
        reviewed.append(label)


def export_and_wait(
    api: Api, project_id: str, *, timeout: float = 120.0, stop: threading.Event | None = None
) -> dict[str, Any] | None:
    """Start an NDJSON export through the API and poll its job until it finishes; returns the job body (None when
    `stop` is set meanwhile: the load is over, the export is left to finish on its own)."""
    started = api.call(
        "POST",
        f"/api/v1/projects/{project_id}/exports",
        endpoint="export_create",
        expect=(202,),
        json={"format": "ndjson"},
    )
    if started is None:
        return None
    job_id = started.json()["job"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if stop is not None and stop.is_set():
            return None
        job = api.call("GET", f"/api/v1/jobs/{job_id}", endpoint="job_poll")
        if job is None:
            return None
        body = job.json()
        if body["status"] in ("succeeded", "failed"):
            return {**body, "export": started.json()["export"]}
        time.sleep(0.3)
    api.stats.error(f"export job {job_id} did not finish in {timeout:.0f} s")
    return None
