"""Emitters of the predictions app: `prediction_import.finished` after a pre-label import, `expert_task.overdue` when
the overdue check flags an expert task."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.labeling import services as labeling_services
from apps.labeling.models import Task, TaskKind
from apps.predictions.services import overdue_expert_tasks_notify
from tests.predictions.conftest import box, ndjson, post_ndjson, routing_runs_at_once  # noqa: F401

pytestmark = pytest.mark.django_db


def test_prelabel_import_and_overdue_expert_task_are_announced(
    project_factory,
    org_admin,
    make_rows,
    make_webhook,
    receiver,
    post_ndjson,  # noqa: F811
    routing_runs_at_once,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    project = project_factory(name="Announced", routing={"confidence_threshold": 0.6, "due_hours": 1})
    rows = make_rows(2, prefix="r")
    labeling_services.batch_create(actor=org_admin, project=project, name="b", data_row_ids=[str(r.id) for r in rows])
    make_webhook(["prediction_import.finished", "expert_task.overdue"])
    body = ndjson([box("r-0", confidence=0.3), box("r-1", confidence=0.9)])
    with django_capture_on_commit_callbacks(execute=True):
        response = post_ndjson(org_admin, f"/api/v1/projects/{project.id}/prelabels", body)
    assert response.status_code in (200, 201), response.content
    finished = [r for r in receiver.requests if r.headers["X-TDP-Event"] == "prediction_import.finished"]
    assert len(finished) == 1
    data = finished[0].json["data"]
    assert (data["project"], data["status"], data["created"], data["failed"]) == (str(project.id), "succeeded", 2, 0)

    expert_task = Task.objects.get(project=project, kind=TaskKind.EXPERT)
    Task.objects.filter(pk=expert_task.pk).update(due_at=timezone.now() - timedelta(minutes=5))
    with django_capture_on_commit_callbacks(execute=True):
        assert overdue_expert_tasks_notify() == 1
    overdue = [r for r in receiver.requests if r.headers["X-TDP-Event"] == "expert_task.overdue"]
    assert [r.json["data"]["id"] for r in overdue] == [str(expert_task.pk)]
    with django_capture_on_commit_callbacks(execute=True):
        assert overdue_expert_tasks_notify() == 0  # flagged once, announced once
    assert len([r for r in receiver.requests if r.headers["X-TDP-Event"] == "expert_task.overdue"]) == 1
