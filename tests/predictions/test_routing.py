"""Routing low-confidence rows to experts (django-q2 synchronous here; `test_worker.py` runs a real qcluster)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from apps.labeling import services as labeling_services
from apps.labeling.models import Label, Task, TaskKind
from apps.predictions import services
from apps.predictions.services import overdue_expert_tasks_notify, project_route
from apps.quality.services import benchmark_set
from tests.predictions.conftest import box, ndjson

pytestmark = pytest.mark.django_db


@pytest.fixture
def routed_project(project_factory, org_admin, members_of, make_rows):
    project = project_factory(name="Routed", routing={"confidence_threshold": 0.6, "due_hours": 24})
    people = members_of(project)
    rows = make_rows(3, prefix="r")
    labeling_services.batch_create(actor=org_admin, project=project, name="b", data_row_ids=[str(r.id) for r in rows])
    return project, people, rows


@pytest.fixture
def members_of(org, org_admin, make_user):
    def make(project):
        people = {}
        for role in ("labeler", "expert", "team_manager"):
            user = make_user(role="labeler", organization=org, username=f"{project.name.lower()}-{role}")
            labeling_services.project_member_set(actor=org_admin, project=project, user=user, role=role)
            people[role] = user
        return people

    return make


def _import(project, org_admin, post_ndjson):
    body = ndjson(
        [
            box("r-0", confidence=0.5),
            box("r-1", confidence=0.9),
            box("r-2", confidence=0.2),
            box("r-0", left=200, confidence=0.55),
        ]
    )
    return post_ndjson(org_admin, f"/api/v1/projects/{project.id}/prelabels", body).json()


def test_low_confidence_rows_become_expert_tasks_served_to_experts_lowest_first(
    routed_project, org_admin, post_ndjson, client_for, routing_runs_at_once
):
    project, people, rows = routed_project
    assert _import(project, org_admin, post_ndjson)["created"] == 4
    experts = Task.objects.filter(project=project, kind=TaskKind.EXPERT).order_by("confidence")
    assert [(t.data_row_id, t.confidence) for t in experts] == [(rows[2].id, 0.2), (rows[0].id, 0.5)]
    now = timezone.now()
    for task in experts:
        assert task.slot == 1 and task.state == "to_label"
        assert timedelta(hours=23, minutes=59) < task.due_at - now <= timedelta(hours=24)
    # Idempotent: routing again (a second delivery, another import) adds nothing.
    assert project_route(project=project) == 0
    assert _import(project, org_admin, post_ndjson)["updated"] == 4
    assert Task.objects.filter(project=project, kind=TaskKind.EXPERT).count() == 2

    # A labeler only ever gets the ordinary tasks.
    labeler = client_for(people["labeler"])
    served = []
    while (claim := labeler.post(f"/api/v1/projects/{project.id}/queue/next")).status_code == 200:
        body = claim.json()
        served.append(body["kind"])
        labeler.post(f"/api/v1/tasks/{body['task']}/labels", {"annotations": []}, format="json")
    assert served == ["label", "label", "label"]
    # The expert gets the expert tasks, lowest confidence first, with the row's pre-labels.
    expert = client_for(people["expert"])
    first = expert.post(f"/api/v1/projects/{project.id}/queue/next").json()
    assert (first["kind"], first["data_row"]["id"]) == ("expert", str(rows[2].id))
    assert [p["confidence"] for p in first["prelabels"]] == [0.2]
    created = expert.post(f"/api/v1/tasks/{first['task']}/labels", {"annotations": first["prelabels"]}, format="json")
    assert created.status_code == 201 and created.json()["source"] == "expert"
    second = expert.post(f"/api/v1/projects/{project.id}/queue/next").json()
    assert (second["kind"], second["data_row"]["id"]) == ("expert", str(rows[0].id))
    # The expert's answer can be the row's benchmark reference.
    label = Label.objects.get(pk=created.json()["id"])
    assert benchmark_set(actor=org_admin, label=label).label_id == label.pk


def test_no_threshold_no_routing(project, rows, org_admin, post_ndjson, routing_runs_at_once):
    post_ndjson(org_admin, f"/api/v1/projects/{project.id}/prelabels", ndjson([box("img-0", confidence=0.01)]))
    assert not Task.objects.filter(kind=TaskKind.EXPERT).exists()


def test_predictions_of_an_attached_run_route_too(
    project_factory, org_admin, members_of, make_rows, post_ndjson, ontology, routing_runs_at_once
):
    model = services.model_create(actor=org_admin, name="det", ontology=ontology)
    run = services.model_run_create(actor=org_admin, model=model, name="v1")
    project = project_factory(name="Attached", routing={"confidence_threshold": 0.6}, queue={"model_run": str(run.id)})
    rows = make_rows(2, prefix="a")
    labeling_services.batch_create(actor=org_admin, project=project, name="b", data_row_ids=[str(rows[0].id)])
    body = ndjson([box("a-0", confidence=0.3), box("a-1", confidence=0.1)])  # a-1 is not in the project
    assert post_ndjson(org_admin, f"/api/v1/model_runs/{run.id}/predictions", body).json()["created"] == 2
    assert list(Task.objects.filter(kind=TaskKind.EXPERT).values_list("data_row_id", "confidence")) == [
        (rows[0].id, 0.3)
    ]


def test_overdue_expert_tasks_are_flagged_and_managers_mailed_once(
    routed_project, org_admin, post_ndjson, client_for, routing_runs_at_once
):
    project, people, _ = routed_project
    _import(project, org_admin, post_ndjson)
    assert overdue_expert_tasks_notify() == 0  # not due yet
    Task.objects.filter(project=project, kind=TaskKind.EXPERT).update(due_at=timezone.now() - timedelta(minutes=1))
    overview = client_for(org_admin).get(f"/api/v1/projects/{project.id}/overview").json()
    assert overview["overdue_expert_tasks"] == 2
    assert overdue_expert_tasks_notify() == 2
    assert len(mail.outbox) == 2
    assert all(m.to == [people["team_manager"].email] for m in mail.outbox)
    assert "Overdue expert task in Routed" in mail.outbox[0].subject
    assert overdue_expert_tasks_notify() == 0 and len(mail.outbox) == 2  # once per task
    listed = client_for(org_admin).get(f"/api/v1/projects/{project.id}/expert_tasks?overdue=1").json()["results"]
    assert [t["confidence"] for t in listed] == [0.2, 0.5] and all(t["overdue_notified_at"] for t in listed)


def test_the_overdue_check_is_scheduled():
    from django_q.models import Schedule

    schedule = Schedule.objects.get(func="apps.predictions.tasks.flag_overdue_expert_tasks")
    assert schedule.schedule_type == Schedule.MINUTES and schedule.repeats == -1
