"""One claim scenario run on PostgreSQL and on SQLite (`test_sqlite_claim_order.py`): batches of different
priorities, an active-learning rank on some tasks (the others unranked, which come after), an expired lease among
queued work, an expert task (never handed out as new work) and a row the labeler already labeled. `run()` returns
the global keys in the order one labeler is given them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from apps.accounts import services as account_services
from apps.datasets.models import DataRow
from apps.labeling import benchmarks
from apps.labeling import services as labeling_services
from apps.labeling.benchmarks import LABEL
from apps.labeling.models import Task, TaskState


def run() -> dict[str, Any]:
    created = account_services.organization_create(
        name="Claim order", admin={"username": "claim-admin", "password": "Claim-order-pass-2026"}, actor=None
    )
    organization, admin = created.organization, created.admin
    project = benchmarks.queued_project(organization, admin, name="claims", size=12, key_prefix="c", instructions="")
    rows = {row.global_key: row for row in DataRow.objects.filter(dataset__name="claims")}
    keys = sorted(rows)
    tasks = {task.data_row.global_key: task for task in Task.objects.filter(project=project).select_related("data_row")}
    # Priorities: two rows jump the queue; ranks on three rows of the default priority (the others unranked).
    Task.objects.filter(pk__in=[tasks[keys[9]].pk, tasks[keys[4]].pk]).update(priority=5)
    for rank, key in ((2.0, keys[7]), (1.0, keys[8]), (3.0, keys[2])):
        Task.objects.filter(pk=tasks[key].pk).update(queue_rank=rank)
    Task.objects.filter(pk=tasks[keys[11]].pk).update(kind="expert")
    labeler = account_services.user_create(organization=organization, username="claimer", password=None, role="labeler")
    other = account_services.user_create(organization=organization, username="other", password=None, role="labeler")
    for user in (labeler, other):
        labeling_services.project_member_set(actor=admin, project=project, user=user, role="labeler")
    # The other labeler holds the first priority-5 row with a lease that has run out: it is new work again, in its
    # place.
    first = labeling_services.queue_claim(actor=other, project=project)
    assert first is not None and first.data_row.global_key in (keys[4], keys[9])
    Task.objects.filter(pk=first.pk).update(lease_expires_at=timezone.now() - timedelta(minutes=1))
    order = []
    while (task := labeling_services.queue_claim(actor=labeler, project=project)) is not None:
        order.append(task.data_row.global_key)
        labeling_services.label_submit(actor=labeler, task=task, annotations=LABEL[:1], seconds_spent=1.0)
    left = sorted(Task.objects.filter(project=project).exclude(state=TaskState.DONE).values_list("kind", flat=True))
    by_age = [t.data_row.global_key for t in Task.objects.filter(project=project).order_by("created_at", "id")]
    return {"keys": keys, "order": order, "left": left, "by_age": by_age, "expired": first.data_row.global_key}
