"""Embedding spaces and vector upload: validation per item, upsert, permissions and tenancy."""

from __future__ import annotations

import numpy as np
import pytest

from apps.catalog.domain.vectors import decode
from apps.catalog.models import EmbeddingSpace, EmbeddingVector

pytestmark = pytest.mark.django_db


def test_manager_creates_a_space_and_lists_it(manager_client, labeler_client):
    response = manager_client.post("/api/v1/embeddings", {"name": "clip-vit", "dims": 512}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["dims"] == 512 and body["vector_count"] == 0
    listed = labeler_client.get("/api/v1/embeddings").json()["results"]
    assert [s["name"] for s in listed] == ["clip-vit"]
    assert labeler_client.get(f"/api/v1/embeddings/{body['id']}").status_code == 200


@pytest.mark.parametrize("payload", [{"name": "x", "dims": 0}, {"name": "x", "dims": 4097}, {"name": "x"}])
def test_space_dims_are_validated(manager_client, payload):
    response = manager_client.post("/api/v1/embeddings", payload, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"]


def test_duplicate_space_name_is_a_conflict(manager_client):
    assert manager_client.post("/api/v1/embeddings", {"name": "a", "dims": 3}, format="json").status_code == 201
    response = manager_client.post("/api/v1/embeddings", {"name": "a", "dims": 3}, format="json")
    assert response.status_code == 409


def test_labeler_may_not_create_or_upload(labeler_client, space, dataset, make_rows):
    rows = make_rows(dataset, 1)
    assert labeler_client.post("/api/v1/embeddings", {"name": "b", "dims": 3}, format="json").status_code == 403
    response = labeler_client.post(
        f"/api/v1/embeddings/{space.id}/vectors", [{"data_row": str(rows[0].id), "vector": [1] * 8}], format="json"
    )
    assert response.status_code == 403
    assert not EmbeddingVector.objects.exists()


def test_upload_stores_good_vectors_and_reports_each_bad_one(manager_client, space, dataset, make_rows):
    rows = make_rows(dataset, 3)
    body = [
        {"data_row": str(rows[0].id), "vector": [1, 0, 0, 0, 0, 0, 0, 0]},
        {"global_key": rows[1].global_key, "vector": [0, 1, 0, 0, 0, 0, 0, 0.5]},
        {"data_row": str(rows[2].id), "vector": [1, 2]},
        {"data_row": str(rows[2].id), "vector": [1, "NaN", 0, 0, 0, 0, 0, 0]},
        {"global_key": "nope", "vector": [1] * 8},
        {"data_row": "not-an-id", "vector": [1] * 8},
        {"data_row": str(rows[0].id), "global_key": "x", "vector": [1] * 8},
        {"data_row": str(rows[0].id), "vector": [2] * 8},
        "junk",
    ]
    response = manager_client.post(f"/api/v1/embeddings/{space.id}/vectors", body, format="json")
    assert response.status_code == 200, response.json()
    result = response.json()
    assert (result["created"], result["updated"], result["failed"]) == (2, 0, 7)
    assert [e["index"] for e in result["errors"]] == [2, 3, 4, 5, 6, 7, 8]
    assert "dimensions" in result["errors"][0]["message"]
    assert "unknown global_key" in result["errors"][2]["message"]
    stored = EmbeddingVector.objects.get(space=space, data_row=rows[1])
    assert decode(stored.vector, 8).tolist() == [0, 1, 0, 0, 0, 0, 0, 0.5]
    assert len(bytes(stored.vector)) == 32
    space.refresh_from_db()
    assert space.version == 1


def test_upload_upserts_and_bumps_the_version(manager_client, space, dataset, make_rows):
    rows = make_rows(dataset, 1)
    url = f"/api/v1/embeddings/{space.id}/vectors"
    manager_client.post(url, [{"data_row": str(rows[0].id), "vector": [1] * 8}], format="json")
    result = manager_client.post(url, [{"data_row": str(rows[0].id), "vector": [2] * 8}], format="json").json()
    assert (result["created"], result["updated"]) == (0, 1)
    assert decode(EmbeddingVector.objects.get().vector, 8).tolist() == [2] * 8
    space.refresh_from_db()
    assert space.version == 2


def test_upload_rejects_non_json_and_non_arrays(manager_client, space):
    url = f"/api/v1/embeddings/{space.id}/vectors"
    assert manager_client.generic("POST", url, b"{not json", content_type="application/json").status_code == 400
    assert manager_client.post(url, {"a": 1}, format="json").status_code == 400
    assert manager_client.generic("POST", url, b"[]", content_type="text/csv").status_code == 400


def test_other_organization_cannot_see_or_fill_a_space(client_for, other_admin, space, dataset, make_rows):
    rows = make_rows(dataset, 1)
    client = client_for(other_admin)
    assert client.get(f"/api/v1/embeddings/{space.id}").status_code == 404
    assert client.get("/api/v1/embeddings").json()["results"] == []
    response = client.post(
        f"/api/v1/embeddings/{space.id}/vectors", [{"data_row": str(rows[0].id), "vector": [1] * 8}], format="json"
    )
    assert response.status_code == 404
    # their own space cannot reference our rows either
    theirs = client.post("/api/v1/embeddings", {"name": "theirs", "dims": 8}, format="json").json()
    result = client.post(
        f"/api/v1/embeddings/{theirs['id']}/vectors",
        [{"data_row": str(rows[0].id), "vector": [1] * 8}, {"global_key": rows[0].global_key, "vector": [1] * 8}],
        format="json",
    ).json()
    assert result["failed"] == 2 and result["created"] == 0
    assert EmbeddingSpace.objects.get(pk=theirs["id"]).version == 0


def test_anonymous_gets_401(api_client, space):
    assert api_client.get("/api/v1/embeddings").status_code == 401
    assert api_client.post(f"/api/v1/embeddings/{space.id}/vectors", [], format="json").status_code == 401


def test_vector_too_many_items_is_413(manager_client, space, monkeypatch):
    from apps.catalog import services

    monkeypatch.setattr(services, "MAX_VECTORS_PER_REQUEST", 2)
    body = [{"global_key": "x", "vector": [1] * 8}] * 3
    assert manager_client.post(f"/api/v1/embeddings/{space.id}/vectors", body, format="json").status_code == 413


def test_vectors_are_float32(space, manager, dataset, make_rows):
    from tests.catalog.conftest import put_vectors

    rows = make_rows(dataset, 1)
    put_vectors(manager, space, rows, np.array([[0.1] * 8]))
    assert decode(EmbeddingVector.objects.get().vector, 8).dtype == np.float32
