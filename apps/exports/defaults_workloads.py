"""The REST workloads of `python manage.py benchmark defaults` (issue #30), run against one server setup.

`benchmark defaults-setup --option setup=run|production` runs in a process whose database is the setup's own (the
`defaults` benchmark starts it so, see `defaults_benchmark.py`): it builds the data with the ORM, starts the setup's
server (gunicorn with `tdp/gunicorn_run.py` and one django-q2 worker, as `make run` and docs/deploy.md run them),
drives it over HTTP with the existing benchmark clients (`apps.labeling.benchmarks`: keep-alive labelers, duplicate
and loss checks) and prints the figures. Each workload:

- `import_one`: N rows (10,000) of NDJSON with 3 metadata fields in one `POST /datasets/{id}/data_rows`;
- `import_chunks`: M rows (50,000) in requests of `chunk` (1,000) rows, one after the other, on one connection;
- `prelabels`: `boxes` (5) pre-label boxes for each of the N imported rows (50,000 boxes) in one
  `POST /projects/{id}/prelabels`;
- `label_writes`: 3 labelers x 4 threads (each thread a keep-alive client) claim + submit on a consensus project (3
  labels per row) for `seconds`, each thread under its own `lease_key` (a labeler's threads hold different tasks);
- `label_writes_shared_lease`: the same with no lease keys: a labeler's threads share one lease, so a thread whose
  lease a sibling thread submitted gets a 409 (counted, not a write);
- `claim_submit`: 8 labelers claim + submit on a plain project for `seconds`; duplicates and lost labels counted;
- `export`: `GET /projects/{id}/export.ndjson` of a project of N labeled rows (5 boxes each), read to the end.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from typing import Any

from django.db import connection
from django.db.models import Count

from apps.accounts import services as account_services
from apps.accounts.models import Organization, User
from apps.core.benchmarks import database_url
from apps.core.proc_stats import children_of, database_cpu_seconds, process_cpu_seconds
from apps.datasets import services as dataset_services
from apps.datasets.models import DataRow
from apps.exports import benchmark_projects as export_benchmarks
from apps.labeling import benchmarks as queue
from apps.labeling import services as labeling_services
from apps.labeling.models import Label, Project
from apps.quality.models import ConsensusScore
from tdp.env import BASE_DIR

ORG_NAME = "Defaults benchmark"
ADMIN = "defaults-bench-admin"
NDJSON = {"Content-Type": "application/x-ndjson"}


def _organization() -> tuple[Organization, User]:
    organization = Organization.objects.filter(name=ORG_NAME).first()
    if organization is not None:
        return organization, User.objects.get(username=ADMIN)
    created = account_services.organization_create(
        name=ORG_NAME, admin={"username": ADMIN, "password": secrets.token_urlsafe(24)}, actor=None
    )
    for name, kind in (("camera", "string"), ("score", "number"), ("captured_at", "datetime")):
        dataset_services.metadata_field_create(actor=created.admin, name=name, kind=kind)
    return created.organization, created.admin


def _users(organization: Organization, prefix: str, count: int) -> list[User]:
    users = []
    for i in range(count):
        username = f"{prefix}-{i}"
        user = User.objects.filter(username=username).first() or account_services.user_create(
            organization=organization, username=username, password=None, role="labeler"
        )
        users.append(user)
    return users


def _token(user: User) -> str:
    return account_services.api_token_create(user=user, name="defaults benchmark").key


def import_body(keys: list[str], run: str) -> bytes:
    lines = [
        json.dumps(
            {
                "global_key": key,
                "row_data": f"https://images.example.com/{run}/{i:07d}.jpg",
                "media_type": "image",
                "metadata": {"camera": f"cam-{i % 16}", "score": (i % 1000) / 1000, "captured_at": "2024-05-01"},
            }
        )
        for i, key in enumerate(keys)
    ]
    return ("\n".join(lines) + "\n").encode()


def prelabel_body(keys: list[str], boxes: int) -> bytes:
    lines = [
        json.dumps(
            {
                "name": "vehicle",
                "bbox": {"top": 10 + 50 * k, "left": 20 + 3 * (i % 100), "height": 40.5, "width": 60.25},
                "classifications": [{"name": "kind", "answer": {"name": "police" if k % 2 else "ambulance"}}],
                "confidence": round(((i * 7 + k * 13) % 100) / 100, 2),
                "data_row": {"global_key": key},
            }
        )
        for i, key in enumerate(keys)
        for k in range(boxes)
    ]
    return ("\n".join(lines) + "\n").encode()


def _post(client: queue.KeepAliveClient, path: str, body: bytes) -> dict[str, Any]:
    response = client.post(path, raw=body, headers=NDJSON)
    if response.status_code != 200:
        raise RuntimeError(f"POST {path} answered {response.status_code}: {response.body[:500]!r}")
    return dict(response.json())


def run_import_one(base_url: str, token: str, admin: User, rows: int) -> dict[str, Any]:
    """`rows` rows in one request into a new dataset; returns the figures, the dataset and its keys."""
    run = uuid.uuid4().hex[:8]
    client = queue.KeepAliveClient(base_url, token)
    dataset = dataset_services.dataset_create(actor=admin, name=f"defaults one request {run}")
    keys = [f"d1-{run}-{i:07d}" for i in range(rows)]
    body = import_body(keys, run)
    started = time.perf_counter()
    answer = _post(client, f"/api/v1/datasets/{dataset.pk}/data_rows", body)
    seconds = time.perf_counter() - started
    client.close()
    if answer["created"] != rows:
        raise RuntimeError(f"The import stored {answer['created']}/{rows} rows: {answer}")
    figures = {"rows": rows, "created": answer["created"], "failed": answer["failed"], "seconds": round(seconds, 3)}
    return {**figures, "rows_per_s": round(rows / seconds), "dataset": str(dataset.pk), "keys": keys}


def run_import_chunks(base_url: str, token: str, admin: User, rows: int, chunk: int) -> dict[str, Any]:
    """`rows` rows in requests of `chunk` rows, one after the other on one connection, into a new dataset."""
    run = uuid.uuid4().hex[:8]
    client = queue.KeepAliveClient(base_url, token)
    dataset = dataset_services.dataset_create(actor=admin, name=f"defaults chunks {run}")
    keys = [f"d2-{run}-{i:07d}" for i in range(rows)]
    bodies = [import_body(keys[i : i + chunk], run) for i in range(0, rows, chunk)]
    created = 0
    started = time.perf_counter()
    for part in bodies:
        created += _post(client, f"/api/v1/datasets/{dataset.pk}/data_rows", part)["created"]
    seconds = time.perf_counter() - started
    client.close()
    if created != rows:
        raise RuntimeError(f"The chunked import stored {created}/{rows} rows.")
    return {
        "rows": rows,
        "chunk": chunk,
        "requests": len(bodies),
        "created": created,
        "seconds": round(seconds, 3),
        "rows_per_s": round(rows / seconds),
    }


def run_prelabels(
    base_url: str, token: str, admin: User, ontology: Any, dataset_id: str, keys: list[str], boxes: int
) -> dict[str, Any]:
    project = labeling_services.project_create(
        actor=admin, name=f"Defaults prelabels {uuid.uuid4().hex[:8]}", ontology=ontology, instructions="Benchmark."
    )
    row_ids = [str(pk) for pk in DataRow.objects.filter(dataset_id=dataset_id).values_list("pk", flat=True)]
    labeling_services.batch_create(actor=admin, project=project, name="all", data_row_ids=row_ids, priority=3)
    body = prelabel_body(keys, boxes)
    client = queue.KeepAliveClient(base_url, token)
    started = time.perf_counter()
    answer = _post(client, f"/api/v1/projects/{project.pk}/prelabels", body)
    seconds = time.perf_counter() - started
    client.close()
    total = len(keys) * boxes
    if answer["created"] != total:
        raise RuntimeError(f"Pre-label import stored {answer['created']}/{total} boxes: {answer}")
    return {
        "boxes": total,
        "created": answer["created"],
        "failed": answer["failed"],
        "seconds": round(seconds, 3),
        "boxes_per_s": round(total / seconds),
    }


def _drive(
    base_url: str,
    project: Project,
    clients: list[tuple[str, str]],
    warmup: float,
    seconds: float,
    *,
    keyed: bool = False,
) -> tuple[dict[str, queue.LabelerLog], float]:
    """`clients` (name, token) each run `labeler_loop` in a thread (`keyed`: each claims under its name as its
    `lease_key`); returns their logs and the timed seconds."""
    logs = {name: queue.LabelerLog() for name, _ in clients}
    measure_from = time.monotonic() + warmup
    deadline = measure_from + seconds
    threads = [
        threading.Thread(
            target=queue.labeler_loop,
            args=(base_url, str(project.pk), token, measure_from, deadline, logs[name], name if keyed else None),
            daemon=True,
        )
        for name, token in clients
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=warmup + seconds + 120)
    return logs, max(0.001, time.monotonic() - measure_from)


def _errors(logs: dict[str, queue.LabelerLog]) -> dict[str, int]:
    errors: dict[str, int] = defaultdict(int)
    for log in logs.values():
        for name, n in log.errors.items():
            errors[name] += n
    return dict(errors)


def run_label_writes(
    base_url: str,
    admin: User,
    organization: Organization,
    rows: int,
    warmup: float,
    seconds: float,
    *,
    shared_lease: bool = False,
) -> dict[str, Any]:
    """Each thread claims under its own `lease_key` (as a script running several workers for one labeler should), so
    a labeler's four threads hold four tasks; with `shared_lease` they name none and share the labeler's one lease
    (each round, one submit wins and three get 409)."""
    project = queue.queued_project(
        organization,
        admin,
        name="Defaults consensus shared lease" if shared_lease else "Defaults consensus",
        size=rows,
        key_prefix="ds" if shared_lease else "dc",
        instructions="Benchmark.",
        settings={"review": {"sample_rate": 0.0}, "quality": {"consensus_coverage": 1.0, "consensus_labelers": 3}},
    )
    labelers = _users(organization, "defaults-consensus", 3)
    clients = []
    for user in labelers:
        labeling_services.project_member_set(actor=admin, project=project, user=user, role="labeler")
        token = _token(user)
        clients += [(f"{user.username}:{thread}", token) for thread in range(4)]
    connection.close()
    logs, elapsed = _drive(base_url, project, clients, warmup, seconds, keyed=not shared_lease)
    writes = sum(log.cycles for log in logs.values())
    submit_ms = [ms for log in logs.values() for ms in log.submit_ms]
    complete = scored = 0
    deadline = time.monotonic() + 30  # the worker scores each row whose three labels are in (coalesced on SQLite)
    while time.monotonic() < deadline:
        rows_labeled = Label.objects.filter(project=project).values("data_row").annotate(n=Count("id"))
        complete = rows_labeled.filter(n__gte=3).count()
        scored = ConsensusScore.objects.filter(project=project).count()
        if scored >= complete:
            break
        time.sleep(0.5)
    labels = Label.objects.filter(project=project)
    per_slot = labels.values("task").annotate(n=Count("id")).filter(n__gt=1).count()
    per_row_labeler = labels.values("data_row", "labeler").annotate(n=Count("id")).filter(n__gt=1).count()
    return {
        "rows": rows,
        "labelers": 3,
        "threads_per_labeler": 4,
        "lease_keys": "shared (none)" if shared_lease else "one per thread",
        "seconds": round(elapsed, 2),
        "writes": writes,
        "writes_total": sum(len(log.stored) for log in logs.values()),  # warm-up included
        "writes_per_s": round(writes / elapsed, 2),
        "submit_ms_p50": queue.percentile(submit_ms, 50),
        "submit_ms_p95": queue.percentile(submit_ms, 95),
        "claim_ms_p95": queue.percentile([ms for log in logs.values() for ms in log.claim_ms], 95),
        "lease_taken_409": sum(log.rejected for log in logs.values()),
        "stored_labels": labels.count(),
        # Rows with their three labels, and those the worker had scored within 30 s after the run.
        "complete_rows": complete,
        "scored_rows": scored,
        "duplicates": per_slot + per_row_labeler,
        "errors": _errors(logs),
    }


def run_claim_submit(
    base_url: str, admin: User, organization: Organization, rows: int, warmup: float, seconds: float
) -> dict[str, Any]:
    project = queue.queued_project(
        organization, admin, name="Defaults queue", size=rows, key_prefix="dq", instructions="Benchmark."
    )
    labelers = _users(organization, "defaults-queue", 8)
    clients = []
    for user in labelers:
        labeling_services.project_member_set(actor=admin, project=project, user=user, role="labeler")
        clients.append((user.username, _token(user)))
    connection.close()
    logs, elapsed = _drive(base_url, project, clients, warmup, seconds)
    cycles = sum(log.cycles for log in logs.values())
    duplicates = queue.count_duplicates(project, logs)
    lost = queue.count_lost(project, logs)
    return {
        "rows": rows,
        "labelers": 8,
        "seconds": round(elapsed, 2),
        "cycles": cycles,
        "cycles_total": sum(len(log.stored) for log in logs.values()),  # warm-up included
        "cycles_per_s": round(cycles / elapsed, 2),
        "claim_ms_p50": queue.percentile([ms for log in logs.values() for ms in log.claim_ms], 50),
        "claim_ms_p95": queue.percentile([ms for log in logs.values() for ms in log.claim_ms], 95),
        "submit_ms_p95": queue.percentile([ms for log in logs.values() for ms in log.submit_ms], 95),
        "duplicates": sum(duplicates.values()),
        "lost": sum(lost.values()),
        "rejected_409": sum(log.rejected for log in logs.values()),
        "errors": _errors(logs),
    }


def export_project(rows: int) -> tuple[Project, str]:
    """The exports benchmark's project of `rows` labeled rows (5 boxes each) and a token of its admin."""
    organization, admin = export_benchmarks._organization()
    project, _seconds, _reused = export_benchmarks._project(organization, admin, rows)
    return project, _token(admin)


def run_export(base_url: str, project: Project, token: str) -> dict[str, Any]:
    client = queue.KeepAliveClient(base_url, token)
    host, port = client.host, client.port
    conn = http.client.HTTPConnection(host, port, timeout=600)
    started = time.perf_counter()
    conn.request("GET", f"/api/v1/projects/{project.pk}/export.ndjson", headers={"Authorization": f"Token {token}"})
    response = conn.getresponse()
    if response.status != 200:
        raise RuntimeError(f"export.ndjson answered {response.status}")
    lines = size = 0
    while chunk := response.read(256 * 1024):
        lines += chunk.count(b"\n")
        size += len(chunk)
    seconds = time.perf_counter() - started
    conn.close()
    rate = round(lines / seconds)
    return {"rows": lines, "mb": round(size / 1e6, 1), "seconds": round(seconds, 3), "rows_per_s": rate}


class Stack:
    """The setup's web server (gunicorn, `tdp/gunicorn_run.py`) and one django-q2 worker on this process's
    database."""

    def __init__(self, env: dict[str, str], workers: int, threads: int) -> None:
        url = os.environ.get("DATABASE_URL") or database_url()
        self.env = {
            "SECRET_KEY": secrets.token_urlsafe(50),  # one key for both: the worker checks the messages' signatures
            **env,
            "DATABASE_URL": url,
            "WEB_WORKERS": str(workers),
            "WEB_THREADS": str(threads),
        }
        command = [sys.executable, "-m", "gunicorn", "-c", str(BASE_DIR / "tdp" / "gunicorn_run.py"), "tdp.wsgi"]
        self.worker_log = tempfile.NamedTemporaryFile(prefix="defaults-qcluster-", suffix=".log", delete=False)  # noqa: SIM115
        self.worker = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=BASE_DIR,
            env={**os.environ, **self.env},
            stdout=self.worker_log,
            stderr=subprocess.STDOUT,
        )
        try:
            self.server = queue.start_server(workers, threads=threads, command=command, env_overrides=self.env)
        except BaseException:
            self._stop_worker()
            raise

    def cpu_seconds(self) -> dict[str, float]:
        """CPU spent so far by the web server (gunicorn and its workers), the django-q2 worker (all its processes),
        the local PostgreSQL server (0 on SQLite, whose work is in the other two) and this client process."""

        def tree(pid: int) -> float:
            return sum(process_cpu_seconds(p) or 0.0 for p in [pid, *children_of(pid)])

        return {
            "server": tree(self.server.process.pid),
            "worker": tree(self.worker.pid),
            "database": (database_cpu_seconds() or 0.0) if connection.vendor == "postgresql" else 0.0,
            "client": time.process_time(),
        }

    def measured(self, run: Any) -> dict[str, Any]:
        """`run()`'s figures plus the CPU seconds each part spent during it: on a shared machine the wall-clock rates
        mostly measure the other processes, the CPU seconds do not."""
        before = self.cpu_seconds()
        figures = dict(run())
        after = self.cpu_seconds()
        figures["cpu_s"] = {part: round(after[part] - before[part], 2) for part in before}
        figures["loadavg_1m"] = round(os.getloadavg()[0], 2)
        return figures

    def stop(self) -> None:
        self.server.stop()
        self._stop_worker()

    def _stop_worker(self) -> None:
        if self.worker.poll() is None:
            self.worker.terminate()
            try:
                self.worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.worker.kill()
                self.worker.wait(timeout=10)
        self.worker_log.close()
        if not os.environ.get("TDP_BENCH_KEEP_LOGS"):
            os.unlink(self.worker_log.name)
