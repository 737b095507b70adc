"""`python manage.py benchmark queue [--size N] [--option seconds=60]`: the labeling queue under HTTP load.

Builds (or reuses, keyed by size) a project of N queued data rows on PostgreSQL with bulk inserts, starts a real
server in the documented production setup (`WEB_SETUP=production gunicorn -c tdp/gunicorn_run.py tdp.wsgi`: its
workers x threads, keep-alive, preloaded app; docs/deploy.md), and runs 8 concurrent HTTP labelers doing claim +
submit cycles for `seconds`. Prints cycles/s, claim and submit latency percentiles, and the two numbers that must
be zero: duplicates (a task handed to two labelers while both leases were live, or more than one label stored for
one task) and lost (a 201 whose label is not stored, or a finished task without its label).

Options: `seconds` (60, timed), `warmup` (seconds before timing starts, default min(5, seconds/10), at least 1;
checked for duplicates and losses but not timed), `labelers` (8), `workers` (gunicorn processes) and `threads` (per
process; default: the production setup's, sync workers when 1), `worker_class` (`sync` or `gthread`: then the
server is started with those flags instead of the configuration file), `probe` (50:
claim + submit cycles timed through the services in-process after the HTTP run, without HTTP or concurrency), `keep`
(1: keep the project for the next run of the same size; it is reset to "all queued" at the start of every run).
"""

from __future__ import annotations

import http.client
import itertools
import math
import secrets
import sys
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.models import Count, Exists, OuterRef

from apps.accounts import services as account_services
from apps.accounts.models import ApiToken, Organization, User
from apps.core.benchmarks import benchmark
from apps.core.proc_stats import children_of, database_cpu_seconds, process_cpu_seconds
from apps.datasets.benchmark_support import bulk_image_rows
from apps.datasets.models import Dataset
from apps.labeling import services
from apps.labeling.benchmark_http import KeepAliveClient, LabelerLog, Server, start_server
from apps.labeling.models import Annotation, Label, Project, Task, TaskState
from apps.ontologies import services as ontology_services
from apps.ontologies.demo import VEHICLES
from apps.ontologies.models import Ontology
from tdp.env import BASE_DIR
from tdp.gunicorn_run import SETUPS

ORG_NAME = "Queue benchmark"
GOAL_CLAIM_MS_P95 = 50  # issue #5, with duplicates and lost labels 0
CHUNK = 5000
LABEL = [
    {
        "name": "vehicle",
        "bbox": {"top": 10, "left": 20, "height": 50, "width": 80},
        "classifications": [
            {
                "name": "kind",
                "answer": {"name": "ambulance", "classifications": [{"name": "lights_on", "answer": {"name": "yes"}}]},
            }
        ],
    },
    {"name": "weather", "answer": {"name": "sunny"}},
]


# --- setup --------------------------------------------------------------------------------------------------------


def _organization() -> tuple[Organization, User]:
    organization = Organization.objects.filter(name=ORG_NAME).first()
    if organization is None:
        created = account_services.organization_create(
            name=ORG_NAME,
            admin={"username": "queue-bench-admin", "password": secrets.token_urlsafe(24)},
            actor=None,
        )
        return created.organization, created.admin
    return organization, User.objects.get(username="queue-bench-admin")


def _labelers(organization: Organization, count: int) -> list[User]:
    users = []
    for i in range(count):
        username = f"queue-bench-labeler-{i}"
        user = User.objects.filter(username=username).first() or account_services.user_create(
            organization=organization, username=username, password=None, role="labeler"
        )
        users.append(user)
    return users


def _ontology(organization: Organization, admin: User) -> Ontology:
    existing = Ontology.objects.filter(organization=organization, name="vehicles").first()
    if existing is not None:
        return existing
    return ontology_services.ontology_create(
        organization=organization,
        name="vehicles",
        tools=VEHICLES["tools"],
        classifications=[{"name": "weather", "type": "radio", "options": [{"value": "sunny"}, {"value": "rain"}]}],
        actor=admin,
    )


def queued_project(
    organization: Organization,
    admin: User,
    *,
    name: str,
    size: int,
    key_prefix: str,
    instructions: str,
    settings: dict[str, Any] | None = None,
) -> Project:
    """A fresh project named `name` with `size` queued rows (any earlier one of that name is dropped): data rows by
    bulk insert in chunks, then one batch through the service. Shared by the benchmarks that need a big project.
    `settings`: the project's settings blocks (default: no review)."""
    with transaction.atomic():
        Project.objects.filter(organization=organization, name=name).delete()
        Dataset.objects.filter(organization=organization, name=name).delete()
    project = services.project_create(
        actor=admin,
        name=name,
        ontology=_ontology(organization, admin),
        instructions=instructions,
        settings=settings if settings is not None else {"review": {"sample_rate": 0.0}},
    )
    dataset = Dataset.objects.create(organization=organization, name=name, created_by=admin)
    row_ids = bulk_image_rows(
        dataset,
        size,
        key=lambda i: f"{key_prefix}{size}-{i:07d}",
        url=lambda i: f"https://example.com/{key_prefix}/{size}/{i}.jpg",
        width=640,
        height=480,
        chunk=CHUNK,
    )
    services.batch_create(actor=admin, project=project, name="all", data_row_ids=row_ids, priority=3)
    if connection.vendor == "postgresql":
        # Current planner statistics, as autovacuum has them a minute after a batch lands: measured right after the
        # insert, PostgreSQL still believes the project has no tasks and plans the claim as a scan of all of them.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE labeling_task; ANALYZE labeling_label")
    return project


def _build_project(organization: Organization, admin: User, size: int) -> Project:
    return queued_project(
        organization, admin, name=f"Queue benchmark {size}", size=size, key_prefix="qb", instructions="Benchmark."
    )


def _reset(project: Project) -> None:
    """Everything back in the queue, no labels: each run starts from the same state."""
    with transaction.atomic():
        Annotation.objects.filter(project=project).delete()
        Label.objects.filter(project=project).delete()
        Task.objects.filter(project=project).exclude(state=TaskState.TO_LABEL).update(
            state=TaskState.TO_LABEL,
            assignee=None,
            claimed_at=None,
            lease_expires_at=None,
            labeled_by=None,
            done_at=None,
            rework_user=None,
            rework_open_at=None,
            skip_reason="",
        )


def prepare(size: int, labeler_count: int) -> tuple[Project, list[User], float, bool]:
    started = time.perf_counter()
    organization, admin = _organization()
    project = Project.objects.filter(organization=organization, name=f"Queue benchmark {size}").first()
    reused = project is not None and Task.objects.filter(project=project).count() == size
    if not reused:
        project = _build_project(organization, admin, size)
    assert project is not None
    _reset(project)
    users = _labelers(organization, labeler_count)
    for user in users:
        services.project_member_set(actor=admin, project=project, user=user, role="labeler")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE labeling_task; ANALYZE labeling_label")
    return project, users, time.perf_counter() - started, reused


# --- server -------------------------------------------------------------------------------------------------------


def labeler_loop(
    base_url: str,
    project_id: str,
    key: str,
    measure_from: float,
    deadline: float,
    log: LabelerLog,
    lease_key: str | None = None,
) -> None:
    """Claim + submit until the deadline. Cycles that start before `measure_from` (the warm-up: each server worker's
    first requests import and compile) are checked for duplicates and losses like the others but not timed. With a
    `lease_key` the claims name this client (one of several of one labeler: each holds its own lease)."""
    client = KeepAliveClient(base_url, key)
    claim_path = f"/api/v1/projects/{project_id}/queue/next"
    claim_body = {"lease_key": lease_key} if lease_key else None
    try:
        while time.monotonic() < deadline:
            try:
                timed = time.monotonic() >= measure_from
                started = time.perf_counter()
                response = client.post(claim_path, claim_body)
                if timed:
                    log.claim_ms.append((time.perf_counter() - started) * 1000)
                if response.status_code == 204:
                    log.empty += 1
                    return
                if response.status_code != 200:
                    log.errors[f"claim_{response.status_code}"] += 1
                    continue
                body = response.json()
                task_id = body["task"]
                log.claims.append((task_id, time.time(), datetime.fromisoformat(body["lease_expires_at"])))
                started = time.perf_counter()
                submitted = client.post(
                    f"/api/v1/tasks/{task_id}/labels",
                    {"annotations": LABEL, "seconds_spent": 1.0},
                    headers={"Idempotency-Key": str(uuid.uuid4())},
                )
                if timed:
                    log.submit_ms.append((time.perf_counter() - started) * 1000)
                if submitted.status_code == 201:
                    log.stored.append((task_id, submitted.json()["id"], time.time()))
                    log.cycles += int(timed)
                elif submitted.status_code == 409:
                    log.rejected += 1
                else:
                    log.errors[f"submit_{submitted.status_code}"] += 1
            except (OSError, http.client.HTTPException) as exc:
                log.errors[type(exc).__name__] += 1
    finally:
        client.close()


# --- CPU accounting ---------------------------------------------------------------------------------------------
# The machine is shared and the wall-clock figures move with whatever else runs; the CPU the server, its database
# backends and the client spent per cycle does not, and `cpu_cores_used` tells how much of the machine the run got.


def _database_cpu() -> float:
    """CPU of the whole PostgreSQL server so far (its backends, also those that exited: the server's workers reconnect
    every `DB_CONN_MAX_AGE` seconds; autovacuum and the other background processes), if it runs on this machine."""
    host = str(connection.settings_dict.get("HOST") or "")
    if host not in ("127.0.0.1", "localhost", "::1", "") and not host.startswith("/"):
        return 0.0
    return database_cpu_seconds() or 0.0


@dataclass
class CpuSnapshot:
    server: dict[int, float]
    database: float
    client: float

    @classmethod
    def take(cls, server: Server) -> CpuSnapshot:
        workers = [server.process.pid, *children_of(server.process.pid)]
        snapshot = cls(
            server={pid: process_cpu_seconds(pid) or 0.0 for pid in workers},
            database=_database_cpu(),
            client=time.process_time(),
        )
        connection.close()
        return snapshot

    def since(self, start: CpuSnapshot) -> dict[str, float]:
        return {
            "server": sum(v - start.server.get(pid, 0.0) for pid, v in self.server.items()),
            "database": self.database - start.database,
            "client": self.client - start.client,
        }


def percentile(values: list[float], pct: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, math.ceil(pct / 100 * len(ordered)) - 1))
    return round(ordered[index], 2)


# --- checks -------------------------------------------------------------------------------------------------------


def count_duplicates(project: Project, logs: dict[str, LabelerLog]) -> dict[str, int]:
    """Tasks handed to two labelers while both leases were live (client view) and tasks with more than one stored
    label or current label (database view)."""
    claims: dict[str, list[tuple[float, str, datetime]]] = defaultdict(list)
    done_at: dict[str, float] = {}
    for who, log in logs.items():
        for task_id, at, expires in log.claims:
            claims[task_id].append((at, who, expires))
        for task_id, _label, at in log.stored:
            done_at.setdefault(task_id, at)
    overlapping = 0
    for task_id, seen in claims.items():
        seen.sort()
        for (_at1, who1, expires1), (at2, who2, _expires2) in itertools.pairwise(seen):
            handed_again_after_done = task_id in done_at and at2 > done_at[task_id]
            if (who1 != who2 and at2 < expires1.timestamp()) or handed_again_after_done:
                overlapping += 1
                break
    labels = Label.objects.filter(project=project)
    multi_label = labels.values("task").annotate(n=Count("id")).filter(n__gt=1).count()
    multi_current = labels.filter(is_current=True).values("task").annotate(n=Count("id")).filter(n__gt=1).count()
    # Consensus is off in this project: one label per data row.
    multi_row = labels.values("data_row").annotate(n=Count("id")).filter(n__gt=1).count()
    return {"overlapping_claims": overlapping, "multi_label_tasks": multi_label + multi_current + multi_row}


def count_lost(project: Project, logs: dict[str, LabelerLog]) -> dict[str, int]:
    accepted = {label_id for log in logs.values() for _task, label_id, _at in log.stored}
    stored = 0
    ids = sorted(accepted)
    for start in range(0, len(ids), CHUNK):
        stored += Label.objects.filter(project=project, pk__in=ids[start : start + CHUNK], is_current=True).count()
    done_without_label = (
        Task.objects.filter(project=project, state=TaskState.DONE)
        .exclude(Exists(Label.objects.filter(task=OuterRef("pk"), is_current=True)))
        .count()
    )
    return {"missing_201_labels": len(accepted) - stored, "done_without_label": done_without_label}


def service_probe(project: Project, user: User, cycles: int) -> dict[str, Any]:
    """The claim and submit services called in this process, one after another (no HTTP, no concurrency): the
    database side of the latency, to set against the HTTP numbers."""
    claim_ms: list[float] = []
    submit_ms: list[float] = []
    for _ in range(cycles):
        started = time.perf_counter()
        task = services.queue_claim(actor=user, project=project)
        claim_ms.append((time.perf_counter() - started) * 1000)
        if task is None:
            break
        started = time.perf_counter()
        services.label_submit(actor=user, task=task, annotations=LABEL, seconds_spent=1.0)
        submit_ms.append((time.perf_counter() - started) * 1000)
    return {
        "service_claim_ms_p50": percentile(claim_ms, 50),
        "service_claim_ms_p95": percentile(claim_ms, 95),
        "service_submit_ms_p50": percentile(submit_ms, 50),
        "service_submit_ms_p95": percentile(submit_ms, 95),
    }


# --- the benchmark ------------------------------------------------------------------------------------------------


@benchmark("queue")
def queue_benchmark(params: dict[str, Any]) -> dict[str, Any]:
    if connection.vendor != "postgresql":
        raise CommandError(
            "The queue benchmark runs on PostgreSQL only (SKIP LOCKED claims, several server processes): set "
            "DATABASE_URL=postgres://... (e.g. `source .ci/pg.sh; pg_start`). SQLite is not supported."
        )
    size = int(params.get("size") or 100_000)
    seconds = float(params.get("seconds") or 60)
    labeler_count = int(params.get("labelers") or 8)
    default_workers, default_threads = SETUPS["production"]
    workers = int(params.get("workers") or default_workers)
    server_threads = int(params.get("threads") or default_threads)
    explicit_class = params.get("worker_class")
    worker_class = str(explicit_class or ("gthread" if server_threads > 1 else "sync"))
    if worker_class not in ("sync", "gthread"):
        raise CommandError("worker_class is sync or gthread.")
    warmup = float(params.get("warmup") or min(5.0, max(1.0, seconds / 10)))
    keep = str(params.get("keep", "1")) not in ("0", "false", "no")

    project, users, setup_seconds, reused = prepare(size, labeler_count)
    keys = {str(u.pk): account_services.api_token_create(user=u, name="queue benchmark").key for u in users}
    connection.close()  # the server's workers and this process's checks use their own connections
    logs = {who: LabelerLog() for who in keys}
    server_started = time.perf_counter()
    if explicit_class:
        server = start_server(workers, threads=server_threads, worker_class=worker_class)
    else:
        server = start_server(
            workers,
            command=[sys.executable, "-m", "gunicorn", "-c", str(BASE_DIR / "tdp" / "gunicorn_run.py"), "tdp.wsgi"],
            env_overrides={
                "WEB_SETUP": "production",
                "WEB_WORKERS": str(workers),
                "WEB_THREADS": str(server_threads),
            },
        )
    server_start_s = time.perf_counter() - server_started
    try:
        measure_from = time.monotonic() + warmup
        deadline = measure_from + seconds
        threads = [
            threading.Thread(
                target=labeler_loop,
                args=(server.base_url, str(project.pk), key, measure_from, deadline, logs[who]),
                daemon=True,
            )
            for who, key in keys.items()
        ]
        for thread in threads:
            thread.start()
        time.sleep(max(0.0, measure_from - time.monotonic()))
        cpu_start = CpuSnapshot.take(server)
        for thread in threads:
            thread.join(timeout=seconds + 120)
        elapsed = time.monotonic() - measure_from
        cpu = CpuSnapshot.take(server).since(cpu_start)
        hung = sum(1 for t in threads if t.is_alive())
    finally:
        server.stop()

    service = service_probe(project, users[0], int(params.get("probe") or 50))
    duplicates = count_duplicates(project, logs)
    lost = count_lost(project, logs)
    ApiToken.objects.filter(user__in=users, name="queue benchmark", revoked_at__isnull=True).delete()
    claim_ms = [ms for log in logs.values() for ms in log.claim_ms]
    submit_ms = [ms for log in logs.values() for ms in log.submit_ms]
    cycles = sum(log.cycles for log in logs.values())
    errors: dict[str, int] = defaultdict(int)
    for log in logs.values():
        for name, n in log.errors.items():
            errors[name] += n
    result = {
        "rows": size,
        "labelers": labeler_count,
        "server_workers": workers,
        "server_threads": server_threads,
        "server_worker_class": worker_class,
        "seconds": seconds,
        "warmup_s": warmup,
        "elapsed_s": round(elapsed, 2),
        "cycles_total": sum(len(log.stored) for log in logs.values()),
        "cycles": cycles,
        "cycles_per_s": round(cycles / elapsed, 2) if elapsed else None,
        "claim_ms_p50": percentile(claim_ms, 50),
        "claim_ms_p95": percentile(claim_ms, 95),
        "claim_ms_p99": percentile(claim_ms, 99),
        "submit_ms_p50": percentile(submit_ms, 50),
        "submit_ms_p95": percentile(submit_ms, 95),
        "submit_ms_p99": percentile(submit_ms, 99),
        # CPU per timed cycle (claim + submit) of the server's workers, their database backends and the client, and
        # how many cores the run got in all (2 on an otherwise idle 2-core machine).
        **{f"cpu_ms_per_cycle_{part}": round(v * 1000 / cycles, 2) if cycles else None for part, v in cpu.items()},
        "cpu_cores_used": round(sum(cpu.values()) / elapsed, 2) if elapsed else None,
        "duplicates": sum(duplicates.values()),
        "lost": sum(lost.values()),
        **duplicates,
        **lost,
        **service,
        "rejected_409": sum(log.rejected for log in logs.values()),
        "queue_empty_204": sum(log.empty for log in logs.values()),
        "errors": sum(errors.values()),
        **{f"errors_{name}": n for name, n in sorted(errors.items())},
        "hung_labelers": hung,
        "setup_s": round(setup_seconds, 2),
        "server_start_s": round(server_start_s, 2),
        "reused_project": reused,
        "goal_claim_ms_p95": GOAL_CLAIM_MS_P95,
    }
    claim_p95 = result["claim_ms_p95"]
    result["goals_met"] = (
        claim_p95 is not None
        and claim_p95 < GOAL_CLAIM_MS_P95
        and result["duplicates"] == 0
        and result["lost"] == 0
        and result["errors"] == 0
    )
    if not keep:
        Project.objects.filter(pk=project.pk).delete()
        Dataset.objects.filter(organization_id=project.organization_id, name=project.name).delete()
    return result


from apps.labeling import editor_benchmark as _editor_benchmark  # noqa: E402,F401 (registers `benchmark editor`)
