"""The claim and submit hot paths: plain-dict answers equal the serializers', compiled claim statements answer per
project and user, what a claim skips reading (labels, attachments) is only skipped when there is nothing, and the
query counts stay pinned."""

from datetime import timedelta

import pytest
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.datasets.apis import DataRowOutputSerializer
from apps.datasets.models import Attachment
from apps.labeling.apis import LabelOutputSerializer, data_row_body, label_body
from apps.labeling.models import Label, Task, TaskState
from tests.labeling.conftest import good_label
from tests.labeling.test_queue_api import add_batch

pytestmark = pytest.mark.django_db


def test_data_row_body_equals_the_serializer(make_rows):
    plain, rich = make_rows(2, prefix="body")
    rich.metadata = {"camera": "front", "n": 3}
    rich.external_id = "ext-1"
    rich.width = None
    rich.save()
    Attachment.objects.create(data_row=rich, type="IMAGE", value="https://example.com/a.png", name="side")
    Attachment.objects.create(data_row=rich, type="TEXT", value="a note")
    for row in (plain, rich):
        assert data_row_body(row) == DataRowOutputSerializer(row).data
    assert data_row_body(plain, attachments=False) == DataRowOutputSerializer(plain).data


def test_label_body_equals_the_serializer(project, members, org_admin, make_rows, client_for):
    add_batch(project, org_admin, make_rows(2))
    client = client_for(members["labeler"])
    for seconds in (3.5, None):
        claim = client.post(f"/api/v1/projects/{project.id}/queue/next").json()
        body = {"annotations": good_label()} | ({"seconds_spent": seconds} if seconds is not None else {})
        response = client.post(f"/api/v1/tasks/{claim['task']}/labels", body, format="json")
        assert response.status_code == 201, response.content
        label = Label.objects.select_related("task").get(pk=response.json()["id"])
        assert response.json() == LabelOutputSerializer(label).data == label_body(label)


def test_claim_shows_attachments_and_the_previous_label_when_there_are_some(
    project, members, org_admin, make_rows, client_for
):
    rows = make_rows(2, prefix="ctx")
    for row in rows:
        Attachment.objects.create(data_row=row, type="TEXT", value=f"look at {row.global_key}", name="hint")
    add_batch(project, org_admin, rows)
    client = client_for(members["labeler"])
    first = client.post(f"/api/v1/projects/{project.id}/queue/next").json()
    key = first["data_row"]["global_key"]
    assert first["data_row"]["attachments"] == [{"type": "TEXT", "value": f"look at {key}", "name": "hint"}]
    assert first["previous_label"] is None and first["kind"] == "label"
    submitted = client.post(f"/api/v1/tasks/{first['task']}/labels", {"annotations": good_label()}, format="json")
    assert submitted.status_code == 201
    # Sent back to the labeler (as a reviewer's reject does): the claim shows the label to correct.
    Task.objects.filter(pk=first["task"]).update(
        state=TaskState.IN_REWORK, rework_user=members["labeler"], rework_open_at=timezone.now() + timedelta(hours=1)
    )
    rework = client.post(f"/api/v1/projects/{project.id}/queue/next").json()
    assert rework["task"] == first["task"] and rework["kind"] == "rework"
    assert rework["previous_label"]["id"] == submitted.json()["id"]
    assert rework["previous_label"]["status"] == "in_progress"
    assert rework["data_row"]["attachments"] == first["data_row"]["attachments"]


def test_own_rework_comes_before_open_rework_and_open_rework_skips_its_labeler(
    project, members, org_admin, make_rows, client_for
):
    rows = make_rows(3, prefix="rw")
    add_batch(project, org_admin, rows[:2], name="urgent", priority=5)
    add_batch(project, org_admin, rows[2:], name="later", priority=1)
    labeler, expert = members["labeler"], members["expert"]
    labeled = {}
    for user in (labeler, expert):
        client = client_for(user)
        claim = client.post(f"/api/v1/projects/{project.id}/queue/next").json()
        assert client.post(f"/api/v1/tasks/{claim['task']}/labels", {"annotations": good_label()}, format="json")
        labeled[user.pk] = claim["task"]
    past = timezone.now() - timedelta(minutes=1)
    # The expert's task is open rework (anyone may take it); the labeler's is theirs, at a lower priority.
    Task.objects.filter(pk=labeled[expert.pk]).update(
        state=TaskState.IN_REWORK, rework_user=expert, rework_open_at=past
    )
    Task.objects.filter(pk=labeled[labeler.pk]).update(
        state=TaskState.IN_REWORK, rework_user=labeler, rework_open_at=past, priority=1
    )
    mine = client_for(labeler).post(f"/api/v1/projects/{project.id}/queue/next").json()
    assert mine["task"] == labeled[labeler.pk] and mine["kind"] == "rework"
    # Someone else takes the open rework; the expert who labeled it never does.
    other = client_for(members["admin"]).post(f"/api/v1/projects/{project.id}/queue/next").json()
    assert other["task"] == labeled[expert.pk]
    Task.objects.filter(pk=labeled[expert.pk]).update(
        state=TaskState.IN_REWORK, assignee=None, rework_user=members["admin"], rework_open_at=past
    )
    expert_claim = client_for(expert).post(f"/api/v1/projects/{project.id}/queue/next").json()
    assert expert_claim["data_row"]["global_key"] == rows[2].global_key


def test_compiled_claim_statements_answer_for_each_project_and_user(
    project_factory, org_admin, members, make_rows, client_for
):
    first_project = project_factory("First", review={"sample_rate": 0.0})
    second_project = project_factory("Second", review={"sample_rate": 0.0})
    from apps.labeling import services

    for p in (first_project, second_project):
        for role in ("labeler", "expert"):
            services.project_member_set(actor=org_admin, project=p, user=members[role], role=role)
        add_batch(p, org_admin, make_rows(2, prefix=p.name))
    seen = {}
    for p in (first_project, second_project, first_project):
        for role in ("labeler", "expert"):
            body = client_for(members[role]).post(f"/api/v1/projects/{p.id}/queue/next").json()
            assert Task.objects.get(pk=body["task"]).project_id == p.id
            assert body["data_row"]["global_key"].startswith(p.name)
            seen.setdefault((p.id, role), body["task"])
            assert seen[(p.id, role)] == body["task"]  # the live lease again
    assert len(set(seen.values())) == 4


def test_claim_and_submit_query_counts(project, members, org_admin, make_rows, client_for, monkeypatch):
    # The labeling queue's own statements; registered claim sources (quality's benchmark rows) add theirs.
    from apps.labeling import registry

    monkeypatch.setattr(registry, "_claim_sources", [])
    add_batch(project, org_admin, make_rows(3))
    client = client_for(members["labeler"])
    from django.db import connection

    client.post(f"/api/v1/projects/{project.id}/queue/next")  # token last-used stamp, content types: warm
    Task.objects.filter(project=project).update(state=TaskState.TO_LABEL, assignee=None)
    with CaptureQueriesContext(connection) as claim_queries:
        claim = client.post(f"/api/v1/projects/{project.id}/queue/next").json()
    with CaptureQueriesContext(connection) as submit_queries:
        response = client.post(
            f"/api/v1/tasks/{claim['task']}/labels",
            {"annotations": good_label()},
            format="json",
            HTTP_IDEMPOTENCY_KEY="k-1",
        )
    assert response.status_code == 201
    # token, permissions, project; user lock, own lease, rework, new work, lease update, row details; the row's
    # model pre-labels (predictions' prelabel source)
    assert len([q for q in claim_queries.captured_queries if "SAVEPOINT" not in q["sql"]]) <= 10
    # submit: +2 for the provenance record (the row's pre-labels, the label's assist row), +1 for webhooks (does any
    # active webhook of the organization listen? once per request)
    submitted = [q["sql"] for q in submit_queries.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert len(submitted) <= 17
    assert sum("webhooks_webhook" in sql for sql in submitted) == 1


def test_rows_of_one_batch_are_handed_out_in_the_order_the_batch_lists_them(project, members, org_admin, make_rows):
    from apps.labeling import services

    rows = make_rows(6, prefix="order")
    given = [rows[i].global_key for i in (4, 1, 5, 0, 3, 2)]  # neither creation nor key order
    services.batch_create(actor=org_admin, project=project, name="ordered", global_keys=given, priority=3)
    claimed = []
    while (task := services.queue_claim(actor=members["labeler"], project=project)) is not None:
        claimed.append(task.data_row.global_key)
        services.label_submit(actor=members["labeler"], task=task, annotations=good_label(), seconds_spent=1.0)
    assert claimed == given
