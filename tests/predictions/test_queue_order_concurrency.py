"""The ranked queue under real concurrency on PostgreSQL: 8 labelers, each thread with its own connection, claim
and submit while the order is recomputed beside them. No task is handed out twice, nobody gets a row twice, every
task is labeled once, and the least certain rows go first."""

from __future__ import annotations

import random
import threading
import time
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


def test_eight_labelers_claim_the_ranked_queue_atomically_while_it_is_reranked(
    project, org_admin, make_rows, make_user, org, post_ndjson
):
    rows = make_rows(ROWS, prefix="al")
    labeling_services.batch_create(actor=org_admin, project=project, name="all", data_row_ids=[str(r.id) for r in rows])
    model = services.model_create(actor=org_admin, name="detector", ontology=project.ontology)
    run = services.model_run_create(actor=org_admin, model=model, name="v1")
    rng = random.Random(16)
    values = [round(0.01 + i * 0.008, 4) for i in range(ROWS)]  # distinct: no ties in the order
    rng.shuffle(values)
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
    services.queue_order_compute(project=project)  # (the worker's job; the listener's is not run by this test)
    rank_of_row = dict(Task.objects.filter(project=project).values_list("data_row_id", "queue_rank"))
    least_sure = sorted(rows, key=lambda r: confidence[r.global_key])
    assert [rank_of_row[r.id] for r in least_sure] == [float(i) for i in range(ROWS)]

    people = []
    for i in range(LABELERS):
        user = make_user(role="labeler", organization=org, username=f"al-w{i}")
        labeling_services.project_member_set(actor=org_admin, project=project, user=user, role="labeler")
        people.append(user)
    log = Log()
    stop = threading.Event()

    def rerank() -> None:
        """Recompute the order again and again while the labelers work (SKIP LOCKED: never blocks them)."""
        fresh = Project.objects.get(pk=project.pk)
        while not stop.is_set():
            services.queue_order_compute(project=fresh)
            time.sleep(0.01)

    workers = [service_worker(user, project, log) for user in people]

    def last_worker_then_stop(work=workers[-1]) -> None:
        try:
            work()
        finally:
            stop.set()

    def reranker() -> None:
        try:
            rerank()
        finally:
            connection.close()

    background = threading.Thread(target=reranker, daemon=True)
    background.start()
    try:
        run_threads([*workers[:-1], last_worker_then_stop], log)
    finally:
        stop.set()
        background.join(timeout=60)
    assert not background.is_alive()

    claims_per_task = Counter(task for task, _, _ in log.claims)
    assert len(claims_per_task) == ROWS and max(claims_per_task.values()) == 1
    assert log.rejected == []
    assert_every_task_labeled_once(project, log)
    rows_per_worker = Counter((Task.objects.get(pk=task).data_row_id, worker) for task, worker, _ in log.claims)
    assert max(rows_per_worker.values()) == 1
    # The least certain rows went first: the first claims (by time) are among the top ranks.
    first = sorted(log.claims, key=lambda c: c[2])[:LABELERS]
    ranks = {str(k): v for k, v in Task.objects.filter(project=project).values_list("id", "queue_rank")}
    assert all(ranks[task] < 2 * LABELERS for task, _, _ in first), [ranks[t] for t, _, _ in first]
