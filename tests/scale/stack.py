"""A small production-shaped deployment on loopback for the scale tests: a private PostgreSQL cluster (the tests
restart it), a Redis server (the django-q2 broker; the tests stop and start it), a moto S3 server (shared storage:
no web process keeps files), gunicorn web processes and `qcluster` worker processes, each started and killed here.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate: Callable[[], Any], *, timeout: float, interval: float = 0.2, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not reached within {timeout:.0f} s")
        time.sleep(interval)


def _as_postgres(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.getuid() == 0 else cmd


class PgCluster:
    """A private PostgreSQL cluster in a temporary folder (like .ci/pg.sh), cloned from the migrated test DB."""

    def __init__(self) -> None:
        self.bin = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))[-1]
        self.dir = Path(tempfile.mkdtemp(prefix="tdp-scale-pg-"))
        if os.getuid() == 0:
            shutil.chown(self.dir, "postgres")
        self.port = free_port()
        self.data = self.dir / "data"

    @property
    def url(self) -> str:
        return f"postgres://tdp@127.0.0.1:{self.port}/tdp"

    def _ctl(self, *args: str) -> None:
        subprocess.run(
            _as_postgres([f"{self.bin}/pg_ctl", "-D", str(self.data), "-l", str(self.dir / "server.log"), *args]),
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def init_and_start(self) -> None:
        subprocess.run(
            _as_postgres(
                [
                    f"{self.bin}/initdb",
                    "-D",
                    str(self.data),
                    "-U",
                    "tdp",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                ]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        self.start()
        subprocess.run(
            [f"{self.bin}/createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "tdp", "tdp"], check=True
        )

    def start(self) -> None:
        options = (
            f"-h 127.0.0.1 -p {self.port} -k {self.dir} -c fsync=off -c synchronous_commit=off "
            "-c full_page_writes=off -c max_connections=300"
        )
        self._ctl("-w", "-t", "60", "start", "-o", options)

    def stop(self, mode: str = "fast") -> None:
        self._ctl("-w", "-m", mode, "stop")

    def clone_from(self, settings_dict: dict[str, Any]) -> None:
        """Copy a migrated database (schema and rows) into this cluster's `tdp` database."""
        env = {**os.environ}
        if settings_dict.get("PASSWORD"):
            env["PGPASSWORD"] = settings_dict["PASSWORD"]
        dump = subprocess.Popen(
            [
                f"{self.bin}/pg_dump",
                "-h",
                settings_dict["HOST"],
                "-p",
                str(settings_dict["PORT"]),
                "-U",
                settings_dict["USER"],
                "--no-owner",
                "--no-privileges",
                settings_dict["NAME"],
            ],
            stdout=subprocess.PIPE,
            env=env,
        )
        subprocess.run(
            [
                f"{self.bin}/psql",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "tdp",
                "-d",
                "tdp",
            ],
            stdin=dump.stdout,
            stdout=subprocess.DEVNULL,
            check=True,
        )
        assert dump.wait() == 0, "pg_dump failed"

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


class RedisServer:
    """`redis-server` (Debian) on a free loopback port, without persistence; stop/start keep the port."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.folder = folder
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        log = open(self.folder / "redis.log", "ab")  # noqa: SIM115 (kept open by the process)
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.folder),
                "--protected-mode",
                "no",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        import redis

        client = redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=1)

        def up() -> bool:
            try:
                return bool(client.ping())
            except redis.ConnectionError:
                return False

        wait_until(up, timeout=20, interval=0.05, what="redis-server start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)
        self.process = None


class MotoS3:
    """A moto S3 server: the storage every web and worker process shares."""

    def __init__(self) -> None:
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, bucket: str) -> None:
        self.process = subprocess.Popen(
            [str(VENV_BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

        def up() -> bool:
            try:
                requests.get(f"{self.endpoint}/moto-api/", timeout=1)
                return True
            except requests.ConnectionError:
                return False

        wait_until(up, timeout=30, interval=0.1, what="moto_server start")
        import boto3

        boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name="us-east-1",
        ).create_bucket(Bucket=bucket)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=20)


@dataclass
class Proc:
    """A child process in its own session (so a kill reaches its children too), logging to a file."""

    name: str
    args: list[str]
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> Proc:
        handle = open(self.log, "ab")  # noqa: SIM115 (kept open by the process)
        self.process = subprocess.Popen(
            self.args, cwd=ROOT, env=self.env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
        )
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL the whole process group: the worker and its children die mid-task."""
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=20)

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM (graceful: gunicorn finishes requests, qcluster finishes tasks), then SIGKILL if it hangs."""
        if not self.alive():
            return
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@dataclass
class Stack:
    folder: Path
    pg: PgCluster
    redis: RedisServer
    s3: MotoS3
    secret_key: str
    trace_file: Path
    procs: list[Proc] = field(default_factory=list)
    bucket: str = "tdp-scale"

    def env(self, **extra: str) -> dict[str, str]:
        return {
            **{k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")},
            "DJANGO_SETTINGS_MODULE": "tests.scale.settings",
            "DATABASE_URL": self.pg.url,
            "REDIS_URL": self.redis.url,
            "TDP_Q_SYNC": "false",
            "SECRET_KEY": self.secret_key,
            "STORAGE_BUCKET": self.bucket,
            "STORAGE_ENDPOINT_URL": self.s3.endpoint,
            "STORAGE_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "TDP_TASK_TRACE": str(self.trace_file),
            "TDP_SCORE_CATCHUP_GRACE_SECONDS": "1",
            "TDP_JOB_REQUEUE_GRACE_SECONDS": "1",
            "TDP_JOB_REQUEUE_QUEUED_SECONDS": "5",
            "TDP_DB_UNAVAILABLE_RETRY_AFTER": "1",
            "TDP_EXPORT_CHUNK_ROWS": "25",
            "DB_CONN_MAX_AGE": "60",
            "LOG_LEVEL": "INFO",
            **extra,
        }

    def web(self, tag: str, *, workers: int = 2, threads: int = 4, wait: bool = True) -> tuple[Proc, str]:
        """A gunicorn web process (as in production: gthread workers, graceful timeout) on a free port."""
        port = free_port()
        proc = Proc(
            name=f"web-{tag}",
            args=[
                str(VENV_BIN / "gunicorn"),
                "tdp.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(workers),
                "--worker-class",
                "gthread",
                "--threads",
                str(threads),
                "--timeout",
                "120",
                "--graceful-timeout",
                "20",
                "--keep-alive",
                "75",
                "--access-logfile",
                "-",
            ],
            env=self.env(TDP_WORKER_TAG=f"web-{tag}"),
            log=self.folder / f"web-{tag}.log",
        ).start()
        self.procs.append(proc)
        base = f"http://127.0.0.1:{port}"
        if wait:
            self.wait_web(proc, base)
        return proc, base

    def wait_web(self, proc: Proc, base: str) -> None:
        def ready() -> bool:
            if not proc.alive():
                raise AssertionError(f"{proc.name} exited:\n{proc.output()[-3000:]}")
            try:
                return requests.get(f"{base}/healthz/live", timeout=2).status_code == 200
            except requests.RequestException:
                return False

        wait_until(ready, timeout=120, interval=0.2, what=f"{proc.name} start")

    def up(self, webs: int, workers: list[str], *, q_workers: int = 1) -> tuple[list[str], list[Proc]]:
        """Start web processes and worker clusters together; return the web base URLs once all answer."""
        started = [self.web(chr(ord("a") + i), wait=False) for i in range(webs)]
        clusters = [self.worker(tag, workers=q_workers) for tag in workers]
        for proc, base in started:
            self.wait_web(proc, base)
        self.wait_workers_running(*clusters)
        return [base for _, base in started], clusters

    def worker(self, tag: str, *, workers: int = 1) -> Proc:
        proc = Proc(
            name=f"worker-{tag}",
            args=[sys.executable, "manage.py", "qcluster"],
            env=self.env(TDP_WORKER_TAG=tag, Q_WORKERS=str(workers)),
            log=self.folder / f"worker-{tag}.log",
        ).start()
        self.procs.append(proc)
        return proc

    def stop_all(self) -> None:
        """End of a test: no need to be graceful."""
        for proc in self.procs:
            proc.kill()
        self.procs.clear()

    def wait_workers_running(self, *procs: Proc, timeout: float = 90) -> None:
        """Until each cluster logged that it runs (so a test's work is not all taken by the first one up)."""
        for proc in procs:

            def running(proc: Proc = proc) -> bool:
                if not proc.alive():
                    raise AssertionError(f"{proc.name} exited:\n{proc.output()[-3000:]}")
                return "running." in proc.output()

            wait_until(running, timeout=timeout, interval=0.2, what=f"{proc.name} start")

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.output()[-4000:]}" for p in self.procs)
