"""The admin: models and runs, the import history with its error report, the expert queue with due filters, each
limited to the org admin's organization."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from apps.accounts.models import User
from apps.labeling import services as labeling_services
from apps.labeling.models import Task, TaskKind
from apps.predictions import services
from apps.predictions.models import Model, PredictionImport
from tests.predictions.conftest import box, ndjson

pytestmark = pytest.mark.django_db


def _staff(user) -> Client:
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    client = Client()
    client.force_login(user)
    return client


def test_admin_pages(project_factory, org_admin, ontology, make_rows, post_ndjson, other_org, routing_runs_at_once):
    project = project_factory(name="Routed", routing={"confidence_threshold": 0.6})
    rows = make_rows(2, prefix="adm")
    labeling_services.batch_create(actor=org_admin, project=project, name="b", data_row_ids=[str(r.id) for r in rows])
    body = ndjson([box("adm-0", confidence=0.1), box("adm-1", confidence=0.3), box("nope")])
    post_ndjson(org_admin, f"/api/v1/projects/{project.id}/prelabels", body)
    Task.objects.filter(data_row=rows[0], kind=TaskKind.EXPERT).update(due_at=timezone.now() - timedelta(hours=1))
    client = _staff(org_admin)

    # Add a model through the admin (the service creates it).
    response = client.post(
        "/admin/predictions/model/add/", {"name": "detector", "ontology": str(ontology.id), "description": ""}
    )
    assert response.status_code == 302, response.content[:2000]
    model = Model.objects.get(name="detector")
    assert model.created_by == org_admin
    run = services.model_run_create(actor=org_admin, model=model, name="v1", config={"epochs": 3})
    assert "detector" in client.get("/admin/predictions/model/").content.decode()
    assert "epochs" in client.get(f"/admin/predictions/modelrun/{run.id}/change/").content.decode()

    record = PredictionImport.objects.get(project=project)
    detail = client.get(f"/admin/predictions/predictionimport/{record.id}/change/").content.decode()
    assert "line 3: Unknown global key" in detail

    queue = client.get("/admin/predictions/experttask/").content.decode()
    assert "adm-0" in queue and "adm-1" in queue
    overdue = client.get("/admin/predictions/experttask/?due=overdue").content.decode()
    assert "adm-0" in overdue and "adm-1" not in overdue

    stranger = User.objects.get(organization=other_org, role="admin")
    foreign = _staff(stranger)
    assert "adm-0" not in foreign.get("/admin/predictions/experttask/").content.decode()
    assert foreign.get(f"/admin/predictions/predictionimport/{record.id}/change/").status_code == 404
