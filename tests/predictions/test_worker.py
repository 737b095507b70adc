"""End to end with a real `qcluster`: predictions with confidences 0.2, 0.5 and 0.9 are imported into a model run
attached to a project with a 0.6 threshold; the worker routes the two low rows to the expert queue (0.2 first), only
the expert can claim them, and once their due time has passed the scheduled check flags them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.conf import Conf
from django_q.tasks import async_task

from apps.labeling import services as labeling_services
from apps.labeling.models import Task, TaskKind
from apps.predictions import services
from tests.core.test_worker import wait_for
from tests.predictions.conftest import box, ndjson
from tests.worker import running_qcluster

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_routing_and_overdue_flags_come_from_the_worker(
    monkeypatch, org, org_admin, ontology, project_factory, make_rows, make_user, client_for, post_ndjson
):
    monkeypatch.setattr(Conf, "SYNC", False)
    model = services.model_create(actor=org_admin, name="detector", ontology=ontology)
    run = services.model_run_create(actor=org_admin, model=model, name="v1")
    project = project_factory(
        name="Routed", routing={"confidence_threshold": 0.6, "due_hours": 1}, queue={"model_run": str(run.id)}
    )
    rows = make_rows(3, prefix="w")
    labeling_services.batch_create(actor=org_admin, project=project, name="b", data_row_ids=[str(r.id) for r in rows])
    people = {}
    for role in ("labeler", "expert"):
        people[role] = make_user(role="labeler", organization=org, username=f"w-{role}")
        labeling_services.project_member_set(actor=org_admin, project=project, user=people[role], role=role)
    labeler = client_for(people["labeler"])

    with running_qcluster() as process:
        body = ndjson([box("w-0", confidence=0.5), box("w-1", confidence=0.9), box("w-2", confidence=0.2)])
        result = post_ndjson(org_admin, f"/api/v1/model_runs/{run.id}/predictions", body)
        assert result.status_code == 200 and result.json()["created"] == 3, result.content

        def routed():
            tasks = list(Task.objects.filter(project=project, kind=TaskKind.EXPERT).order_by("confidence"))
            return tasks if len(tasks) == 2 else None

        try:
            experts = wait_for(routed, timeout=60)
        except AssertionError:
            output = process.stdout.read1().decode() if process.stdout else ""
            raise AssertionError(f"no expert tasks from the worker; its output:\n{output}") from None
        assert [(t.data_row_id, t.confidence) for t in experts] == [(rows[2].id, 0.2), (rows[0].id, 0.5)]

        kinds = []
        while (claim := labeler.post(f"/api/v1/projects/{project.id}/queue/next")).status_code == 200:
            kinds.append(claim.json()["kind"])
            labeler.post(f"/api/v1/tasks/{claim.json()['task']}/labels", {"annotations": []}, format="json")
        assert kinds == ["label", "label", "label"]  # never an expert task
        expert = client_for(people["expert"])
        claim = expert.post(f"/api/v1/projects/{project.id}/queue/next").json()
        assert (claim["kind"], claim["data_row"]["id"]) == ("expert", str(rows[2].id))

        Task.objects.filter(pk__in=[t.pk for t in experts]).update(due_at=timezone.now() - timedelta(minutes=5))
        async_task("apps.predictions.tasks.flag_overdue_expert_tasks")  # what the schedule runs

        def flagged():
            return Task.objects.filter(pk__in=[t.pk for t in experts], overdue_notified_at__isnull=False).count() == 2

        wait_for(flagged, timeout=60)
    overview = client_for(org_admin).get(f"/api/v1/projects/{project.id}/overview").json()
    assert overview["overdue_expert_tasks"] == 2
