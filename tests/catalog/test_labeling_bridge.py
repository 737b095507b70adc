"""The catalog's selection reaches labeling as a batch; a row's lineage lists its projects and labels."""

import pytest

from apps.labeling import services as labeling_services
from apps.labeling.models import Task
from apps.ontologies import services as ontology_services
from apps.ontologies.demo import VEHICLES

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(org, org_admin):
    ontology = ontology_services.ontology_create(
        organization=org, name="vehicles", tools=VEHICLES["tools"], actor=org_admin
    )
    return labeling_services.project_create(actor=org_admin, name="Mined", ontology=ontology)


def test_a_slice_is_sent_to_labeling_as_a_batch(manager, manager_client, labeler_client, dataset, make_rows, project):
    rows = make_rows(dataset, 3)
    targets = {t["key"]: t for t in manager_client.get("/api/v1/selection_targets").json()["results"]}
    assert {"value": str(project.id), "label": "Mined"} in targets["labeling.batch"]["options"]
    # a labeler manages no project: no options offered to them
    labeler_targets = {t["key"]: t for t in labeler_client.get("/api/v1/selection_targets").json()["results"]}
    assert labeler_targets["labeling.batch"]["options"] == []
    slice_id = manager_client.post(
        "/api/v1/slices",
        {"name": "rare", "dataset": str(dataset.id), "data_rows": [str(r.id) for r in rows[:2]]},
        format="json",
    ).json()["id"]
    response = manager_client.post(
        f"/api/v1/slices/{slice_id}/send", {"target": "labeling.batch", "option": str(project.id)}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["result"]["added"] == 2
    assert sorted(str(t.data_row_id) for t in Task.objects.filter(project=project)) == sorted(
        str(r.id) for r in rows[:2]
    )
    # a labeler may not create batches in the project
    denied = labeler_client.post(
        f"/api/v1/slices/{slice_id}/send", {"target": "labeling.batch", "option": str(project.id)}, format="json"
    )
    assert denied.status_code in (403, 404)
    lineage = manager_client.get(f"/api/v1/data_rows/{rows[0].id}/lineage").json()
    section = next(s for s in lineage["sections"] if s["key"] == "labeling")
    assert section["items"][0]["project"] == "Mined" and section["items"][0]["state"] == "to_label"


def test_projection_points_carry_the_label_class_and_lineage_the_reviews(
    org_admin, manager, manager_client, dataset, make_rows, space
):
    import numpy as np

    from apps.catalog import services as catalog_services
    from tests.catalog.conftest import put_vectors

    ontology = ontology_services.ontology_create(
        organization=org_admin.organization,
        name="weather",
        classifications=[{"name": "weather", "type": "radio", "options": [{"value": "sunny"}, {"value": "rain"}]}],
        actor=org_admin,
    )
    project = labeling_services.project_create(
        actor=org_admin, name="Weather", ontology=ontology, media_type="text", settings={"review": {"sample_rate": 0.0}}
    )
    labeling_services.project_member_set(actor=org_admin, project=project, user=manager, role="labeler")
    rows = make_rows(dataset, 4)
    labeling_services.batch_create(actor=org_admin, project=project, name="b", data_row_ids=[str(rows[0].id)])
    task = labeling_services.queue_claim(actor=manager, project=project)
    labeling_services.label_submit(
        actor=manager, task=task, annotations=[{"name": "weather", "answer": {"name": "rain"}}]
    )
    put_vectors(manager, space, rows, np.random.default_rng(1).normal(size=(4, 8)))
    catalog_services.space_analysis_compute(space=space, clusters=2, neighbors=2)
    points = manager_client.get(f"/api/v1/datasets/{dataset.id}/projection?embedding={space.id}").json()["points"]
    classes = {p["data_row"]: p["label_class"] for p in points}
    assert classes[str(rows[0].id)] == "rain"
    assert classes[str(rows[1].id)] is None
    lineage = manager_client.get(f"/api/v1/data_rows/{rows[0].id}/lineage").json()
    item = next(s for s in lineage["sections"] if s["key"] == "labeling")["items"][0]
    assert item["state"] == "done" and item["labels"] == [f"{manager.username} (revision 1)"]
    assert item["reviews"] == [] and item["issues"] == {}
