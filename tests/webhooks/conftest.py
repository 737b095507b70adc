"""Webhook fixtures: a local receiver (allowed through TDP_OUTBOUND_ALLOWED_HOSTS) that records every request and
can answer 500 to the first tries of chosen event types, plus the review fixtures for a full labeling cycle."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from apps.webhooks import services
from apps.webhooks.domain import signing
from tests.quality.conftest import consensus_project, labelers, manager  # noqa: F401
from tests.review.conftest import make_rows, members, ontology, project, project_factory, queue  # noqa: F401


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    status: int

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.body)

    @property
    def event_id(self) -> str:
        return self.headers["X-TDP-Delivery"]

    def signed_with(self, secret: str) -> bool:
        return signing.verify(secret, self.headers["X-TDP-Timestamp"], self.body, self.headers["X-TDP-Signature"])


@dataclass
class Receiver:
    server: ThreadingHTTPServer
    requests: list[Received] = field(default_factory=list)
    # event type -> how many first tries of each event of that type get a 500
    fail_first: dict[str, int] = field(default_factory=dict)
    always_fail: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def answer_for(self, headers: dict[str, str]) -> int:
        with self.lock:
            if self.always_fail:
                return 500
            tries = sum(1 for r in self.requests if r.event_id == headers.get("X-TDP-Delivery"))
            return 500 if tries < self.fail_first.get(headers.get("X-TDP-Event", ""), 0) else 200

    def succeeded(self) -> list[Received]:
        return [r for r in self.requests if r.status == 200]


def _handler(receiver_ref: list[Receiver]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            receiver = receiver_ref[0]
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = dict(self.headers.items())
            status = receiver.answer_for(headers)
            with receiver.lock:
                receiver.requests.append(Received(headers=headers, body=body, status=status))
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"ok" if status == 200 else b"boom " * 1000)

    return Handler


@pytest.fixture
def receiver(settings) -> Iterator[Receiver]:
    ref: list[Receiver] = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(ref))
    receiver = Receiver(server=httpd)
    ref.append(receiver)
    settings.TDP_OUTBOUND_ALLOWED_HOSTS = [f"127.0.0.1:{receiver.port}"]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield receiver
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def make_webhook(org, org_admin, receiver):
    def make(
        events: list[str],
        project=None,  # noqa: F811
        url: str | None = None,
        organization=None,
        actor=None,
    ):
        return services.webhook_create(
            actor=actor or org_admin,
            organization=organization or org,
            url=url or receiver.url(),
            events=events,
            project_id=project.pk if project is not None else None,
        )

    return make
