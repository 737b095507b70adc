"""The queue under real concurrency on PostgreSQL: 16 workers, each with its own database connection.

The tests commit (transaction=True) so the worker threads see the project; each thread closes its connection at the
end. Claims are logged with timestamps so a task handed to two workers shows up as two log entries.
"""

from __future__ import annotations

import io
import json
import random
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts import services as account_services
from apps.core.errors import Conflict
from apps.labeling import services
from apps.labeling.models import Label, Project, Task, TaskState
from tests.labeling.conftest import good_label

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="SKIP LOCKED concurrency needs PostgreSQL"),
]

WORKERS = 16
JOIN_TIMEOUT = 120.0


@dataclass
class Log:
    """What the workers saw, appended under a lock."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    claims: list[tuple[str, str, float]] = field(default_factory=list)  # (task, worker, monotonic time)
    stored: list[tuple[str, str, str]] = field(default_factory=list)  # (task, worker, label id) of accepted submits
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (task, worker) of 409 lease_lost submits
    errors: list[str] = field(default_factory=list)

    def add(self, name: str, item: Any) -> None:
        with self.lock:
            getattr(self, name).append(item)


def run_threads(targets: list[Callable[[], None]], log: Log) -> None:
    """Start every target at once (barrier), join with a bounded timeout: a hang is a deadlock and fails."""
    barrier = threading.Barrier(len(targets))

    def wrap(target: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                barrier.wait(timeout=30)
                target()
            except Exception as exc:  # every failure is reported by the test
                log.add("errors", f"{type(exc).__name__}: {exc}")
            finally:
                connection.close()

        return run

    threads = [threading.Thread(target=wrap(t), daemon=True) for t in targets]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + JOIN_TIMEOUT
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    stuck = [t.name for t in threads if t.is_alive()]
    assert not stuck, f"workers still running after {JOIN_TIMEOUT}s (deadlock?): {stuck}"
    assert not log.errors, log.errors


@pytest.fixture
def labelers(org, org_admin, make_user) -> Callable[[Project, int], list]:
    def make(project: Project, n: int) -> list:
        people = []
        for i in range(n):
            user = make_user(role="labeler", organization=org, username=f"{project.name.lower()}-w{i}")
            services.project_member_set(actor=org_admin, project=project, user=user, role="labeler")
            people.append(user)
        return people

    return make


def queue_rows(project: Project, org_admin, make_rows, n: int, prefix: str) -> None:
    rows = make_rows(n, prefix=prefix)
    half = n // 2
    services.batch_create(
        actor=org_admin, project=project, name="low", data_row_ids=[str(r.id) for r in rows[:half]], priority=2
    )
    services.batch_create(
        actor=org_admin, project=project, name="high", data_row_ids=[str(r.id) for r in rows[half:]], priority=4
    )


def service_worker(user, project: Project, log: Log, pause: float = 0.0) -> Callable[[], None]:
    """Claim and submit through the services until the queue has nothing for this labeler."""

    def work() -> None:
        while True:
            task = services.queue_claim(actor=user, project=project)
            if task is None:
                return
            log.add("claims", (str(task.pk), str(user.pk), time.monotonic()))
            if pause:
                time.sleep(random.uniform(0, pause))
            try:
                label = services.label_submit(actor=user, task=task, annotations=good_label(), seconds_spent=1.0)
            except Conflict as exc:
                assert exc.code == "lease_lost", exc.code
                log.add("rejected", (str(task.pk), str(user.pk)))
                continue
            log.add("stored", (str(task.pk), str(user.pk), str(label.pk)))

    return work


def assert_every_task_labeled_once(project: Project, log: Log) -> None:
    tasks = Task.objects.filter(project=project)
    total = tasks.count()
    assert total > 0
    assert tasks.exclude(state=TaskState.DONE).count() == 0, Counter(tasks.values_list("state", flat=True))
    assert tasks.filter(assignee__isnull=False).count() == 0
    labels = Label.objects.filter(project=project)
    # One current label per task, and no other label rows at all (no revision was made by a second submit).
    assert labels.filter(is_current=True).count() == total
    assert labels.count() == total
    per_task = labels.values("task").annotate(n=Count("id")).filter(n__gt=1)
    assert not per_task.exists(), list(per_task)
    # Every accepted submission is stored, for the task and the labeler it was accepted from.
    assert len(log.stored) == total
    stored = {str(pk): (str(task), str(who)) for pk, task, who in labels.values_list("id", "task_id", "labeler_id")}
    for task_id, worker, label_id in log.stored:
        assert stored.get(label_id) == (task_id, worker), f"lost submission {label_id}"
    assert Task.objects.filter(project=project, labeled_by__isnull=True).count() == 0


def test_sixteen_workers_drain_the_queue_each_task_labeled_once(project, org_admin, make_rows, labelers):
    queue_rows(project, org_admin, make_rows, 240, "conc")
    people = labelers(project, WORKERS)
    log = Log()
    run_threads([service_worker(user, project, log) for user in people], log)

    # No task was ever handed out twice (no lease expired in this run, so any second claim is a double assignment).
    claims_per_task = Counter(task for task, _, _ in log.claims)
    assert len(claims_per_task) == 240
    assert max(claims_per_task.values()) == 1
    assert log.rejected == []
    assert_every_task_labeled_once(project, log)
    # The work was really shared: more than a few workers took part.
    assert len({worker for _, worker, _ in log.claims}) >= 4
    # Priority order held per worker: each one's claims from the high batch all come before its low-batch claims,
    # except for the tail end where the high batch ran out while workers were mid-claim.
    priority = dict(Task.objects.filter(project=project).values_list("id", "priority"))
    first_low = min(t for task, _, t in log.claims if priority[uuid.UUID(task)] == 2)
    late_high = [t for task, _, t in log.claims if priority[uuid.UUID(task)] == 4 and t > first_low]
    assert len(late_high) <= WORKERS


def test_sixteen_workers_through_the_http_api_with_idempotent_retries(project, org_admin, make_rows, labelers):
    queue_rows(project, org_admin, make_rows, 160, "http")
    people = labelers(project, WORKERS)
    log = Log()
    statuses: Counter[int] = Counter()

    def http_worker(user) -> Callable[[], None]:
        key = account_services.api_token_create(user=user).key

        def work() -> None:
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
            submits = 0
            while True:
                response = client.post(f"/api/v1/projects/{project.id}/queue/next")
                with log.lock:
                    statuses[response.status_code] += 1
                if response.status_code == 204:
                    return
                assert response.status_code == 200, response.content
                task_id = response.json()["task"]
                log.add("claims", (task_id, str(user.pk), time.monotonic()))
                idem = str(uuid.uuid4())
                body = {"annotations": good_label(), "seconds_spent": 1.0}
                submitted = client.post(
                    f"/api/v1/tasks/{task_id}/labels", body, format="json", HTTP_IDEMPOTENCY_KEY=idem
                )
                assert submitted.status_code == 201, submitted.content
                log.add("stored", (task_id, str(user.pk), submitted.json()["id"]))
                submits += 1
                if submits % 5 == 1:
                    # A client retry of the same submit (lost response): the first answer comes back, nothing new.
                    again = client.post(
                        f"/api/v1/tasks/{task_id}/labels", body, format="json", HTTP_IDEMPOTENCY_KEY=idem
                    )
                    assert again.status_code == 201, again.content
                    assert again.json()["id"] == submitted.json()["id"]
                    assert again["Idempotent-Replayed"] == "true"

        return work

    workers = [http_worker(user) for user in people]
    run_threads(workers, log)

    assert statuses[500] == 0 and set(statuses) <= {200, 204}, statuses
    claims_per_task = Counter(task for task, _, _ in log.claims)
    assert len(claims_per_task) == 160 and max(claims_per_task.values()) == 1
    assert_every_task_labeled_once(project, log)


def test_consensus_slots_go_to_three_distinct_labelers_under_sixteen_workers(
    project_factory, org_admin, make_rows, labelers
):
    project = project_factory(
        name="Consensus", review={"sample_rate": 0.0}, quality={"consensus_coverage": 1.0, "consensus_labelers": 3}
    )
    queue_rows(project, org_admin, make_rows, 80, "cons")
    assert Task.objects.filter(project=project).count() == 240
    people = labelers(project, WORKERS)
    log = Log()
    run_threads([service_worker(user, project, log) for user in people], log)

    assert max(Counter(task for task, _, _ in log.claims).values()) == 1
    assert_every_task_labeled_once(project, log)
    by_row: dict[str, list[str]] = defaultdict(list)
    for row_id, labeler_id in Label.objects.filter(project=project).values_list("data_row_id", "labeler_id"):
        by_row[str(row_id)].append(str(labeler_id))
    assert len(by_row) == 80
    for row_id, who in by_row.items():
        assert len(who) == 3 and len(set(who)) == 3, (row_id, who)


def test_one_labeler_claiming_from_many_connections_at_once_holds_one_lease(
    project_factory, org_admin, make_rows, labelers
):
    """A labeler with several tabs (or a retrying client) sends claims in parallel: they all get the same lease,
    never a second task, and never two slots of one consensus row."""
    project = project_factory(
        name="Tabs", review={"sample_rate": 0.0}, quality={"consensus_coverage": 1.0, "consensus_labelers": 3}
    )
    queue_rows(project, org_admin, make_rows, 40, "tabs")
    (user,) = labelers(project, 1)
    log = Log()
    for _round in range(5):
        got: list[str] = []

        def claim(got: list[str] = got) -> None:
            task = services.queue_claim(actor=user, project=project)
            assert task is not None
            with log.lock:
                got.append(str(task.pk))

        run_threads([claim for _ in range(8)], log)
        assert len(set(got)) == 1, Counter(got)
        live = Task.objects.filter(project=project, assignee=user, state=TaskState.IN_PROGRESS)
        assert live.count() == 1
        services.label_submit(actor=user, task=live.get(), annotations=good_label())
    labeled_rows = Counter(Label.objects.filter(project=project, labeler=user).values_list("data_row_id", flat=True))
    assert max(labeled_rows.values()) == 1


def test_leases_expiring_mid_run_late_submits_get_409_and_each_task_is_labeled_once(
    project, org_admin, make_rows, labelers
):
    queue_rows(project, org_admin, make_rows, 200, "exp")
    people = labelers(project, WORKERS)
    log = Log()
    done = threading.Event()
    expired: Counter[str] = Counter()

    def expirer() -> None:
        """Every few milliseconds, expire a few live leases (as if those labelers went to lunch)."""
        try:
            while not done.is_set():
                live = list(
                    Task.objects.filter(
                        project=project, state=TaskState.IN_PROGRESS, lease_expires_at__gt=timezone.now()
                    )
                    .order_by("?")
                    .values_list("id", flat=True)[:3]
                )
                if live:
                    Task.objects.filter(pk__in=live, state=TaskState.IN_PROGRESS).update(
                        lease_expires_at=timezone.now() - timedelta(seconds=1)
                    )
                    with log.lock:
                        expired.update(str(pk) for pk in live)
                time.sleep(0.005)
        finally:
            connection.close()

    expire_thread = threading.Thread(target=expirer, daemon=True)
    expire_thread.start()
    try:
        run_threads([service_worker(user, project, log, pause=0.2) for user in people], log)
    finally:
        done.set()
        expire_thread.join(timeout=30)

    # Expiry happened and some late submits lost their task to another labeler: clear 409s, nothing stored for them.
    assert expired, "the expirer never caught a live lease"
    assert log.rejected, "no late submit was rejected; the run did not exercise lease takeover"
    claims_per_task = Counter(task for task, _, _ in log.claims)
    for task_id, n in claims_per_task.items():
        # A task is handed out again only after its lease was expired.
        assert n <= 1 + expired[task_id], (task_id, n, expired[task_id])
    assert_every_task_labeled_once(project, log)
    rejected_by = {(task, worker) for task, worker in log.rejected}
    owners = {(str(t), str(w)) for t, w in Label.objects.filter(project=project).values_list("task_id", "labeler_id")}
    for task_id, worker in rejected_by - owners:
        # The rejected labeler left no trace on that task; another labeler's label is the one stored.
        assert Label.objects.filter(task_id=task_id).exclude(labeler_id=worker).count() == 1


def test_a_submit_does_not_lock_the_project_row(project, org_admin, make_rows, labelers):
    """Submits of different tasks must not queue behind each other on the project (or data row): another
    transaction holding FOR KEY SHARE on the project row (what every concurrent label insert takes) must not block a
    submit. `select_for_update()` with `select_related` would lock the joined project row FOR UPDATE."""
    queue_rows(project, org_admin, make_rows, 4, "lock")
    (user,) = labelers(project, 1)
    task = services.queue_claim(actor=user, project=project)
    assert task is not None
    holding = threading.Event()
    release = threading.Event()
    log = Log()

    def hold_key_share() -> None:
        from django.db import transaction

        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM labeling_project WHERE id = %s FOR KEY SHARE", [project.pk])
            cursor.execute("SELECT 1 FROM datasets_datarow WHERE id = %s FOR KEY SHARE", [task.data_row_id])
            holding.set()
            release.wait(timeout=30)

    def submit() -> None:
        from django.db import transaction

        assert holding.wait(timeout=30)
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL lock_timeout = '3s'")
                label = services.label_submit(actor=user, task=task, annotations=good_label(), seconds_spent=1.0)
            log.add("stored", (str(task.pk), str(user.pk), str(label.pk)))
        finally:
            release.set()

    run_threads([hold_key_share, submit], log)
    assert len(log.stored) == 1


def test_benchmark_queue_runs_end_to_end_at_a_tiny_size():
    """`manage.py benchmark queue` at 200 rows for 3 s: a real gunicorn server on the test database, 8 HTTP
    labelers; no duplicates, no lost labels, no errors. Wall time is reported, never asserted. Two server workers
    instead of four: booting each one is most of this test's time on a small machine."""
    out = io.StringIO()
    options = ["--option", "seconds=3", "--option", "probe=5", "--option", "workers=2"]
    call_command("benchmark", "queue", "--size", "200", *options, stdout=out)
    result = json.loads(out.getvalue().strip().splitlines()[-1])
    assert result["benchmark"] == "queue" and result["rows"] == 200 and result["labelers"] == 8
    assert result["duplicates"] == 0, result
    assert result["lost"] == 0, result
    assert result["errors"] == 0 and result["hung_labelers"] == 0, result
    assert result["cycles_total"] > 0 and result["claim_ms_p95"] is not None, result
    assert result["goals_met"] is (result["claim_ms_p95"] < result["goal_claim_ms_p95"] == 50), result
    stored = Label.objects.filter(project__name="Queue benchmark 200").count()
    # Every 201 plus the in-process probe's 5 cycles (fewer when the labelers emptied the queue), nothing else.
    probe = min(5, result["rows"] - result["cycles_total"])
    assert stored == result["cycles_total"] + probe


def test_benchmark_queue_refuses_sqlite(monkeypatch):
    from django.db import connections

    monkeypatch.setattr(connections["default"], "vendor", "sqlite")
    with pytest.raises(CommandError, match="PostgreSQL"):
        call_command("benchmark", "queue", "--size", "10")


def test_benchmark_queue_refuses_an_unknown_worker_class():
    with pytest.raises(CommandError, match="worker_class"):
        call_command("benchmark", "queue", "--size", "10", "--option", "worker_class=eventlet")
