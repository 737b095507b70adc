"""The ranked queue under real concurrency on PostgreSQL: 8 labelers, each thread with its own connection, claim
and submit. No task is handed out twice, nobody gets a row twice, every task is labeled once — also while the order
is rewritten beside them —, and the least certain rows go first."""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import Counter

import pytest
from django.db import connection

from apps.labeling import services as labeling_services
from apps.labeling.models import Project, Task
from apps.predictions import services
from tests.labeling.test_concurrency import Log, assert_every_task_labeled_once, run_threads, service_worker
from tests.predictions.conftest import box, ndjson

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="SKIP LOCKED concurrency needs PostgreSQL"),
]

LABELERS = 8
ROWS = 120


@pytest.fixture
def ranked(project, org_admin, make_rows, make_user, org, post_ndjson):
    """120 rows with distinct confidences, the queue ordered by uncertainty, 8 labelers."""
    rows = make_rows(ROWS, prefix="al")
    labeling_services.batch_create(actor=org_admin, project=project, name="all", data_row_ids=[str(r.id) for r in rows])
    model = services.model_create(actor=org_admin, name="detector", ontology=project.ontology)
    run = services.model_run_create(actor=org_admin, model=model, name="v1")
    values = [round(0.01 + i * 0.008, 4) for i in range(ROWS)]  # distinct: no ties in the order
    random.Random(16).shuffle(values)
    confidence = {row.global_key: value for row, value in zip(rows, values, strict=True)}
    lines = [
        box(key, confidence=c, uuid=f"00000000-0000-4000-8000-{i:012d}")
        for i, (key, c) in enumerate(confidence.items())
    ]
    assert post_ndjson(org_admin, f"/api/v1/model_runs/{run.id}/predictions", ndjson(lines)).status_code == 200
    labeling_services.project_update(
        actor=org_admin,
        project=project,
        data={"settings": {"queue": {"order": "uncertainty", "model_run": str(run.id)}}},
    )
    services.queue_order_compute(project=project)  # (the worker's job; tests never commit the listener's)
    rank_of_row = dict(Task.objects.filter(project=project).values_list("data_row_id", "queue_rank"))
    least_sure = sorted(rows, key=lambda r: confidence[r.global_key])
    assert [rank_of_row[r.id] for r in least_sure] == sorted(rank_of_row.values())
    people = []
    for i in range(LABELERS):
        user = make_user(role="labeler", organization=org, username=f"al-w{i}")
        labeling_services.project_member_set(actor=org_admin, project=project, user=user, role="labeler")
        people.append(user)
    return {"people": people, "run": run, "least_sure": least_sure}


def assert_atomic(project: Project, log: Log) -> None:
    claims_per_task = Counter(task for task, _, _ in log.claims)
    assert len(claims_per_task) == ROWS and max(claims_per_task.values()) == 1
    assert log.rejected == []
    assert_every_task_labeled_once(project, log)
    row_of = {str(k): v for k, v in Task.objects.filter(project=project).values_list("id", "data_row_id")}
    rows_per_worker = Counter((row_of[task], worker) for task, worker, _ in log.claims)
    assert max(rows_per_worker.values()) == 1


def test_eight_labelers_claim_the_least_certain_rows_first_each_task_once(project, ranked):
    log = Log()
    run_threads([service_worker(user, project, log) for user in ranked["people"]], log)
    assert_atomic(project, log)
    # The least certain rows went first: the first claims (by time) are among the top ranks, the last among the
    # bottom ones (a claim may pass over a row another labeler holds at that instant, no further).
    position = {row.id: i for i, row in enumerate(ranked["least_sure"])}
    row_of = dict(Task.objects.filter(project=project).values_list("id", "data_row_id"))
    by_time = [position[row_of[uuid.UUID(task)]] for task, _, _ in sorted(log.claims, key=lambda c: c[2])]
    assert max(by_time[:LABELERS]) < 2 * LABELERS, by_time[:LABELERS]
    assert min(by_time[-LABELERS:]) >= ROWS - 2 * LABELERS, by_time[-LABELERS:]


def test_claims_stay_atomic_while_the_order_is_rewritten(project, ranked, org_admin):
    log = Log()
    stop = threading.Event()

    def rerank() -> None:
        """Flip the order between least confidence and entropy (different ranks: real writes) again and again."""
        measures = ["entropy", "least_confidence"]
        try:
            while not stop.is_set():
                fresh = Project.objects.get(pk=project.pk)
                fresh.settings["queue"]["uncertainty"] = measures[0]
                Project.objects.filter(pk=project.pk).update(settings=fresh.settings)
                services.queue_order_compute(project=fresh)
                measures.reverse()
                time.sleep(0.005)
        except Exception as exc:  # reported by the test
            log.add("errors", f"reranker {type(exc).__name__}: {exc}")
        finally:
            connection.close()

    def worker(user):
        """Like `service_worker`, but a claim answering nothing while tasks are still queued is retried: a claim
        passes over the tasks the reranker is writing at that instant (SKIP LOCKED), which may be all that is left."""
        work = service_worker(user, project, log)

        def run() -> None:
            while True:
                work()
                if not Task.objects.filter(project=project, state="to_label").exists():
                    return
                time.sleep(0.002)

        return run

    background = threading.Thread(target=rerank, daemon=True)
    background.start()
    try:
        run_threads([worker(user) for user in ranked["people"]], log)
    finally:
        stop.set()
        background.join(timeout=60)
    assert not background.is_alive()
    assert not log.errors, log.errors
    assert_atomic(project, log)
