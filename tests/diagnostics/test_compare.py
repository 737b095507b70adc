"""Comparing two model runs on the hand-made scene of `conftest.py`.

Run v1 is the scene's run; run v2 predicts:

| row   | sensor | v1 (conftest)          | v2                         | flip   |
|-------|--------|------------------------|----------------------------|--------|
| img-0 | a      | TP, TP                 | the same                   | —      |
| img-1 | b      | FP far away, C missed  | C exactly (0.7): TP        | fixed  |
| img-2 | a      | TP                     | nothing: D missed (FN)     | broken |
| img-3 | b      | FP                     | nothing: correct           | fixed  |

Overall at IoU 0.5: v1 precision 3/5, recall 3/4; v2 precision 3/3, recall 3/4.
"""

from __future__ import annotations

import pytest
from django.test import Client

from apps.diagnostics.models import GroundTruth
from apps.labeling.models import Task
from apps.labeling.services import label_revision_create
from apps.ontologies import services as ontology_services
from apps.predictions import services as prediction_services
from tests.diagnostics.conftest import PREDS, SPLITS, ndjson, prediction_lines, vehicle

pytestmark = pytest.mark.django_db

V2 = {
    0: PREDS[0],
    1: [((0, 0, 100, 100), 0.7)],
    2: [],
    3: [],
}


@pytest.fixture
def admin(org_admin, client_for):
    return client_for(org_admin)


def snapshot(admin, run, project):
    response = admin.post(f"/api/v1/model_runs/{run.id}/ground_truth", {"project": str(project.id)}, format="json")
    assert response.status_code == 201, response.content


@pytest.fixture
def runs(scene, admin, org_admin, post_ndjson):
    rows, project = scene["rows"], scene["project"]
    v2 = prediction_services.model_run_create(actor=org_admin, model=scene["model"], name="v2")
    for split in ("train", "valid"):
        prediction_services.model_run_rows_set(
            actor=org_admin,
            model_run=v2,
            split=split,
            data_row_ids=[str(rows[i].id) for i in SPLITS if SPLITS[i] == split],
        )
    lines = [line for line in prediction_lines(rows, V2) if line["name"] == "vehicle"]
    response = post_ndjson(org_admin, f"/api/v1/model_runs/{v2.id}/predictions", ndjson(lines))
    assert response.status_code == 200 and response.json()["failed"] == 0, response.content
    snapshot(admin, scene["run"], project)
    snapshot(admin, v2, project)
    return scene["run"], v2


def compare(admin, *runs, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return admin.get(f"/api/v1/model_runs/compare?runs={','.join(str(r.id) for r in runs)}&{query}")


def vehicle_id(scene) -> str:
    tree = scene["run"].ontology_version.tree
    return next(t["schema_id"] for t in tree["tools"] if t["name"] == "vehicle")


def test_deltas_per_class_and_overall_match_each_runs_own_metrics(scene, runs, admin):
    v1, v2 = runs
    response = compare(admin, v1, v2)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["common_rows"] == 4 and body["ground_truth_differs"] == 0 and body["baseline"] == str(v1.id)
    (cmp,) = body["comparisons"]
    assert cmp["run"] == str(v2.id) and cmp["against"] == str(v1.id)
    overall = cmp["overall"]
    assert overall["precision"] == {"a": 0.6, "b": 1.0, "delta": 0.4, "sign": "up"}
    assert overall["recall"] == {"a": 0.75, "b": 0.75, "delta": 0.0, "sign": "same"}
    # Every delta is b − a of the runs' own /metrics (the cached results).
    m1 = admin.get(f"/api/v1/model_runs/{v1.id}/metrics").json()
    m2 = admin.get(f"/api/v1/model_runs/{v2.id}/metrics").json()
    assert overall["map50"]["a"] == m1["map50"] and overall["map50"]["b"] == m2["map50"]
    assert overall["map"]["delta"] == pytest.approx(m2["map"] - m1["map"], abs=1e-6)
    vehicle = next(c for c in cmp["classes"] if c["schema_id"] == vehicle_id(scene))
    c1 = next(c for c in m1["classes"] if c["schema_id"] == vehicle_id(scene))
    c2 = next(c for c in m2["classes"] if c["schema_id"] == vehicle_id(scene))
    for key, source in (("ap50", "ap50"), ("map", "ap_coco"), ("precision", "precision"), ("recall", "recall")):
        assert vehicle[key]["a"] == c1[source] and vehicle[key]["b"] == c2[source], key
        assert vehicle[key]["delta"] == pytest.approx(c2[source] - c1[source], abs=1e-6)
    assert vehicle["ap50"]["sign"] == ("up" if c2["ap50"] > c1["ap50"] else "down")
    assert cmp["flipped"] == {"broken": 1, "fixed": 2}


def test_deltas_per_metadata_slice(scene, runs, admin):
    v1, v2 = runs
    body = compare(admin, v1, v2, slice_by="metadata.sensor").json()
    slices = {s["value"]: s for s in body["comparisons"][0]["slices"]}
    assert set(slices) == {"a", "b"} and slices["a"]["rows"] == 2 and slices["b"]["rows"] == 2
    # sensor a (img-0, img-2): v1 finds A, B, D; v2 misses D.
    assert slices["a"]["overall"]["recall"]["a"] == 1.0
    assert slices["a"]["overall"]["recall"]["b"] == pytest.approx(2 / 3, abs=1e-6)
    assert slices["a"]["overall"]["recall"]["sign"] == "down"
    assert slices["a"]["overall"]["precision"]["sign"] == "same"
    # sensor b (img-1, img-3): v1 gets nothing right, v2 everything.
    assert slices["b"]["overall"]["precision"] == {"a": 0.0, "b": 1.0, "delta": 1.0, "sign": "up"}
    assert slices["b"]["overall"]["recall"]["delta"] == 1.0
    by_split = compare(admin, v1, v2, slice_by="split").json()["comparisons"][0]["slices"]
    assert {s["value"] for s in by_split} == {"train", "valid"}


def test_flipped_rows_filtered_and_paged(scene, runs, admin):
    v1, v2 = runs
    rows = scene["rows"]
    base = f"/api/v1/model_runs/compare/flipped?runs={v1.id},{v2.id}"
    body = admin.get(base).json()
    assert body["count"] == 3 and body["next"] is None
    found = {r["data_row"]["global_key"]: r["direction"] for r in body["results"]}
    assert found == {"img-1": "fixed", "img-2": "broken", "img-3": "fixed"}
    broken = admin.get(f"{base}&direction=broken").json()["results"]
    assert [(r["data_row"]["id"], r["classes"]) for r in broken] == [(str(rows[2].id), [vehicle_id(scene)])]
    assert admin.get(f"{base}&class={vehicle_id(scene)}").json()["count"] == 3
    assert admin.get(f"{base}&class=no-such-class").json()["count"] == 0
    seen = []
    url = f"{base}&page_size=2"
    while url:
        page = admin.get(url).json()
        assert len(page["results"]) <= 2
        seen += [r["data_row"]["id"] for r in page["results"]]
        url = page["next"]
    assert seen == sorted(str(rows[i].id) for i in (1, 2, 3))
    assert admin.get(f"{base}&direction=sideways").status_code == 400
    assert admin.get(f"{base}&page_size=0").status_code == 400
    assert admin.get(f"{base}&cursor=%%%").status_code == 400


def test_only_common_rows_with_the_same_ground_truth_are_compared(scene, runs, admin):
    v1, v2 = runs
    rows = scene["rows"]
    # img-3 leaves v2's ground truth; img-0's label is corrected and v2 snapshotted again: differs from v1's.
    label = scene["labels"][rows[0].id]
    label_revision_create(
        task=Task.objects.get(pk=label.task_id), author=label.labeler, annotations=[vehicle(0, 0, 100, 100)]
    )
    snapshot(admin, v2, scene["project"])
    GroundTruth.objects.filter(model_run=v2, data_row=rows[3]).delete()
    body = compare(admin, v1, v2).json()
    assert body["common_rows"] == 2 and body["ground_truth_differs"] == 1
    # Over img-1 and img-2 only: v1 has TP (D) and FP + FN on img-1; v2 TP (C) and FN (D).
    overall = body["comparisons"][0]["overall"]
    assert overall["precision"]["a"] == 0.5 and overall["precision"]["b"] == 1.0
    assert overall["recall"]["a"] == 0.5 and overall["recall"]["b"] == 0.5


def test_bad_run_lists_and_other_ontologies_are_400(scene, runs, admin, org, org_admin):
    v1, v2 = runs
    assert admin.get("/api/v1/model_runs/compare").status_code == 400
    assert admin.get(f"/api/v1/model_runs/compare?runs={v1.id}").status_code == 400
    assert admin.get(f"/api/v1/model_runs/compare?runs={v1.id},{v1.id}").status_code == 400
    assert admin.get(f"/api/v1/model_runs/compare?runs={v1.id},{v2.id}&bogus=1").status_code == 400
    other_ontology = ontology_services.ontology_create(
        organization=org, name="animals", tools=[{"name": "cat", "tool": "bbox"}], classifications=[], actor=org_admin
    )
    model = prediction_services.model_create(actor=org_admin, name="cats", ontology=other_ontology)
    cats = prediction_services.model_run_create(actor=org_admin, model=model, name="c1")
    response = admin.get(f"/api/v1/model_runs/compare?runs={v1.id},{cats.id}")
    assert response.status_code == 400 and response.json()["error"]["details"]["runs"]


def test_runs_without_common_ground_truth_are_409(scene, runs, admin, org_admin):
    v1, _ = runs
    empty = prediction_services.model_run_create(actor=org_admin, model=scene["model"], name="v3")
    response = admin.get(f"/api/v1/model_runs/compare?runs={v1.id},{empty.id}")
    assert response.status_code == 409 and response.json()["error"]["code"] == "no_common_ground_truth"


def test_other_organization_is_404_and_roles_without_models_403(scene, runs, client_for, other_org, make_user):
    v1, v2 = runs
    url = f"/api/v1/model_runs/compare?runs={v1.id},{v2.id}"
    outsider = make_user(role="admin", organization=other_org, username="outsider-admin")
    assert client_for(outsider).get(url).status_code == 404
    assert client_for(outsider).get(url.replace("compare?", "compare/flipped?")).status_code == 404
    labeler = scene["members"]["labeler"]
    assert client_for(labeler).get(url).status_code == 403


def test_compare_page_shows_signed_deltas_and_the_flip_gallery(scene, runs, org_admin):
    v1, v2 = runs
    scene["model"].name = "<b>bold</b>"
    scene["model"].save()
    browser = Client()
    browser.force_login(org_admin)
    # Ticked runs (`run=`) in any order: the oldest is the baseline.
    response = browser.get(f"/model_runs/compare/?run={v2.id}&run={v1.id}&slice_by=metadata.sensor")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<b>bold</b>" not in html and "&lt;b&gt;bold&lt;/b&gt;" in html
    assert 'class="delta delta-up"' in html and "+0.400" in html  # precision went up
    assert 'class="delta delta-down"' in html  # recall of sensor a went down
    gallery = html[html.index('id="flip-gallery"') :]
    assert gallery.count('<figure class="gallery-item flip') == 3
    assert gallery.count("flip-broken") == 1
    assert "broken" in html and 'data-value="a"' in html
    # Linked from the runs page and from a run's page.
    assert 'action="/model_runs/compare/"' in browser.get("/model_runs/").content.decode()
    run_page = browser.get(f"/model_runs/{v1.id}/diagnostics/").content.decode()
    assert 'id="compare-with"' in run_page and str(v2.id) in run_page
    only_broken = browser.get(f"/model_runs/compare/?runs={v1.id},{v2.id}&direction=broken").content.decode()
    assert only_broken[only_broken.index('id="flip-gallery"') :].count('<figure class="gallery-item flip') == 1
