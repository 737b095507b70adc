"""COCO detection results as a model run's predictions: the pure adapter (`domain/coco_results.py`) and the
`application/json` body of `POST /api/v1/model_runs/{id}/predictions`."""

from __future__ import annotations

import json

import pytest

from apps.ontologies import services as ontology_services
from apps.predictions import services
from apps.predictions.domain.coco_results import (
    CocoFormatError,
    categories_from_config,
    convert,
    parse_category_text,
    split_body,
)
from apps.predictions.models import Prediction
from tests.predictions.conftest import make_rows, members, ontology, project, project_factory  # noqa: F401

# --- the adapter, without a database ---------------------------------------------------------------------------------


def test_convert_maps_images_categories_and_boxes():
    results = [
        {"image_id": 1, "category_id": 3, "bbox": [10, 20.5, 30, 40], "score": 0.9},
        {"image_id": 2.0, "category_id": "3", "bbox": [0, 0, 5, 5], "score": 1},
    ]
    out = convert(results, images={"1": "img-0", "2": "img-1"}, categories={"3": "vehicle"})
    assert out.errors == []
    assert out.lines == [
        {
            "name": "vehicle",
            "bbox": {"left": 10.0, "top": 20.5, "width": 30.0, "height": 40.0},
            "confidence": 0.9,
            "data_row": {"global_key": "img-0"},
        },
        {
            "name": "vehicle",
            "bbox": {"left": 0.0, "top": 0.0, "width": 5.0, "height": 5.0},
            "confidence": 1.0,
            "data_row": {"global_key": "img-1"},
        },
    ]
    assert out.line_numbers == [1, 2]


def test_convert_reports_each_bad_result_with_its_position():
    results = [
        "nope",
        {"image_id": 9, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 0.5},
        {"image_id": 1, "category_id": 7, "bbox": [0, 0, 1, 1], "score": 0.5},
        {"image_id": 1, "category_id": 1, "bbox": [0, 0, 1], "score": 0.5},
        {"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, float("nan")], "score": 0.5},
        {"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 1.5},
        {"image_id": True, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 0.5},
        {"image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4], "score": 0.25},
    ]
    out = convert(results, images={"1": "a"}, categories={"1": "vehicle"})
    assert [e["line"] for e in out.errors] == [1, 2, 3, 4, 5, 6, 7]
    assert "not in the images list" in out.errors[1]["message"]
    assert "category_id 7" in out.errors[2]["message"]
    assert "score" in out.errors[5]["message"]
    assert out.line_numbers == [8] and out.lines[0]["confidence"] == 0.25


def test_string_image_ids_are_global_keys_and_int_ids_need_images():
    out = convert(
        [
            {"image_id": "img-3", "category_id": 1, "bbox": [0, 0, 1, 1], "score": 0.5},
            {"image_id": 4, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 0.5},
            {"image_id": "0007", "category_id": 1, "bbox": [0, 0, 1, 1], "score": 0.5},
        ],
        images={},
        categories={"1": "vehicle"},
    )
    assert out.lines[0]["data_row"] == {"global_key": "img-3"}
    assert out.lines[1]["data_row"] == {"global_key": "0007"}
    assert out.errors == [
        {"line": 2, "message": "image_id 4: send the COCO `images` list (id → file_name) with the results."}
    ]


def test_split_body_shapes():
    results, images, categories = split_body(
        {
            "images": [{"id": 1, "file_name": "img-0"}, {"id": 2, "file_name": "x.jpg", "global_key": "img-1"}],
            "categories": [{"id": 1, "name": "vehicle"}],
            "annotations": [{"image_id": 1}],
        }
    )
    assert (results, images, categories) == ([{"image_id": 1}], {"1": "img-0", "2": "img-1"}, {"1": "vehicle"})
    assert split_body([{"a": 1}]) == ([{"a": 1}], {}, {})
    for bad in ({"images": []}, 3, {"annotations": [], "images": [{"file_name": "no id"}]}):
        with pytest.raises(CocoFormatError):
            split_body(bad)


def test_category_text_and_config():
    assert parse_category_text("1 vehicle\n 2: person \n\n3=bike\nfour wheels") == (
        {"1": "vehicle", "2": "person", "3": "bike"},
        ["four wheels"],
    )
    assert categories_from_config({"coco_categories": {"1": "vehicle", "x": 3, "2.0": "b"}}) == {
        "1": "vehicle",
        "2": "b",
    }
    assert categories_from_config({"other": 1}) == {} and categories_from_config(None) == {}


# --- the API ----------------------------------------------------------------------------------------------------------


@pytest.fixture
def boxes_ontology(org, org_admin):
    """Plain box tools (a detector answers no nested questions; the vehicles ontology requires `kind`)."""
    return ontology_services.ontology_create(
        organization=org,
        name="boxes",
        tools=[{"name": "vehicle", "tool": "bbox"}, {"name": "cyclist", "tool": "bbox"}],
        classifications=[],
        actor=org_admin,
    )


@pytest.fixture
def run(boxes_ontology, org_admin):
    model = services.model_create(actor=org_admin, name="detector", ontology=boxes_ontology)
    return services.model_run_create(
        actor=org_admin, model=model, name="v1", config={"coco_categories": {"1": "vehicle", "2": "person"}}
    )


def post_json(client, run, body) -> object:
    return client.generic(
        "POST", f"/api/v1/model_runs/{run.id}/predictions", json.dumps(body), content_type="application/json"
    )


@pytest.mark.django_db
def test_api_imports_coco_results_through_the_run_categories(client_for, org_admin, run, make_rows):  # noqa: F811
    rows = make_rows(2)
    body = [
        {"image_id": rows[0].global_key, "category_id": 1, "bbox": [10, 20, 30, 40], "score": 0.8},
        {"image_id": rows[1].global_key, "category_id": 1, "bbox": [1, 2, 3, 4], "score": 0.4},
        {"image_id": rows[1].global_key, "category_id": 2, "bbox": [1, 2, 3, 4], "score": 0.4},  # no such feature
        {"image_id": "missing", "category_id": 1, "bbox": [1, 2, 3, 4], "score": 0.4},
        {"image_id": rows[0].global_key, "category_id": 9, "bbox": [1, 2, 3, 4], "score": 0.4},
    ]
    response = post_json(client_for(org_admin), run, body)
    assert response.status_code == 200, response.content
    result = response.json()
    assert (result["created"], result["failed"]) == (2, 3), result
    assert [e["line"] for e in result["errors"]] == [3, 4, 5]  # positions in the file, not in the NDJSON made of it
    assert "person" in result["errors"][0]["message"] and "missing" in result["errors"][1]["message"]
    stored = Prediction.objects.filter(model_run=run)
    assert stored.count() == 2
    first = stored.get(data_row=rows[0])
    assert first.confidence == pytest.approx(0.8)
    assert first.annotation["bbox"] == {"left": 10, "top": 20, "width": 30, "height": 40}
    again = post_json(client_for(org_admin), run, body[:2]).json()
    assert (again["created"], again["updated"]) == (0, 2)  # the same results again: no duplicates
    assert stored.count() == 2


@pytest.mark.django_db
def test_api_images_and_categories_in_the_body(client_for, org_admin, run, make_rows):  # noqa: F811
    rows = make_rows(1)
    body = {
        "images": [{"id": 7, "file_name": rows[0].global_key}],
        "categories": [{"id": 5, "name": "vehicle"}],
        "annotations": [{"image_id": 7, "category_id": 5, "bbox": [0, 0, 10, 10], "score": 0.5}],
    }
    result = post_json(client_for(org_admin), run, body).json()
    assert (result["created"], result["failed"]) == (1, 0), result


@pytest.mark.django_db
def test_api_bad_bodies_are_400s(client_for, org_admin, run):
    client = client_for(org_admin)
    broken = client.generic(
        "POST", f"/api/v1/model_runs/{run.id}/predictions", b"[{not json", content_type="application/json"
    )
    assert broken.status_code == 400 and broken.json()["error"]["code"] == "invalid_json"
    wrong = post_json(client, run, {"foo": 1})
    assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "not_coco_results"
    model = services.model_create(actor=org_admin, name="bare", ontology=run.model.ontology)
    bare = services.model_run_create(actor=org_admin, model=model, name="v1")
    no_categories = post_json(client, bare, [{"image_id": "a", "category_id": 1, "bbox": [0, 0, 1, 1], "score": 1}])
    assert no_categories.status_code == 400 and no_categories.json()["error"]["code"] == "no_coco_categories"


@pytest.mark.django_db
def test_api_roles_and_tenancy(client_for, members, run, other_org, make_user):  # noqa: F811
    body = [{"image_id": "img-0", "category_id": 1, "bbox": [0, 0, 1, 1], "score": 1}]
    assert post_json(client_for(members["labeler"]), run, body).status_code == 403
    stranger = make_user(role="admin", organization=other_org)
    assert post_json(client_for(stranger), run, body).status_code == 404
    assert Prediction.objects.count() == 0


@pytest.mark.django_db
def test_required_nested_questions_are_reported_per_result(client_for, org_admin, project, make_rows):  # noqa: F811
    """The vehicles ontology requires `kind` under a box: a COCO result cannot answer it, and says so."""
    rows = make_rows(1)
    model = services.model_create(actor=org_admin, name="strict", ontology=project.ontology)
    strict = services.model_run_create(
        actor=org_admin, model=model, name="v1", config={"coco_categories": {"1": "vehicle"}}
    )
    body = [{"image_id": rows[0].global_key, "category_id": 1, "bbox": [0, 0, 5, 5], "score": 0.5}]
    result = post_json(client_for(org_admin), strict, body).json()
    assert result["failed"] == 1 and result["errors"][0]["line"] == 1
    assert "kind" in result["errors"][0]["message"]


@pytest.mark.django_db
def test_api_coco_body_over_the_in_request_limit_is_413(client_for, org_admin, run, settings):
    settings.TDP_IMPORT_SYNC_MAX_BYTES = 50
    body = [{"image_id": "img-0", "category_id": 1, "bbox": [0, 0, 1, 1], "score": 1}] * 3
    response = post_json(client_for(org_admin), run, body)
    assert response.status_code == 413
    assert "NDJSON" in response.json()["error"]["message"]
    assert Prediction.objects.count() == 0
