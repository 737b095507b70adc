"""Who may import, read figures and work with models: labeler 403, another organization 404, anonymous 401."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from apps.predictions import services
from apps.predictions.models import Prelabel
from tests.predictions.conftest import box, ndjson

pytestmark = pytest.mark.django_db


@pytest.fixture
def model_and_run(org_admin, ontology):
    model = services.model_create(actor=org_admin, name="detector", ontology=ontology)
    return model, services.model_run_create(actor=org_admin, model=model, name="v1")


@pytest.fixture
def stranger(other_org, make_user):
    return make_user(role="team_manager", organization=other_org, username="globex-manager")


def test_prelabel_import_needs_manage(project, rows, members, stranger, post_ndjson, client_for):
    url = f"/api/v1/projects/{project.id}/prelabels"
    body = ndjson([box("img-0")])
    for role in ("labeler", "reviewer", "expert"):
        response = post_ndjson(members[role], url, body)
        assert response.status_code == 403, role
    assert post_ndjson(members["outsider"], url, body).status_code == 404
    assert post_ndjson(stranger, url, body).status_code == 404
    anonymous = APIClient().generic("POST", url, body, content_type="application/x-ndjson")
    assert anonymous.status_code == 401
    assert not Prelabel.objects.exists()
    assert post_ndjson(members["team_manager"], url, body).status_code == 200


def test_stats_need_view_work(project, members, stranger, client_for):
    url = f"/api/v1/projects/{project.id}/prelabels/stats"
    assert client_for(members["labeler"]).get(url).status_code == 403
    assert client_for(stranger).get(url).status_code == 404
    assert APIClient().get(url).status_code == 401
    assert client_for(members["reviewer"]).get(url).status_code == 200


def test_models_and_runs_are_for_managers(model_and_run, users_by_role, stranger, client_for, ontology, post_ndjson):
    model, run = model_and_run
    urls = [
        ("get", "/api/v1/models", None),
        ("post", "/api/v1/models", {"name": "m2", "ontology": str(ontology.id)}),
        ("get", f"/api/v1/models/{model.id}", None),
        ("post", f"/api/v1/models/{model.id}/runs", {"name": "v2"}),
        ("get", f"/api/v1/model_runs/{run.id}", None),
        ("post", f"/api/v1/model_runs/{run.id}/data_rows", {"global_keys": ["x"]}),
    ]
    for role in ("labeler", "reviewer", "expert"):
        client = client_for(users_by_role[role])
        for method, url, body in urls:
            response = getattr(client, method)(url, body, format="json") if body else getattr(client, method)(url)
            assert response.status_code == 403, (role, url)
        assert post_ndjson(users_by_role[role], f"/api/v1/model_runs/{run.id}/predictions", b"{}\n").status_code == 403
    foreign = client_for(stranger)
    for method, url, body in urls[2:]:
        response = getattr(foreign, method)(url, body, format="json") if body else getattr(foreign, method)(url)
        assert response.status_code == 404, url
    assert foreign.get("/api/v1/models").json()["results"] == []
    assert post_ndjson(stranger, f"/api/v1/model_runs/{run.id}/predictions", b"{}\n").status_code == 404
    # Another organization's ontology cannot back a model.
    other = foreign.post("/api/v1/models", {"name": "m", "ontology": str(ontology.id)}, format="json")
    assert other.status_code == 404
    for method, url, _ in urls:
        assert getattr(APIClient(), method)(url).status_code == 401
    manager = client_for(users_by_role["team_manager"])
    assert manager.get(f"/api/v1/model_runs/{run.id}").status_code == 200
    assert manager.post(f"/api/v1/models/{model.id}/runs", {"name": "v1"}, format="json").status_code == 409


def test_expert_task_list_and_provenance_follow_the_project(project, members, stranger, client_for):
    url = f"/api/v1/projects/{project.id}/expert_tasks"
    assert client_for(members["labeler"]).get(url).status_code == 403
    assert client_for(stranger).get(url).status_code == 404
    assert client_for(members["team_manager"]).get(url).status_code == 200
