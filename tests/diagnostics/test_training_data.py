""" "Train on run X's data": the run's snapshot as NDJSON — rows, splits, label revisions, ontology versions — the
same bytes on every request until the ground truth is snapshotted again, whatever happens to the labels."""

from __future__ import annotations

import json

import pytest

from apps.diagnostics.models import GroundTruth
from apps.labeling.models import Task
from apps.labeling.services import label_revision_create
from apps.predictions import services as prediction_services
from tests.diagnostics.conftest import SPLITS, vehicle

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(org_admin, client_for):
    return client_for(org_admin)


def training_data(admin, run) -> bytes:
    response = admin.get(f"/api/v1/model_runs/{run.id}/training_data")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/x-ndjson" and response["X-Content-Type-Options"] == "nosniff"
    return b"".join(response.streaming_content)


def snapshot(admin, scene):
    response = admin.post(
        f"/api/v1/model_runs/{scene['run'].id}/ground_truth", {"project": str(scene["project"].id)}, format="json"
    )
    assert response.status_code == 201


def test_the_export_records_rows_splits_revisions_and_ontology_versions(scene, admin):
    snapshot(admin, scene)
    lines = [json.loads(line) for line in training_data(admin, scene["run"]).splitlines()]
    rows = scene["rows"]
    assert [line["data_row"]["id"] for line in lines] == sorted(str(r.id) for r in rows)
    by_key = {line["data_row"]["global_key"]: line for line in lines}
    for i, row in enumerate(rows):
        line = by_key[row.global_key]
        label = scene["labels"][row.id]
        assert line["split"] == SPLITS[i]
        assert line["ground_truth"]["label"] == str(label.id) and line["ground_truth"]["revision"] == 1
        assert line["ground_truth"]["ontology_version"] == {
            "id": str(label.ontology_version_id),
            "number": label.ontology_version.number,
        }
        assert line["annotations"] == label.annotations
        assert line["model_run"]["id"] == str(scene["run"].id)
    assert GroundTruth.objects.filter(model_run=scene["run"], split="").count() == 0


def test_same_bytes_on_repeat_even_after_labels_and_splits_change(scene, admin, org_admin):
    snapshot(admin, scene)
    first = training_data(admin, scene["run"])
    assert first == training_data(admin, scene["run"])
    # Later: a label is corrected and a row moves to another split. The run's recorded data does not move.
    row = scene["rows"][1]
    label = scene["labels"][row.id]
    label_revision_create(
        task=Task.objects.get(pk=label.task_id), author=label.labeler, annotations=[vehicle(5, 5, 10, 10)]
    )
    prediction_services.model_run_rows_set(
        actor=org_admin, model_run=scene["run"], split="test", data_row_ids=[str(row.id)]
    )
    assert training_data(admin, scene["run"]) == first
    # A new snapshot is new training data: the corrected label, revision 2, the new split.
    snapshot(admin, scene)
    again = training_data(admin, scene["run"])
    assert again != first
    line = next(json.loads(x) for x in again.splitlines() if json.loads(x)["data_row"]["id"] == str(row.id))
    assert line["ground_truth"]["revision"] == 2 and line["split"] == "test"
    assert line["annotations"][0]["bbox"]["left"] == 5


def test_pages_of_the_export_join_up(scene, admin, monkeypatch):
    from apps.diagnostics import training_data as module

    snapshot(admin, scene)
    whole = training_data(admin, scene["run"])
    monkeypatch.setattr(module, "PAGE", 1)
    assert training_data(admin, scene["run"]) == whole


def test_access(scene, client_for, other_org, make_user):
    url = f"/api/v1/model_runs/{scene['run'].id}/training_data"
    outsider = make_user(role="admin", organization=other_org, username="elsewhere")
    assert client_for(outsider).get(url).status_code == 404
    assert client_for(scene["members"]["labeler"]).get(url).status_code == 403
    assert client_for(scene["members"]["labeler"]).get(url + "?x=1").status_code in (400, 403)
