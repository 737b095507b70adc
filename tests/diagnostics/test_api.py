"""Diagnostics API on the hand-made scene of `conftest.py`: ground truth snapshots, metrics computed by hand, the
cache and its invalidation, the job path, /rows filters and orderings, errors, send to labeling, permissions."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from apps.core.models import Job
from apps.diagnostics.domain import RECALL_THRESHOLDS
from apps.diagnostics.models import GroundTruth, MatchRecord, MetricsResult
from apps.labeling.models import Task
from apps.labeling.services import label_revision_create
from tests.diagnostics.conftest import label_document, ndjson, prediction_lines, vehicle

pytestmark = pytest.mark.django_db


def base(run) -> str:
    return f"/api/v1/model_runs/{run.id}"


@pytest.fixture
def admin(org_admin, client_for):
    return client_for(org_admin)


@pytest.fixture
def snapshot(scene, admin):
    response = admin.post(f"{base(scene['run'])}/ground_truth", {"project": str(scene["project"].id)}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_ground_truth_snapshot_is_reproducible_until_resnapshot(scene, snapshot, admin):
    assert snapshot["rows"] == 4 and snapshot["rows_without_ground_truth"] == 0
    run, rows = scene["run"], scene["rows"]
    stored = GroundTruth.objects.get(model_run=run, data_row=rows[1])
    assert [a["bbox"]["left"] for a in stored.annotations if "bbox" in a] == [0]
    before = admin.get(f"{base(run)}/metrics").json()
    # The labeler's label is corrected afterwards: the snapshot (and the metrics) do not move...
    label = scene["labels"][rows[1].id]
    task = Task.objects.get(pk=label.task_id)
    corrected = label_revision_create(task=task, author=label.labeler, annotations=[vehicle(300, 300, 50, 50)])
    assert corrected.revision == 2
    stored.refresh_from_db()
    assert stored.label_revision == 1 and stored.annotations[0]["bbox"]["left"] == 0
    assert admin.get(f"{base(run)}/metrics").json()["classes"] == before["classes"]
    # ...until the ground truth is snapshotted again.
    again = admin.post(f"{base(run)}/ground_truth", {"project": str(scene["project"].id)}, format="json")
    assert again.status_code == 201
    stored = GroundTruth.objects.get(model_run=run, data_row=rows[1])
    assert stored.label_revision == 2 and stored.annotations[0]["bbox"]["left"] == 300
    after = admin.get(f"{base(run)}/metrics").json()
    vehicle_after = next(c for c in after["classes"] if c["name"] == "vehicle")
    assert vehicle_after["true_positives"] == 4  # the far prediction now matches the corrected box
    assert GroundTruth.objects.filter(model_run=run).count() == 4


def test_ground_truth_of_a_run_without_rows_takes_every_done_row(scene, admin, org_admin):
    from apps.predictions import services as prediction_services

    empty = prediction_services.model_run_create(actor=org_admin, model=scene["model"], name="v2")
    response = admin.post(f"{base(empty)}/ground_truth", {"project": str(scene["project"].id)}, format="json")
    assert response.status_code == 201
    assert response.json()["added_to_run"] == 4
    assert set(empty.data_rows.values_list("split", flat=True)) == {"unassigned"}
    summary = admin.get(f"{base(empty)}/ground_truth").json()
    assert summary["rows"] == 4 and summary["project"] == str(scene["project"].id)


def test_benchmark_tasks_are_not_ground_truth(scene, snapshot, admin):
    Task.objects.filter(data_row=scene["rows"][2]).update(kind="benchmark")
    admin.post(f"{base(scene['run'])}/ground_truth", {"project": str(scene["project"].id)}, format="json")
    assert not GroundTruth.objects.filter(model_run=scene["run"], data_row=scene["rows"][2]).exists()


def test_metrics_match_the_hand_computation(scene, snapshot, admin):
    response = admin.get(f"{base(scene['run'])}/metrics?iou=0.5&confidence=0")
    assert response.status_code == 200, response.content
    body = response.json()
    (v,) = [c for c in body["classes"] if c["name"] == "vehicle"]
    # TP: A, B (IoU 9000/11000), D; FP: the far box on img-1 and the box on img-3; FN: C.
    assert (v["support"], v["true_positives"], v["false_positives"], v["false_negatives"]) == (4, 3, 2, 1)
    assert v["precision"] == pytest.approx(3 / 5)
    assert v["recall"] == pytest.approx(3 / 4)
    assert v["f1"] == pytest.approx(2 * 0.6 * 0.75 / (0.6 + 0.75))
    # By score: FP .95, TP .9, TP .8, FP .7, TP .6 → (recall, precision) .25/.5, .5/.667, .5/.5, .75/.6;
    # interpolated precision 2/3 up to recall .5, .6 up to .75, 0 beyond; COCO's 101 recall points.
    expected_ap = sum(2 / 3 if r <= 0.5 else 0.6 if r <= 0.75 else 0.0 for r in RECALL_THRESHOLDS) / 101
    assert v["ap"] == pytest.approx(expected_ap, abs=1e-6)
    assert v["ap"] == pytest.approx(49 / 101, abs=0.01)
    assert body["map50"] == pytest.approx(expected_ap, abs=1e-6)
    assert body["map"] is not None and body["map"] <= body["map50"]
    labels = body["confusion"]["labels"]
    assert labels[-1] == "background"
    i = labels.index("vehicle")
    assert body["confusion"]["matrix"][i][i] == 3
    assert body["confusion"]["matrix"][-1][i] == 2  # false positives: background row
    assert body["confusion"]["matrix"][i][-1] == 1  # the missed box: background column
    weather = next(q for q in body["classifications"] if q["name"] == "weather")
    assert weather["answered"] == 4 and weather["accuracy"] == pytest.approx(1 / 4)
    curve = next(c for c in body["pr_curves"]["classes"] if c["name"] == "vehicle")
    assert len(curve["precision"]) == 101 and curve["precision"][0] == pytest.approx(2 / 3)
    assert sum(body["iou_histogram"]["true_positive"]) == 3
    # A higher confidence threshold drops the .6 and .7 predictions from the counts (not from AP).
    high = admin.get(f"{base(scene['run'])}/metrics?iou=0.5&confidence=0.75").json()
    (h,) = [c for c in high["classes"] if c["name"] == "vehicle"]
    assert (h["true_positives"], h["false_positives"], h["false_negatives"]) == (2, 1, 2)
    assert h["ap"] == pytest.approx(v["ap"])


@pytest.mark.parametrize("query", ["iou=0", "iou=1.5", "iou=abc", "confidence=-0.1", "confidence=nan", "foo=1"])
def test_bad_thresholds_are_400(scene, snapshot, admin, query):
    response = admin.get(f"{base(scene['run'])}/metrics?{query}")
    assert response.status_code == 400
    assert "error" in response.json()


def test_metrics_without_ground_truth_is_409(scene, admin):
    response = admin.get(f"{base(scene['run'])}/metrics")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "no_ground_truth"


def test_cached_until_a_prediction_changes(scene, snapshot, admin, org_admin, post_ndjson):
    url = f"{base(scene['run'])}/metrics"
    first = admin.get(url).json()
    result = MetricsResult.objects.get(model_run=scene["run"])
    assert admin.get(url).json()["computed_at"] == first["computed_at"]  # served from the cache
    assert MetricsResult.objects.get(pk=result.pk).updated_at == result.updated_at
    # The far prediction on img-1 moves onto C: re-imported with the same uuid.
    rows = scene["rows"]
    moved = {1: [((0, 0, 100, 100), 0.7)]}
    line = prediction_lines(rows, moved)[0]
    assert post_ndjson(org_admin, f"{base(scene['run'])}/predictions", ndjson([line])).json()["updated"] == 1
    second = admin.get(url).json()
    assert second["computed_at"] != first["computed_at"]
    v = next(c for c in second["classes"] if c["name"] == "vehicle")
    assert (v["true_positives"], v["false_positives"], v["false_negatives"]) == (4, 1, 0)
    assert MetricsResult.objects.filter(model_run=scene["run"]).count() == 1


def test_large_runs_compute_in_a_job(scene, snapshot, admin, settings, django_capture_on_commit_callbacks):
    settings.DIAGNOSTICS_SYNC_MAX_ROWS = 2
    url = f"{base(scene['run'])}/metrics?iou=0.5"
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.get(url)
    assert response.status_code == 202
    job = Job.objects.get(pk=response.json()["job"])
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert job.result["metrics_result"] == str(MetricsResult.objects.get(model_run=scene["run"]).id)
    polled = admin.get(f"/api/v1/jobs/{job.id}").json()
    assert polled["status"] == "succeeded"
    done = admin.get(url)
    assert done.status_code == 200
    assert next(c for c in done.json()["classes"] if c["name"] == "vehicle")["true_positives"] == 3


def test_a_queued_job_is_not_enqueued_twice(scene, snapshot, admin, settings):
    settings.DIAGNOSTICS_SYNC_MAX_ROWS = 2
    first = admin.get(f"{base(scene['run'])}/metrics")  # on-commit never fires inside the test transaction
    second = admin.get(f"{base(scene['run'])}/metrics")
    assert first.status_code == second.status_code == 202
    assert first.json()["job"] == second.json()["job"]


def rows_of(admin, run, query=""):
    response = admin.get(f"{base(run)}/rows?{query}")
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_rows_filters(scene, snapshot, admin):
    run, rows = scene["run"], scene["rows"]
    key = {str(r.id): r.global_key for r in rows}
    everything = rows_of(admin, run)
    assert len(everything) == 6  # 5 kept predictions + 1 missed box
    assert MatchRecord.objects.count() == 6
    statuses = sorted(r["status"] for r in everything)
    assert statuses == ["false_negative", "false_positive", "false_positive"] + ["true_positive"] * 3
    fn = rows_of(admin, run, "status=false_negative")
    assert [key[r["data_row"]["id"]] for r in fn] == ["img-1"] and fn[0]["confidence"] is None
    assert fn[0]["gt_box"] == [0, 0, 100, 100] and fn[0]["data_row"]["split"] == "train"
    assert len(rows_of(admin, run, "status=true_positive")) == 3
    assert [r["iou"] for r in rows_of(admin, run, "iou_lt=0.9&iou_gt=0.5")] == [pytest.approx(9000 / 11000)]
    assert len(rows_of(admin, run, "iou_lt=0.1")) == 3  # the two false positives and the missed box
    confident = rows_of(admin, run, "confidence_gt=0.85")
    assert sorted(r["confidence"] for r in confident) == [0.9, 0.95]
    low = rows_of(admin, run, "confidence_lt=0.75")  # a confidence bound drops missed boxes (no score)
    assert sorted(r["confidence"] for r in low) == [0.6, 0.7]
    vehicle_id = everything[0]["class"]
    assert len(rows_of(admin, run, f"class={vehicle_id}")) == 6
    assert len(rows_of(admin, run, "class=vehicle")) == 6  # a class's name works too
    unknown = admin.get(f"{base(run)}/rows?class=00000000-0000-4000-8000-000000000000")
    assert unknown.status_code == 400  # a filter that names no class is refused, not an empty list
    train = rows_of(admin, run, "split=train")
    assert {key[r["data_row"]["id"]] for r in train} == {"img-0", "img-1"}
    assert {r["data_row"]["split"] for r in train} == {"train"}
    sensor_b = rows_of(admin, run, "metadata.sensor=b")
    assert {key[r["data_row"]["id"]] for r in sensor_b} == {"img-1", "img-3"}
    both = rows_of(admin, run, "metadata.sensor=b&status=false_positive&split=valid")
    assert [key[r["data_row"]["id"]] for r in both] == ["img-3"]


def test_rows_orderings_and_pagination(scene, snapshot, admin):
    run = scene["run"]
    by_iou = [r["iou"] for r in rows_of(admin, run, "order=iou")]
    assert by_iou == sorted(by_iou)
    assert [r["iou"] for r in rows_of(admin, run, "order=-iou")] == sorted(by_iou, reverse=True)
    by_conf = [r["confidence"] for r in rows_of(admin, run, "order=confidence")]
    assert by_conf == [None, 0.6, 0.7, 0.8, 0.9, 0.95]
    assert [r["confidence"] for r in rows_of(admin, run, "order=-confidence")] == [0.95, 0.9, 0.8, 0.7, 0.6, None]
    seen, url = [], f"{base(run)}/rows?order=-confidence&page_size=2"
    while url:
        page = admin.get(url).json()
        seen += [r["confidence"] for r in page["results"]]
        url = page["next"]
    assert seen == [0.95, 0.9, 0.8, 0.7, 0.6, None]


@pytest.mark.parametrize(
    "query",
    ["colour=red", "status=wrong", "split=holdout", "order=name", "iou_lt=x", "metadata.nope=1", "data_row=1"],
)
def test_rows_bad_filters_are_400(scene, snapshot, admin, query):
    response = admin.get(f"{base(scene['run'])}/rows?{query}")
    assert response.status_code == 400, (query, response.content)
    assert response.json()["error"]["code"]


def test_rows_query_count_is_pinned(scene, snapshot, admin, django_assert_max_num_queries):
    admin.get(f"{base(scene['run'])}/rows")  # the result is cached
    with django_assert_max_num_queries(20):
        response = admin.get(f"{base(scene['run'])}/rows?metadata.sensor=a&split=train&order=-iou")
    assert response.status_code == 200


def test_errors_structure_with_rows_behind_each_item(scene, snapshot, admin):
    response = admin.get(f"{base(scene['run'])}/errors")
    assert response.status_code == 200, response.content
    body = response.json()
    keys = {str(r.id): r.global_key for r in scene["rows"]}
    assert set(body) >= {"class_frequency", "concept_clarity", "data_distribution", "outliers", "errors", "priorities"}
    vehicle = next(c for c in body["class_frequency"] if c["name"] == "vehicle")
    assert vehicle["support"] == 4 and vehicle["recall"] == pytest.approx(0.75)
    assert {r["global_key"] for r in vehicle["rows"]} == {"img-0", "img-1", "img-2"}
    assert "segm" not in body  # no mask tool: no mask error kinds
    errors = body["errors"]
    assert errors["false_negative"]["count"] == 1
    assert [r["global_key"] for r in errors["false_negative"]["rows"]] == ["img-1"]
    assert {r["global_key"] for r in errors["false_positive"]["rows"]} == {"img-1", "img-3"}
    assert body["concept_clarity"]["confused_pairs"] == []  # one box class: nothing to confuse
    assert "low_consensus" in body["concept_clarity"]
    fields = {(s["field"], s["value"]) for s in body["data_distribution"]}
    assert fields == {("split", "train"), ("split", "valid"), ("metadata.sensor", "a"), ("metadata.sensor", "b")}
    sensor_a = next(s for s in body["data_distribution"] if s["value"] == "a")
    assert sensor_a["recall"] == pytest.approx(1.0) and sensor_a["row_count"] == 2
    assert {keys[r["id"]] for r in sensor_a["rows"]} == {"img-0", "img-2"}
    priorities = body["priorities"]
    assert priorities and all("gain" in p and p["rows"] and p["filters"] for p in priorities)
    gains = [p["gain"] for p in priorities]
    assert gains == sorted(gains, reverse=True)
    assert {p["target"] for p in priorities} >= {"all", "class", "slice"}


def test_outlier_boxes_are_found(scene, admin, org_admin, post_ndjson, make_rows):
    """Thirty ordinary boxes and one huge one: the huge one is the outlier, with its row."""
    rows = scene["rows"]
    preds = {0: [((0, 0, 100, 100), 0.9)] + [((5 * n, 5 * n, 20 + n % 3, 20), 0.5) for n in range(30)]}
    preds[1] = [((0, 0, 600, 20), 0.9)]
    body = ndjson(prediction_lines(rows, preds))
    post_ndjson(org_admin, f"{base(scene['run'])}/predictions", body)
    admin.post(f"{base(scene['run'])}/ground_truth", {"project": str(scene["project"].id)}, format="json")
    boxes = admin.get(f"{base(scene['run'])}/errors").json()["outliers"]["boxes"]
    wide = [b for b in boxes if b["side"] == "prediction" and "wide" in b["reasons"]]
    assert wide and wide[0]["box"] == [0, 0, 600, 20]
    assert [r["global_key"] for r in wide[0]["rows"]] == ["img-1"]


def test_send_to_labeling_creates_a_batch_with_exactly_the_filtered_rows(
    scene, snapshot, admin, project_factory, make_rows
):
    target = project_factory(name="Relabel")
    run = scene["run"]
    wanted = {r["data_row"]["id"] for r in rows_of(admin, run, "status=false_positive")}
    assert len(wanted) == 2
    response = admin.post(
        f"{base(run)}/send_to_labeling",
        {"project": str(target.id), "rows": {"status": "false_positive"}, "batch_name": "fp", "priority": 5},
        format="json",
    )
    assert response.status_code == 201, response.content
    batch = response.json()["batch"]
    tasks = Task.objects.filter(batch_id=batch)
    assert {str(t.data_row_id) for t in tasks} == wanted
    assert {t.priority for t in tasks} == {5}
    # With a metadata and split filter too.
    response = admin.post(
        f"{base(run)}/send_to_labeling",
        {"project": str(target.id), "rows": {"metadata.sensor": "a", "split": "valid"}, "batch_name": "a-valid"},
        format="json",
    )
    assert response.status_code == 201
    assert {str(t.data_row_id) for t in Task.objects.filter(batch_id=response.json()["batch"])} == {
        str(scene["rows"][2].id)
    }
    # A slice of the data distribution (into another project: those rows are already queued in the first).
    other = project_factory(name="Relabel 2")
    response = admin.post(
        f"{base(run)}/send_to_labeling",
        {"project": str(other.id), "slice": {"field": "metadata.sensor", "value": "b"}, "batch_name": "b"},
        format="json",
    )
    assert response.status_code == 201
    assert {str(t.data_row_id) for t in Task.objects.filter(batch_id=response.json()["batch"])} == {
        str(scene["rows"][1].id),
        str(scene["rows"][3].id),
    }


def test_send_to_labeling_validates(scene, snapshot, admin, project_factory):
    target = project_factory(name="Relabel")
    url = f"{base(scene['run'])}/send_to_labeling"
    for body in (
        {"project": str(target.id), "batch_name": "x"},  # neither rows nor slice
        {"project": str(target.id), "rows": {"colour": "red"}, "batch_name": "x"},
        {"project": str(target.id), "rows": {"status": "true_positive", "iou_gt": 2}, "batch_name": "x"},  # empty
        {"project": str(target.id), "slice": {"priority": 999}, "batch_name": "x"},
        {"project": str(target.id), "rows": {}, "batch_name": "x", "extra": 1},
    ):
        assert admin.post(url, body, format="json").status_code == 400, body


def test_permissions(scene, snapshot, client_for, users_by_role, make_user, other_org):
    run, project = scene["run"], scene["project"]
    from apps.accounts.models import User

    stranger = User.objects.get(organization=other_org, role="admin")
    urls = [
        ("post", f"{base(run)}/ground_truth", {"project": str(project.id)}),
        ("get", f"{base(run)}/metrics", None),
        ("get", f"{base(run)}/rows", None),
        ("get", f"{base(run)}/errors", None),
        ("post", f"{base(run)}/send_to_labeling", {"project": str(project.id), "rows": {}, "batch_name": "x"}),
    ]
    for method, url, body in urls:
        for role in ("labeler", "reviewer", "expert"):
            client = client_for(users_by_role[role])
            response = getattr(client, method)(url, body, format="json") if body else client.get(url)
            assert response.status_code == 403, (role, url)
        foreign = client_for(stranger)
        response = getattr(foreign, method)(url, body, format="json") if body else foreign.get(url)
        assert response.status_code == 404, url
        assert getattr(APIClient(), method)(url).status_code == 401
    # A project of another organization is a 404 even for this organization's admin.
    from apps.labeling import services as labeling_services
    from apps.ontologies import services as ontology_services

    foreign_ontology = ontology_services.ontology_create(
        organization=other_org, name="o", tools=[{"name": "car", "tool": "bbox"}], classifications=[], actor=stranger
    )
    foreign_project = labeling_services.project_create(actor=stranger, name="p", ontology=foreign_ontology)
    admin = client_for(users_by_role["admin"])
    response = admin.post(f"{base(run)}/ground_truth", {"project": str(foreign_project.id)}, format="json")
    assert response.status_code == 404


def test_a_team_manager_may_snapshot(scene, client_for, make_user, org):
    """Team managers work with runs and see every project's work in their organization."""
    manager = make_user(role="team_manager", organization=org, username="tm")
    response = client_for(manager).post(
        f"{base(scene['run'])}/ground_truth", {"project": str(scene["project"].id)}, format="json"
    )
    assert response.status_code == 201


def test_label_document_helper_is_valid():
    assert label_document(3) == [{"name": "weather", "answer": {"name": "sunny"}}]


def test_moving_rows_between_splits_invalidates_the_cache(scene, snapshot, admin, org_admin):
    from apps.predictions import services as prediction_services

    url = f"{base(scene['run'])}/errors"
    before = {(s["field"], s["value"]): s["row_count"] for s in admin.get(url).json()["data_distribution"]}
    assert before[("split", "train")] == 2
    prediction_services.model_run_rows_set(
        actor=org_admin, model_run=scene["run"], split="train", data_row_ids=[str(scene["rows"][2].id)]
    )
    after = {(s["field"], s["value"]): s["row_count"] for s in admin.get(url).json()["data_distribution"]}
    assert after[("split", "train")] == 3


def test_results_kept_per_run_are_capped(scene, snapshot, admin, monkeypatch):
    from apps.diagnostics import services

    monkeypatch.setattr(services, "MAX_RESULTS_PER_RUN", 2)
    for iou in ("0.3", "0.5", "0.7"):
        assert admin.get(f"{base(scene['run'])}/metrics?iou={iou}").status_code == 200
    assert sorted(MetricsResult.objects.values_list("iou", flat=True)) == [0.5, 0.7]


def test_errors_with_an_embedding_lists_the_catalog_outliers(scene, snapshot, admin, org_admin):
    from apps.catalog import services as catalog_services

    space = catalog_services.embedding_space_create(actor=org_admin, name="clip", dims=2)
    vectors = [[1.0, 0.0], [0.99, 0.05], [0.98, -0.05], [-1.0, 0.1]]  # img-3 points the other way
    items = [{"data_row": str(r.id), "vector": v} for r, v in zip(scene["rows"], vectors, strict=True)]
    catalog_services.embedding_vectors_upload(actor=org_admin, space=space, items=items)
    url = f"{base(scene['run'])}/errors?embedding={space.id}"
    assert admin.get(url).json()["outliers"]["embedding"]["status"] == "not_computed"
    catalog_services.space_analysis_compute(space=space, clusters=1, neighbors=2)
    found = admin.get(url).json()["outliers"]["embedding"]
    assert found["status"] == "ok"
    assert found["rows"][0]["data_row"]["global_key"] == "img-3"
    assert admin.get(f"{base(scene['run'])}/errors?embedding=nope").status_code in (400, 404)
