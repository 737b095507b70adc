"""The HTTP side of the queue benchmarks (`benchmark queue`, `benchmark defaults`): a gunicorn server of this
project in a measured setup, and keep-alive HTTP clients that record what each labeler was given and stored."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import requests
from django.core.management.base import CommandError

from apps.core.benchmarks import database_url
from tdp.env import BASE_DIR


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base_url: str
    log_path: str

    def log_tail(self) -> str:
        try:
            with open(self.log_path, errors="replace") as handle:
                return handle.read()[-3000:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if not os.environ.get("TDP_BENCH_KEEP_LOGS"):  # kept for a look after the run
            with contextlib.suppress(OSError):
                os.unlink(self.log_path)


def start_server(
    workers: int,
    *,
    threads: int = 1,
    worker_class: str = "sync",
    command: list[str] | None = None,
    env_overrides: dict[str, str] | None = None,
) -> Server:
    """gunicorn on a free loopback port, on this process's database (`-w workers --threads threads`, or `command`
    with `--bind` added), answering /healthz and warmed up. `env_overrides` replace entries of its environment."""
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tdp.settings.dev",
        "DATABASE_URL": database_url(),
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "THROTTLE_USER": "1000000/minute",
        "THROTTLE_ANON": "1000000/minute",
        "PYTHONUNBUFFERED": "1",
        **(env_overrides or {}),
    }
    log = tempfile.NamedTemporaryFile(prefix="queue-bench-gunicorn-", suffix=".log", delete=False)  # noqa: SIM115
    if command is None:
        command = [sys.executable, "-m", "gunicorn", "tdp.wsgi", "-w", str(workers), "--threads", str(threads)]
        command += ["--worker-class", worker_class, "--keep-alive", "75", "--log-level", "warning"]
    command = [*command, "-b", f"127.0.0.1:{port}"]
    process = subprocess.Popen(command, cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
    log.close()
    server = Server(process=process, base_url=f"http://127.0.0.1:{port}", log_path=log.name)
    deadline = time.monotonic() + 180  # worker boot is slow on a loaded 2-core machine
    try:
        while True:
            if process.poll() is not None:
                raise CommandError(f"The benchmark server exited with {process.returncode}:\n{server.log_tail()}")
            try:
                # Any answer means Django is serving (503 only says no django-q2 worker runs, which is not needed).
                requests.get(f"{server.base_url}/healthz", timeout=10)
                break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise CommandError(f"The benchmark server did not answer /healthz within 180 s:\n{server.log_tail()}")
            time.sleep(0.2)
        # Warm every worker (imports, connection, compiled ontology) before timing anything.
        for _ in range(workers * 3):
            requests.get(f"{server.base_url}/healthz", timeout=60)  # a loaded machine answers late
    except BaseException:
        server.stop()
        raise
    return server


# --- labelers -----------------------------------------------------------------------------------------------------


@dataclass
class LabelerLog:
    claim_ms: list[float] = field(default_factory=list)
    submit_ms: list[float] = field(default_factory=list)
    claims: list[tuple[str, float, datetime]] = field(default_factory=list)  # (task, wall time, lease expiry)
    stored: list[tuple[str, str, float]] = field(default_factory=list)  # (task, label id, wall time) of 201s
    cycles: int = 0  # timed (after warm-up) claim + 201 submit cycles
    rejected: int = 0
    empty: int = 0
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))


class _Response:
    def __init__(self, status_code: int, body: bytes) -> None:
        self.status_code = status_code
        self.body = body

    def json(self) -> Any:
        return json.loads(self.body)


class KeepAliveClient:
    """One labeler's HTTP/1.1 connection (`http.client`, reconnecting after an error): a load generator on the same
    2 cores as the server must cost as little CPU as it can (`requests` spent about 4 ms of it per cycle)."""

    def __init__(self, base_url: str, token: str) -> None:
        parsed = urlsplit(base_url)
        self.host, self.port = parsed.hostname or "127.0.0.1", parsed.port or 80
        self.headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
        self.connection: http.client.HTTPConnection | None = None

    def post(
        self, path: str, body: Any = None, headers: dict[str, str] | None = None, *, raw: bytes | None = None
    ) -> _Response:
        """POST `body` as JSON (or the bytes `raw` as they are, with the caller's Content-Type)."""
        if self.connection is None:
            self.connection = http.client.HTTPConnection(self.host, self.port, timeout=600)
        payload = raw if raw is not None else json.dumps(body).encode() if body is not None else b""
        try:
            self.connection.request("POST", path, body=payload, headers={**self.headers, **(headers or {})})
            response = self.connection.getresponse()
            return _Response(response.status, response.read())
        except (OSError, http.client.HTTPException):
            self.close()
            raise

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None
