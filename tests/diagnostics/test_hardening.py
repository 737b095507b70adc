"""Metrics that cannot silently leave rows out (issue #28): the ground truth covers every done row whatever the
order of the steps, rows without predictions are counted, every filter of /metrics and /rows is applied or
refused, and the thresholds used are echoed in every answer and on the run page."""

from __future__ import annotations

import pytest

from apps.diagnostics.models import GroundTruth
from apps.predictions import services as prediction_services
from tests.diagnostics.conftest import PREDS, prediction_lines
from tests.predictions.conftest import ndjson

pytestmark = pytest.mark.django_db

# Row 1 (one ground-truth box, C) gets no prediction at all: C must count as a miss in both orders.
PARTIAL = {i: PREDS[i] for i in (0, 2, 3)}
COMPARED = ("map50", "map", "map75", "map_at_iou", "totals", "confusion", "images", "rows")


@pytest.fixture
def admin(org_admin, client_for):
    return client_for(org_admin)


def run_url(run) -> str:
    return f"/api/v1/model_runs/{run.id}"


def attach(admin, run, project, **extra):
    response = admin.post(f"{run_url(run)}/ground_truth", {"project": str(project.id), **extra}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def predict(org_admin, post_ndjson, run, rows):
    body = ndjson(prediction_lines(rows, PARTIAL))
    response = post_ndjson(org_admin, f"{run_url(run)}/predictions", body)
    assert response.status_code == 200 and response.json()["failed"] == 0, response.content


def comparable(metrics: dict) -> dict:
    classes = sorted(metrics["classes"], key=lambda c: c["schema_id"])
    return {"classes": classes, **{k: metrics[k] for k in COMPARED}}


def test_predictions_first_or_ground_truth_first_give_the_same_metrics(scene, admin, org_admin, post_ndjson):
    project, rows, model = scene["project"], scene["rows"], scene["model"]
    first = prediction_services.model_run_create(actor=org_admin, model=model, name="predictions-first")
    predict(org_admin, post_ndjson, first, rows)
    snapshot = attach(admin, first, project)
    assert snapshot["rows"] == 4  # the done row without predictions is in, not silently skipped
    assert snapshot["added_to_run"] == 1 and snapshot["rows_without_predictions"] == 1
    assert snapshot["left_out"] == {"rows": 0, "reason": ""} and snapshot["scope"] == "project"

    second = prediction_services.model_run_create(actor=org_admin, model=model, name="ground-truth-first")
    assert attach(admin, second, project)["added_to_run"] == 4
    predict(org_admin, post_ndjson, second, rows)

    a = admin.get(f"{run_url(first)}/metrics").json()
    b = admin.get(f"{run_url(second)}/metrics").json()
    assert comparable(a) == comparable(b)
    assert a["rows"] == {"ground_truth": 4, "with_predictions": 3, "without_predictions": 1}
    vehicle = next(c for c in a["classes"] if c["name"] == "vehicle")
    assert vehicle["support"] == 4 and vehicle["false_negatives"] == 1  # C on row 1 is a miss
    assert vehicle["recall"] == pytest.approx(3 / 4)
    summary = admin.get(f"{run_url(first)}/ground_truth").json()
    assert summary["rows_without_predictions"] == 1 and summary["project_done_rows_not_in_ground_truth"] == 0


def test_scope_run_says_what_it_left_out(scene, admin, org_admin, post_ndjson):
    run = prediction_services.model_run_create(actor=org_admin, model=scene["model"], name="only-run-rows")
    predict(org_admin, post_ndjson, run, scene["rows"])
    snapshot = attach(admin, run, scene["project"], scope="run")
    assert snapshot["rows"] == 3 and snapshot["added_to_run"] == 0
    assert snapshot["left_out"]["rows"] == 1 and "scope=run" in snapshot["left_out"]["reason"]
    assert not GroundTruth.objects.filter(model_run=run, data_row=scene["rows"][1]).exists()
    assert admin.get(f"{run_url(run)}/ground_truth").json()["project_done_rows_not_in_ground_truth"] == 1
    bad = admin.post(
        f"{run_url(run)}/ground_truth", {"project": str(scene["project"].id), "scope": "all"}, format="json"
    )
    assert bad.status_code == 400


def test_metrics_filters_apply_or_are_refused(scene, admin):
    run = scene["run"]
    attach(admin, run, scene["project"])
    whole = admin.get(f"{run_url(run)}/metrics").json()
    sensor_a = admin.get(f"{run_url(run)}/metrics", {"metadata.sensor": "a"}).json()
    # Rows 0 and 2 (sensor a): boxes A, B, D all found, no false positive.
    vehicle = next(c for c in sensor_a["classes"] if c["name"] == "vehicle")
    assert sensor_a["rows"]["ground_truth"] == 2 and vehicle["support"] == 3
    assert vehicle["true_positives"] == 3 and vehicle["false_positives"] == 0
    assert sensor_a["filters"] == {"metadata.sensor": "a"}
    assert sensor_a["map50"] != whole["map50"]
    valid = admin.get(f"{run_url(run)}/metrics", {"split": "valid"}).json()
    assert valid["rows"]["ground_truth"] == 2
    unknown = admin.get(f"{run_url(run)}/metrics", {"metadata.nonexistent": "zzz"})
    assert unknown.status_code == 400 and "metadata.nonexistent" in unknown.json()["error"]["details"]
    assert admin.get(f"{run_url(run)}/metrics", {"split": "nope"}).status_code == 400
    assert admin.get(f"{run_url(run)}/metrics", {"slice_by": "metadata.nonexistent"}).status_code == 400
    assert admin.get(f"{run_url(run)}/metrics", {"sensor": "a"}).status_code == 400


def test_metrics_slice_by_metadata_and_split(scene, admin):
    run = scene["run"]
    attach(admin, run, scene["project"])
    sliced = admin.get(f"{run_url(run)}/metrics", {"slice_by": "metadata.sensor", "confidence": "0.5"}).json()
    assert sliced["slice_by"] == "metadata.sensor"
    assert [(s["value"], s["rows"]["ground_truth"]) for s in sliced["slices"]] == [("a", 2), ("b", 2)]
    by_value = {s["value"]: s for s in sliced["slices"]}
    b_vehicle = next(c for c in by_value["b"]["classes"] if c["name"] == "vehicle")
    assert b_vehicle["support"] == 1 and b_vehicle["recall"] == 0  # C missed; two false positives on b
    assert sliced["thresholds"]["confidence"] == 0.5
    splits = admin.get(f"{run_url(run)}/metrics", {"slice_by": "split", "metadata.sensor": "a"}).json()
    assert [(s["value"], s["rows"]["ground_truth"]) for s in splits["slices"]] == [("train", 1), ("valid", 1)]


def test_thresholds_are_echoed_in_every_answer(scene, admin):
    run = scene["run"]
    attach(admin, run, scene["project"])
    default = admin.get(f"{run_url(run)}/metrics").json()
    assert default["thresholds"] == {"iou": 0.5, "confidence": 0.0, "defaults": {"iou": 0.5, "confidence": 0.0}}
    for path in ("metrics", "rows", "errors"):
        answer = admin.get(f"{run_url(run)}/{path}", {"iou": "0.6", "confidence": "0.25"}).json()
        assert answer["thresholds"]["iou"] == 0.6 and answer["thresholds"]["confidence"] == 0.25, path


def test_rows_confidence_bound_drops_missed_boxes_and_class_takes_a_name(scene, admin):
    run = scene["run"]
    attach(admin, run, scene["project"])
    everything = admin.get(f"{run_url(run)}/rows").json()["results"]
    assert any(r["status"] == "false_negative" for r in everything)
    low = admin.get(f"{run_url(run)}/rows", {"confidence_lt": "0.75"}).json()["results"]
    assert low and all(r["status"] != "false_negative" and r["confidence"] < 0.75 for r in low)
    high = admin.get(f"{run_url(run)}/rows", {"confidence_gt": "0.1"}).json()["results"]
    assert all(r["status"] != "false_negative" for r in high)
    schema_id = everything[0]["class"]
    by_id = admin.get(f"{run_url(run)}/rows", {"class": schema_id}).json()["results"]
    by_name = admin.get(f"{run_url(run)}/rows", {"class": "vehicle"}).json()["results"]
    assert by_name and [r["index"] for r in by_name] == [r["index"] for r in by_id]
    assert admin.get(f"{run_url(run)}/rows", {"class": "Vehicle"}).json()["results"] == by_name
    unknown = admin.get(f"{run_url(run)}/rows", {"class": "car"})
    assert unknown.status_code == 400 and "vehicle" in unknown.json()["error"]["details"]["class"][0]


def test_run_page_shows_thresholds_and_what_the_ground_truth_misses(scene, admin, client, org_admin, post_ndjson):
    run = prediction_services.model_run_create(actor=org_admin, model=scene["model"], name="page")
    predict(org_admin, post_ndjson, run, scene["rows"])
    attach(admin, run, scene["project"], scope="run")
    client.force_login(org_admin)
    page = client.get(f"/model_runs/{run.id}/diagnostics/", {"confidence": "0.3"}).content.decode()
    assert 'id="metric-thresholds"' in page and "confidence ≥ 0.3" in page
    assert 'id="gt-left-out"' in page and "1 done row of the project is not in this ground truth" in page
    # The error table: box counts (with a link to those rows), no mask column without mask tools.
    fp = page.split('data-kind="false_positive"', 1)[1].split("</tr>", 1)[0]
    assert "status=false_positive#row-gallery" in fp and 'class="mask-count"' not in page
    assert 'id="map50"' in page and 'id="segm-summary"' not in page and "Confusion matrix · masks" not in page
