"""Pre-label and prediction imports: every good line stored, every bad line reported with its line number."""

from __future__ import annotations

import json

import pytest

from apps.core.models import Job
from apps.predictions.models import ModelRunDataRow, Prediction, PredictionImport, Prelabel
from tests.predictions.conftest import box, ndjson

pytestmark = pytest.mark.django_db


def url(project) -> str:
    return f"/api/v1/projects/{project.id}/prelabels"


def test_good_and_bad_lines_mixed(project, rows, org_admin, make_rows, post_ndjson):
    outside = make_rows(1, prefix="outside")[0]
    lines = [
        box("img-0", confidence=0.9),  # 1 good
        box("nope"),  # 2 unknown global key
        box(outside.global_key),  # 3 row not in the project
        {**box("img-1"), "bbox": None, "polygon": [{"x": 1, "y": 1}, {"x": 5, "y": 1}, {"x": 5, "y": 5}]},  # 4 kind
        box("img-1", confidence=1.5),  # 5 confidence > 1
        '{"name": "vehicle", "confidence": NaN, "data_row": {"global_key": "img-1"}}',  # 6 NaN
        "{not json",  # 7 bad JSON
        box("img-1", uuid="4b0e3c1e-0000-4000-8000-000000000001"),  # 8 good
        box("img-2", uuid="4b0e3c1e-0000-4000-8000-000000000001"),  # 9 duplicate uuid
        box("img-2", left=600, width=100),  # 10 outside the 640 px image
        {"name": "weather", "answer": {"name": "sunny"}, "data_row": {"id": str(rows[3].id)}},  # 11 good (by id)
        {"name": "weather", "answer": {"name": "hail"}, "data_row": {"global_key": "img-2"}},  # 12 bad option
        {"name": "vehicle", "point": {"x": 1, "y": 2}, "data_row": {"global_key": "img-2"}},  # 13 wrong kind
        box("img-2", confidence=-0.1),  # 14 confidence < 0
        {"name": "vehicle", "bbox": {"top": 1, "left": 1, "height": 1, "width": 1}},  # 15 no data_row
    ]
    body = ndjson(lines)
    body = body.replace(b'"bbox": null, ', b"")
    body += b'{"name": "weather", "answer": {"name": "sunny"}, "data_row": {"global_key": "img-\xff"}}\n'  # 16
    response = post_ndjson(org_admin, url(project), body)
    assert response.status_code == 200, response.content
    result = response.json()
    assert (result["created"], result["updated"], result["failed"]) == (3, 0, 13)
    errors = {e["line"]: e["message"] for e in result["errors"]}
    assert sorted(errors) == [2, 3, 4, 5, 6, 7, 9, 10, 12, 13, 14, 15, 16]
    assert "Unknown global key 'nope'" in errors[2]
    assert "not in this project" in errors[3]
    assert "is a bbox" in errors[4]
    assert "outside [0, 1]" in errors[5] and "outside [0, 1]" in errors[14]
    assert "NaN" in errors[6]
    assert "Malformed JSON" in errors[7]
    assert "Duplicate uuid" in errors[9] and "line 8" in errors[9]
    assert errors[10].startswith("bbox.width") and "outside the image" in errors[10]
    assert "'hail'" in errors[12]
    assert "is a bbox" in errors[13]
    assert "data_row is required" in errors[15]
    assert "UTF-8" in errors[16]
    stored = Prelabel.objects.filter(project=project)
    assert stored.count() == 3
    first = stored.get(data_row=rows[0])
    assert first.confidence == 0.9 and first.kind == "bbox" and first.annotation["bbox"]["left"] == 10
    assert stored.get(data_row=rows[3]).kind == "radio"
    record = PredictionImport.objects.get(pk=result["import"])
    assert (record.created, record.failed, record.status, record.created_by) == (3, 13, "succeeded", org_admin)
    assert [e["line"] for e in record.errors] == sorted(errors)


def test_reimport_is_idempotent(project, rows, org_admin, post_ndjson):
    body = ndjson([box("img-0"), box("img-0", left=100), box("img-1", uuid="7d6f0d5c-1111-4111-8111-000000000001")])
    first = post_ndjson(org_admin, url(project), body).json()
    assert (first["created"], first["updated"], first["failed"]) == (3, 0, 0)
    again = post_ndjson(org_admin, url(project), body).json()
    assert (again["created"], again["updated"], again["failed"]) == (0, 3, 0)
    assert Prelabel.objects.filter(project=project).count() == 3
    # Same uuid, new content: updated in place; a line without a uuid and new content is a new annotation.
    changed = ndjson(
        [box("img-1", left=5, confidence=0.3, uuid="7d6f0d5c-1111-4111-8111-000000000001"), box("img-0", left=200)]
    )
    third = post_ndjson(org_admin, url(project), changed).json()
    assert (third["created"], third["updated"]) == (1, 1)
    moved = Prelabel.objects.get(uuid="7d6f0d5c-1111-4111-8111-000000000001")
    assert moved.annotation["bbox"]["left"] == 5 and moved.confidence == 0.3
    assert Prelabel.objects.filter(project=project).count() == 4


def test_duplicate_lines_without_uuid_are_reported(project, rows, org_admin, post_ndjson):
    result = post_ndjson(org_admin, url(project), ndjson([box("img-0"), box("img-0")])).json()
    assert (result["created"], result["failed"]) == (1, 1)
    assert result["errors"][0]["line"] == 2 and "line 1" in result["errors"][0]["message"]


def test_bad_uuid_and_blank_lines(project, rows, org_admin, post_ndjson):
    body = b"\n" + ndjson([box("img-0", uuid="not-a-uuid")]) + b"\n\n" + ndjson([box("img-1")])
    result = post_ndjson(org_admin, url(project), body).json()
    assert result["created"] == 1
    assert result["errors"] == [{"line": 2, "message": "uuid 'not-a-uuid' is not a UUID."}]


def test_wrong_content_type_and_empty_body(project, rows, org_admin, client_for):
    client = client_for(org_admin)
    assert client.post(url(project), [box("img-0")], format="json").status_code == 415
    empty = client.generic("POST", url(project), b"", content_type="application/x-ndjson")
    assert empty.status_code == 400


def test_too_large_body_is_413(project, rows, org_admin, post_ndjson, settings):
    settings.TDP_MAX_IMPORT_BYTES = 100
    response = post_ndjson(org_admin, url(project), ndjson([box("img-0")] * 5))
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_large_file_runs_as_a_job(
    project, org_admin, make_rows, post_ndjson, client_for, settings, django_capture_on_commit_callbacks
):
    from tests.predictions.conftest import add_batch

    settings.TDP_IMPORT_SYNC_MAX_BYTES = 1024 * 1024
    made = make_rows(2000, prefix="big")
    add_batch(project, org_admin, made, name="big")
    lines = []
    for i in range(2000):
        for k in range(25):
            lines.append(box(f"big-{i}", left=k, top=k, confidence=round((k + 1) / 26, 4)))
    lines.append(box("missing-row"))
    body = ndjson(lines)
    assert len(body) > 9 * 1024 * 1024
    with django_capture_on_commit_callbacks(execute=True):
        response = post_ndjson(org_admin, url(project), body)
    assert response.status_code == 202, response.content
    job = Job.objects.get(pk=response.json()["job"])
    assert job.status == "succeeded", job.error
    assert job.progress_done == job.progress_total == len(body)
    assert job.result["created"] == 50_000 and job.result["failed"] == 1
    assert job.result["errors"] == [{"line": 50_001, "message": "Unknown global key 'missing-row'."}]
    assert Prelabel.objects.filter(project=project).count() == 50_000
    shown = client_for(org_admin).get(f"/api/v1/jobs/{job.pk}").json()
    assert shown["status"] == "succeeded" and shown["result"]["created"] == 50_000
    record = PredictionImport.objects.get(job=job)
    assert (record.status, record.created, record.failed) == ("succeeded", 50_000, 1)


def test_predictions_into_a_model_run(org_admin, ontology, make_rows, client_for, post_ndjson):
    client = client_for(org_admin)
    model = client.post("/api/v1/models", {"name": "detector", "ontology": str(ontology.id)}, format="json")
    assert model.status_code == 201, model.content
    run = client.post(f"/api/v1/models/{model.json()['id']}/runs", {"name": "v1", "config": {"lr": 0.1}}, format="json")
    assert run.status_code == 201, run.content
    run_id = run.json()["id"]
    made = make_rows(3, prefix="mr")
    split = client.post(
        f"/api/v1/model_runs/{run_id}/data_rows",
        {"global_keys": ["mr-0", "mr-1", "nope"], "split": "train"},
        format="json",
    ).json()
    assert split == {"added": 2, "updated": 0, "not_found": ["nope"]}
    result = post_ndjson(
        org_admin, f"/api/v1/model_runs/{run_id}/predictions", ndjson([box("mr-0", confidence=0.4), box("mr-2")])
    ).json()
    assert (result["created"], result["failed"]) == (2, 0)
    assert Prediction.objects.filter(model_run_id=run_id).count() == 2
    # A predicted row not yet in the run joins it, unassigned.
    assert ModelRunDataRow.objects.get(model_run_id=run_id, data_row=made[2]).split == "unassigned"
    detail = client.get(f"/api/v1/model_runs/{run_id}").json()
    assert detail["data_rows"] == {"train": 2, "unassigned": 1} and detail["predictions"] == 2
    assert detail["config"] == {"lr": 0.1}
    listed = client.get("/api/v1/models").json()["results"]
    assert [m["name"] for m in listed] == ["detector"]
    assert json.loads(json.dumps(listed))[0]["ontology"] == str(ontology.id)
