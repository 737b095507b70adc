"""Datasets, metadata fields and data row listing: filters, pagination, query counts, tenancy and roles."""

from __future__ import annotations

import pytest

from apps.accounts.models import User
from apps.core.models import AuditEvent
from apps.datasets.models import DataRow, Dataset
from tests.datasets.conftest import ndjson

pytestmark = pytest.mark.django_db

WRITERS = {"admin", "team_manager"}


def test_create_and_list_datasets(manager_client, users_by_role, client_for):
    response = manager_client.post("/api/v1/datasets", {"name": "cars", "description": "<b>escaped</b>"}, format="json")
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["row_count"] == 0 and created["name"] == "cars"
    labeler = client_for(users_by_role["labeler"])
    listing = labeler.get("/api/v1/datasets").json()
    assert [d["id"] for d in listing["results"]] == [created["id"]]
    assert labeler.get(f"/api/v1/datasets/{created['id']}").json()["description"] == "<b>escaped</b>"


def test_dataset_create_rejects_unknown_fields(manager_client):
    response = manager_client.post("/api/v1/datasets", {"name": "x", "colour": "red"}, format="json")
    assert response.status_code == 400
    assert "colour" in response.json()["error"]["details"]


@pytest.mark.parametrize("role", ["admin", "team_manager", "reviewer", "labeler", "expert"])
def test_role_matrix(role, users_by_role, client_for, dataset, post_rows):
    client = client_for(users_by_role[role])
    allowed = role in WRITERS
    create = client.post("/api/v1/datasets", {"name": f"by {role}"}, format="json")
    assert create.status_code == (201 if allowed else 403)
    imported = post_rows(client, dataset, ndjson([{"global_key": f"{role}-1", "row_data": "https://x.org/a.png"}]))
    assert imported.status_code == (200 if allowed else 403)
    field = client.post("/api/v1/metadata_fields", {"name": f"f_{role}", "kind": "string"}, format="json")
    assert field.status_code == (201 if allowed else 403)
    # everybody in the organization reads
    assert client.get("/api/v1/datasets").status_code == 200
    assert client.get(f"/api/v1/datasets/{dataset.id}/data_rows").status_code == 200
    assert client.get("/api/v1/metadata_fields").status_code == 200
    patch = client.patch(f"/api/v1/datasets/{dataset.id}", {"name": "renamed"}, format="json")
    assert patch.status_code == (200 if allowed else 403)
    storage = client.get("/api/v1/storage_integrations")
    assert storage.status_code == (200 if role == "admin" else 403)


def test_other_organization_gets_404_everywhere(other_dataset, manager_client, post_rows, manager):
    from apps.datasets import services

    admin = User.objects.get(organization=other_dataset.organization, role="admin")
    services.data_rows_import(
        actor=admin,
        dataset=other_dataset,
        fmt="ndjson",
        chunks=[ndjson([{"global_key": "theirs", "row_data": "https://x.org/a.png"}])],
    )
    their_row = DataRow.objects.get(global_key="theirs")
    base = f"/api/v1/datasets/{other_dataset.id}"
    assert manager_client.get(base).status_code == 404
    assert manager_client.patch(base, {"name": "x"}, format="json").status_code == 404
    assert manager_client.delete(base).status_code == 404
    assert manager_client.get(f"{base}/data_rows").status_code == 404
    assert (
        post_rows(manager_client, other_dataset, ndjson([{"global_key": "x", "row_data": "https://a"}])).status_code
        == 404
    )
    assert manager_client.post(f"{base}/uploads", {}, format="multipart").status_code == 404
    assert manager_client.get(f"/api/v1/data_rows/{their_row.id}").status_code == 404
    assert manager_client.delete(f"/api/v1/data_rows/{their_row.id}").status_code == 404
    assert manager_client.get(f"/api/v1/data_rows/{their_row.id}/content").status_code == 404
    assert manager_client.get("/api/v1/data_rows").json()["results"] == []
    assert manager_client.get("/api/v1/datasets").json()["results"] == []
    assert manager_client.get("/api/v1/datasets/not-a-uuid").status_code == 404
    assert DataRow.objects.filter(pk=their_row.pk).exists()


def test_unauthenticated_is_401(api_client, dataset):
    assert api_client.get("/api/v1/datasets").status_code == 401
    assert api_client.get(f"/api/v1/datasets/{dataset.id}/data_rows").status_code == 401


def test_metadata_field_rules(manager_client):
    assert (
        manager_client.post("/api/v1/metadata_fields", {"name": "split", "kind": "string"}, format="json").status_code
        == 409
    )
    assert (
        manager_client.post("/api/v1/metadata_fields", {"name": "tag", "kind": "string"}, format="json").status_code
        == 409
    )
    enum_without_options = manager_client.post("/api/v1/metadata_fields", {"name": "w", "kind": "enum"}, format="json")
    assert enum_without_options.status_code == 400
    bad_kind = manager_client.post("/api/v1/metadata_fields", {"name": "w", "kind": "blob"}, format="json")
    assert bad_kind.status_code == 400
    ok = manager_client.post(
        "/api/v1/metadata_fields", {"name": "weather", "kind": "enum", "options": ["sun", "rain"]}, format="json"
    )
    assert ok.status_code == 201 and ok.json()["options"] == ["sun", "rain"]
    dup = manager_client.post("/api/v1/metadata_fields", {"name": "weather", "kind": "string"}, format="json")
    assert dup.status_code == 409


@pytest.fixture
def populated(manager_client, dataset, metadata_fields, post_rows):
    rows = []
    for i in range(30):
        rows.append(
            {
                "global_key": f"row-{i:02d}",
                "row_data": f"https://example.com/{i}.jpg" if i % 3 else f"text number {i}",
                "media_type": "image" if i % 3 else "text",
                "metadata": {
                    "camera": "front" if i % 2 else "rear",
                    "score": i,
                    "split": ["train", "valid", "test"][i % 3],
                    "tag": ["even"] if i % 2 == 0 else ["odd", "x"],
                },
                "attachments": [{"type": "raw_text", "value": f"note {i}", "name": "n"}],
            }
        )
    assert post_rows(manager_client, dataset, ndjson(rows)).json()["created"] == 30
    return dataset


def _keys(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {r["global_key"] for r in response.json()["results"]}


def test_metadata_and_media_type_filters(manager_client, populated):
    url = f"/api/v1/datasets/{populated.id}/data_rows?page_size=100"
    assert len(_keys(manager_client.get(url))) == 30
    assert _keys(manager_client.get(url + "&metadata.score=7")) == {"row-07"}
    assert _keys(manager_client.get(url + "&metadata.score=7.0")) == {"row-07"}
    fronts = _keys(manager_client.get(url + "&metadata.camera=front"))
    assert fronts == {f"row-{i:02d}" for i in range(30) if i % 2}
    combined = _keys(manager_client.get(url + "&metadata.camera=front&metadata.split=valid&media_type=image"))
    assert combined == {f"row-{i:02d}" for i in range(30) if i % 2 and i % 3 == 1}
    assert _keys(manager_client.get(url + "&metadata.tag=even")) == {f"row-{i:02d}" for i in range(0, 30, 2)}
    assert _keys(manager_client.get(url + "&media_type=text")) == {f"row-{i:02d}" for i in range(0, 30, 3)}
    bad = manager_client.get(url + "&metadata.nope=1")
    assert bad.status_code == 400
    assert manager_client.get(url + "&metadata.score=abc").status_code == 400
    assert manager_client.get(url + "&media_type=audio").status_code == 400


def test_metadata_range_filters(manager_client, populated, manager):
    from apps.datasets.models import DataRow

    url = f"/api/v1/datasets/{populated.id}/data_rows?page_size=100"
    assert _keys(manager_client.get(url + "&metadata.score__gte=27")) == {"row-27", "row-28", "row-29"}
    window = _keys(manager_client.get(url + "&metadata.score__gt=3&metadata.score__lte=5.5"))
    assert window == {"row-04", "row-05"}
    assert _keys(manager_client.get(url + "&metadata.score__lt=0")) == set()
    DataRow.objects.filter(global_key="row-01").update(metadata={"captured_at": "2025-01-03T00:10:00+00:00"})
    DataRow.objects.filter(global_key="row-02").update(metadata={"captured_at": "2025-01-03T02:00:00+00:00"})
    # a naive time is UTC, an offset is converted: 01:00+01:00 is midnight UTC
    hour = "&metadata.captured_at__gte=2025-01-03T01:00:00%2B01:00&metadata.captured_at__lt=2025-01-03T01:00:00"
    assert _keys(manager_client.get(url + hour)) == {"row-01"}
    wrong_kind = manager_client.get(url + "&metadata.camera__gte=a")
    assert wrong_kind.status_code == 400 and "metadata.camera__gte" in wrong_kind.json()["error"]["details"]
    assert manager_client.get(url + "&metadata.score__gte=high").status_code == 400
    assert manager_client.get(url + "&metadata.nope__lt=1").status_code == 400


def test_created_range_and_org_wide_listing(manager_client, populated, manager):
    from datetime import timedelta

    from django.utils import timezone

    from apps.datasets import services

    second = services.dataset_create(actor=manager, name="second")
    services.data_rows_import(
        actor=manager,
        dataset=second,
        fmt="ndjson",
        chunks=[ndjson([{"global_key": "elsewhere", "row_data": "https://x.org/a.png"}])],
    )
    DataRow.objects.filter(global_key="row-00").update(created_at=timezone.now() - timedelta(days=3))
    all_rows = _keys(manager_client.get("/api/v1/data_rows?page_size=100"))
    assert len(all_rows) == 31
    assert _keys(manager_client.get(f"/api/v1/data_rows?dataset={second.id}")) == {"elsewhere"}
    since = (timezone.now() - timedelta(days=1)).isoformat()
    recent = manager_client.get("/api/v1/data_rows", {"created_after": since, "page_size": 100})
    assert "row-00" not in _keys(recent) and len(_keys(recent)) == 30
    old = manager_client.get("/api/v1/data_rows", {"created_before": since})
    assert _keys(old) == {"row-00"}
    assert manager_client.get("/api/v1/data_rows?created_after=yesterday").status_code == 400


def test_listing_is_paginated_with_bounded_queries(manager_client, populated, django_assert_max_num_queries):
    base = f"/api/v1/datasets/{populated.id}/data_rows?page_size="
    url = base + "10"
    seen: list[str] = []
    with django_assert_max_num_queries(10):  # auth + throttle (7) + dataset, rows, attachments: not per row
        manager_client.get(base + "30")
    page = manager_client.get(url).json()
    while True:
        seen += [r["global_key"] for r in page["results"]]
        assert all(r["attachments"][0]["type"] == "raw_text" for r in page["results"])
        if not page["next"]:
            break
        page = manager_client.get(page["next"]).json()
    assert len(seen) == 30 == len(set(seen))
    assert manager_client.get(base + "1001").status_code == 400


def test_row_detail_and_delete(manager_client, populated, client_for, users_by_role):
    row = DataRow.objects.get(global_key="row-05")
    detail = client_for(users_by_role["labeler"]).get(f"/api/v1/data_rows/{row.id}")
    assert detail.status_code == 200
    body = detail.json()
    assert body["metadata"]["score"] == 5 and body["dataset"] == str(populated.id)
    assert body["content_url"] == f"/api/v1/data_rows/{row.id}/content"
    assert client_for(users_by_role["labeler"]).delete(f"/api/v1/data_rows/{row.id}").status_code == 403
    assert manager_client.delete(f"/api/v1/data_rows/{row.id}").status_code == 204
    assert not DataRow.objects.filter(pk=row.pk).exists()
    assert AuditEvent.objects.filter(action="data_row.deleted", object_id=str(row.id)).exists()


def test_dataset_detail_counts_and_delete(manager_client, populated):
    assert manager_client.get(f"/api/v1/datasets/{populated.id}").json()["row_count"] == 30
    listed = manager_client.get("/api/v1/datasets").json()["results"][0]
    assert listed["row_count"] == 30
    assert manager_client.delete(f"/api/v1/datasets/{populated.id}").status_code == 204
    assert not Dataset.objects.filter(pk=populated.id).exists()
    assert DataRow.objects.count() == 0
