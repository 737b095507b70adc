"""Input limits: body size, JSON nesting, annotations per label, string lengths, page size — each a clear 4xx in the
house error shape, and nothing stored."""

from __future__ import annotations

import json

import pytest

from apps.core import json_limits
from apps.datasets.models import DataRow, Dataset
from apps.labeling.models import Label
from tests.security.world import annotations, box

pytestmark = pytest.mark.django_db


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def error_of(response) -> dict:
    body = response.json()
    assert set(body["error"]) == {"code", "message", "details"}, body
    return body["error"]


def test_depth_limit_is_exact():
    assert not json_limits.depth_exceeds(json.loads(nested(64)), 64)
    assert json_limits.depth_exceeds(json.loads(nested(65)), 64)
    assert not json_limits.depth_exceeds({"a": [1, {"b": "c"}]}, 3)
    assert json_limits.depth_exceeds({"a": [1, {"b": []}]}, 3)
    with pytest.raises(ValueError):
        json_limits.loads(nested(100_000))


@pytest.mark.parametrize("depth", [65, 5_000, 200_000])
def test_deeply_nested_json_bodies_are_a_400(world, client_for, depth):
    before = Dataset.objects.count()
    body = '{"name": "deep", "description": ' + nested(depth) + "}"
    response = client_for(world.admin).generic(
        "POST", "/api/v1/datasets", body.encode(), content_type="application/json"
    )
    assert response.status_code == 400
    assert error_of(response)["code"] == "too_deep"
    assert Dataset.objects.count() == before


def test_oversized_json_body_is_a_413(world, client_for, settings):
    settings.TDP_MAX_JSON_BODY_BYTES = 10_000
    response = client_for(world.admin).generic(
        "POST", "/api/v1/datasets", json.dumps({"name": "x" * 20_000}).encode(), content_type="application/json"
    )
    assert response.status_code == 413
    assert error_of(response)["code"] == "payload_too_large"


def test_deeply_nested_import_rows_are_reported_per_row(world, client_for):
    dataset = world.dataset
    lines = [
        json.dumps({"global_key": "fine-row", "row_data": "https://example.com/fine.jpg"}),
        '{"global_key": "deep", "row_data": ' + nested(100_000) + "}",
    ]
    response = client_for(world.admin).generic(
        "POST",
        f"/api/v1/datasets/{dataset.pk}/data_rows",
        ("\n".join(lines) + "\n").encode(),
        content_type="application/x-ndjson",
    )
    assert response.status_code == 200, response.content
    result = response.json()
    assert result["failed"] == 1 and result["errors"][0]["index"] == 1
    assert DataRow.objects.filter(dataset=dataset, global_key="fine-row").exists()


def test_deeply_nested_json_array_import_is_a_400(world, client_for):
    body = '[{"global_key": "deep", "row_data": ' + nested(100_000) + "}]"
    response = client_for(world.admin).generic(
        "POST", f"/api/v1/datasets/{world.dataset.pk}/data_rows", body.encode(), content_type="application/json"
    )
    assert response.status_code in (400, 413)
    error_of(response)


def test_deeply_nested_prediction_lines_are_reported_per_line(world, client_for):
    line = '{"name": "vehicle", "bbox": ' + nested(100_000) + ', "data_row": {"global_key": "x"}}\n'
    response = client_for(world.admin).generic(
        "POST",
        f"/api/v1/model_runs/{world.ids['run']}/predictions",
        line.encode(),
        content_type="application/x-ndjson",
    )
    assert response.status_code == 200, response.content
    assert response.json()["failed"] == 1


def test_deeply_nested_annotations_on_the_label_page_are_refused(world, client):
    client.force_login(world.people["labeler"])
    labels = Label.objects.count()
    response = client.post(f"/tasks/{world.ids['open_task']}/label", {"annotations": nested(100_000)})
    assert response.status_code in (200, 400)
    assert Label.objects.count() == labels


def test_more_than_5000_annotations_per_label_is_a_413(world, client_for, settings):
    assert settings.TDP_MAX_ANNOTATIONS_PER_LABEL == 5000
    labels = Label.objects.count()
    document = [box(left=i % 500, top=i % 400, width=5, height=5) for i in range(5001)]
    response = client_for(world.people["labeler"]).post(
        f"/api/v1/tasks/{world.ids['open_task']}/labels", {"annotations": document}, format="json"
    )
    assert response.status_code == 413
    error = error_of(response)
    assert error["code"] == "too_many_annotations" and error["details"]["limit"] == 5000
    assert Label.objects.count() == labels


def test_the_annotation_limit_applies_to_reviewer_edits_too(world, client_for, settings):
    settings.TDP_MAX_ANNOTATIONS_PER_LABEL = 3
    response = client_for(world.people["reviewer"]).post(
        f"/api/v1/labels/{world.ids['label']}/reviews",
        {"decision": "approve", "annotations": [*annotations(), box(), box()]},
        format="json",
    )
    assert response.status_code == 413
    assert error_of(response)["code"] == "too_many_annotations"


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("post", "/api/v1/datasets", {"name": "n" * 100_000}),
        ("patch", "/api/v1/datasets/{dataset}", {"description": "d" * 3_000_000}),
        ("post", "/api/v1/projects", {"name": "p" * 100_000, "ontology": "{ontology}"}),
        ("post", "/api/v1/slices", {"name": "s" * 100_000}),
        ("post", "/api/v1/models", {"name": "m" * 100_000, "ontology": "{ontology}"}),
        ("post", "/api/v1/metadata_fields", {"name": "f" * 100_000, "kind": "string"}),
        ("post", "/api/v1/issues/{issue}/comments", {"text": "c" * 1_000_000}),
        ("patch", "/api/v1/users/{user}", {"first_name": "u" * 100_000}),
    ],
)
def test_overlong_strings_are_a_4xx(world, client_for, method, url, body):
    fill = {key: world.ids[key] for key in ("dataset", "ontology", "issue", "user")}
    data = {k: v.format(**fill) if isinstance(v, str) and v.startswith("{") else v for k, v in body.items()}
    response = getattr(client_for(world.admin), method)(url.format(**fill), data, format="json")
    assert response.status_code in (400, 413), (url, response.status_code, response.content[:300])
    error_of(response)


@pytest.mark.parametrize("value", ["1001", "0", "-1", "abc", "1e3", "99999999999999999999"])
def test_page_size_out_of_range_is_a_400(world, client_for, value):
    for url in ("/api/v1/datasets", "/api/v1/data_rows", f"/api/v1/projects/{world.ids['project']}/labels"):
        response = client_for(world.admin).get(url, {"page_size": value})
        assert response.status_code == 400, url
        assert error_of(response)["code"] == "invalid_page_size"


def test_page_size_at_the_maximum_is_served(world, client_for):
    response = client_for(world.admin).get("/api/v1/data_rows", {"page_size": "1000"})
    assert response.status_code == 200
    assert len(response.json()["results"]) == DataRow.objects.filter(organization=world.organization).count()


def test_a_value_the_database_refuses_is_a_400_not_a_500():
    from django.db import DataError

    from apps.core.exceptions import api_exception_handler

    response = api_exception_handler(DataError("value too long for type character varying(200)"), {})
    assert response is not None and response.status_code == 400
    assert response.data["error"]["code"] == "invalid_value"
