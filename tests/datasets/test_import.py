"""POST /datasets/{id}/data_rows: formats, upsert, per-row errors, limits, encodings."""

from __future__ import annotations

import json

import pytest

from apps.core.models import AuditEvent, Job
from apps.datasets.models import Attachment, DataRow
from tests.datasets.conftest import ndjson

pytestmark = pytest.mark.django_db


def row(key: str, **extra):
    return {"global_key": key, "row_data": f"https://example.com/{key}.jpg", **extra}


def test_ndjson_import_creates_rows_with_metadata(manager_client, dataset, metadata_fields, post_rows):
    body = ndjson(
        [
            row("a", metadata={"camera": "front", "score": 0.5, "split": "train", "tag": ["night", "blurry"]}),
            row("b", media_type="image", width=640, height=480, external_id="ext-b"),
            {"global_key": "c", "row_data": "plain inline text", "media_type": "text"},
        ]
    )
    response = post_rows(manager_client, dataset, body)
    assert response.status_code == 200, response.content
    assert response.json() == {"created": 3, "updated": 0, "failed": 0, "errors": [], "errors_truncated": False}
    a = DataRow.objects.get(global_key="a")
    assert a.metadata == {"camera": "front", "score": 0.5, "split": "train", "tag": ["night", "blurry"]}
    assert a.dataset_id == dataset.id and a.organization_id == dataset.organization_id
    b = DataRow.objects.get(global_key="b")
    assert (b.width, b.height, b.external_id) == (640, 480, "ext-b")
    assert DataRow.objects.get(global_key="c").media_type == "text"
    assert AuditEvent.objects.filter(action="data_rows.imported", object_id=str(dataset.id)).count() == 1


def test_json_array_import(manager_client, dataset, post_rows):
    body = json.dumps([row("x1"), row("x2", attachments=[{"type": "raw_text", "value": "hi", "name": "note"}])])
    response = post_rows(manager_client, dataset, body, "application/json")
    assert response.status_code == 200, response.content
    assert response.json()["created"] == 2
    x2 = DataRow.objects.get(global_key="x2")
    assert list(x2.attachments.values_list("type", "value", "name")) == [("raw_text", "hi", "note")]


def test_json_array_split_across_many_chunks(manager_client, dataset, post_rows, monkeypatch):
    from apps.datasets import services

    monkeypatch.setattr(services, "CHUNK_BYTES", 7)  # every element straddles chunk boundaries
    rows = [row(f"k{i}", width=100 + i) for i in range(50)]
    response = post_rows(manager_client, dataset, json.dumps(rows, indent=2), "application/json")
    assert response.status_code == 200, response.content
    assert response.json()["created"] == 50
    assert sorted(DataRow.objects.values_list("width", flat=True)) == list(range(100, 150))


def test_csv_import_with_quoted_newlines_and_unicode(manager_client, dataset, metadata_fields, post_rows):
    body = (
        "global_key,row_data,media_type,metadata.camera,metadata.score,width\r\n"
        'ü-1,"multi\nline, ""quoted"" text",text,Kamera Ø,1.5,\r\n'
        "img-2,https://example.com/日本.jpg,image,,7,320\r\n"
    )
    response = post_rows(manager_client, dataset, body, "text/csv; charset=utf-8")
    assert response.status_code == 200, response.content
    assert response.json()["created"] == 2
    text_row = DataRow.objects.get(global_key="ü-1")
    assert text_row.row_data == 'multi\nline, "quoted" text'
    assert text_row.metadata == {"camera": "Kamera Ø", "score": 1.5}
    image_row = DataRow.objects.get(global_key="img-2")
    assert image_row.metadata == {"score": 7} and image_row.width == 320
    assert image_row.row_data == "https://example.com/日本.jpg"


def test_csv_unknown_column_is_rejected(manager_client, dataset, post_rows):
    response = post_rows(manager_client, dataset, "global_key,row_data,colour\na,https://x.org/a.png,red\n", "text/csv")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_csv_header"
    assert DataRow.objects.count() == 0


def test_upsert_updates_existing_rows(manager_client, dataset, metadata_fields, post_rows):
    post_rows(manager_client, dataset, ndjson([row("a", metadata={"camera": "front"}), row("b")]))
    first_id = DataRow.objects.get(global_key="a").id
    response = post_rows(manager_client, dataset, ndjson([row("a", metadata={"camera": "rear"}, width=10), row("c")]))
    assert response.json() == {"created": 1, "updated": 1, "failed": 0, "errors": [], "errors_truncated": False}
    a = DataRow.objects.get(global_key="a")
    assert a.id == first_id and a.metadata == {"camera": "rear"} and a.width == 10
    assert DataRow.objects.count() == 3


def test_upsert_replaces_attachments(manager_client, dataset, post_rows):
    attachment = {"type": "image", "value": "https://example.com/ctx.png", "name": "ctx"}
    post_rows(manager_client, dataset, ndjson([row("a", attachments=[attachment, attachment])]))
    assert Attachment.objects.count() == 2
    post_rows(manager_client, dataset, ndjson([row("a", attachments=[{**attachment, "name": "new"}])]))
    assert list(Attachment.objects.values_list("name", flat=True)) == ["new"]


def test_mixed_good_and_bad_rows(manager_client, dataset, metadata_fields, post_rows):
    lines = [
        json.dumps(row("good-0")),
        '{"global_key": "broken", ',  # malformed JSON line
        json.dumps({"row_data": "https://example.com/x.png"}),  # no global_key
        json.dumps(row("good-1", metadata={"score": "high"})),  # number field given a string
        json.dumps(row("good-2", metadata={"weather": "snow"})),  # not an enum option
        json.dumps(row("good-3", metadata={"unknown_field": 1})),
        json.dumps(row("good-4", metadata={"captured_at": "yesterday"})),
        json.dumps(row("good-5", metadata={"camera": "x" * 4097})),
        json.dumps(row("good-6", width=-3)),
        json.dumps({"global_key": "good-7", "row_data": "not a url"}),  # image needs a URL
        json.dumps(row("good-8", colour="red")),
        "[1, 2]",
        json.dumps(row("good-9", metadata={"captured_at": "2024-05-01T10:00:00+02:00", "split": "valid"})),
    ]
    response = post_rows(manager_client, dataset, "\n".join(lines) + "\n")
    assert response.status_code == 200
    body = response.json()
    assert body["created"] == 2 and body["updated"] == 0 and body["failed"] == 11
    assert [e["index"] for e in body["errors"]] == list(range(1, 12))
    messages = {e["index"]: e["message"] for e in body["errors"]}
    assert "malformed JSON" in messages[1]
    assert "global_key is required" in messages[2]
    assert "metadata.score must be a number" in messages[3]
    assert "metadata.weather must be one of" in messages[4]
    assert "unknown metadata field" in messages[5]
    assert "ISO 8601" in messages[6]
    assert "longer than 4096" in messages[7]
    assert "width" in messages[8]
    assert "URL" in messages[9]
    assert "unknown field" in messages[10]
    assert body["errors"][2]["global_key"] == "good-1"
    assert set(DataRow.objects.values_list("global_key", flat=True)) == {"good-0", "good-9"}
    assert DataRow.objects.get(global_key="good-9").metadata["captured_at"] == "2024-05-01T08:00:00+00:00"


def test_duplicate_global_keys_in_one_body(manager_client, dataset, post_rows):
    response = post_rows(manager_client, dataset, ndjson([row("dup", width=1), row("other"), row("dup", width=2)]))
    body = response.json()
    assert body["created"] == 2 and body["failed"] == 1
    assert body["errors"] == [
        {"index": 2, "global_key": "dup", "message": "duplicate global_key: row 0 of this import has it too"}
    ]
    assert DataRow.objects.get(global_key="dup").width == 1


def test_duplicate_global_keys_across_batches(manager_client, dataset, post_rows, settings):
    settings.TDP_IMPORT_BATCH_SIZE = 2
    response = post_rows(manager_client, dataset, ndjson([row("a"), row("b"), row("c"), row("a"), row("d")]))
    body = response.json()
    assert (body["created"], body["failed"]) == (4, 1)
    assert body["errors"][0]["index"] == 3


def test_global_key_of_another_dataset_is_reported(manager_client, manager, dataset, post_rows):
    from apps.datasets import services

    second = services.dataset_create(actor=manager, name="second")
    post_rows(manager_client, dataset, ndjson([row("shared")]))
    response = post_rows(manager_client, second, ndjson([row("shared"), row("fresh")]))
    body = response.json()
    assert (body["created"], body["updated"], body["failed"]) == (1, 0, 1)
    assert "another dataset" in body["errors"][0]["message"]
    assert DataRow.objects.get(global_key="shared").dataset_id == dataset.id


def test_global_keys_are_per_organization(manager_client, dataset, other_dataset, client_for, post_rows):
    from apps.accounts.models import User

    other_admin = User.objects.get(organization=other_dataset.organization, role="admin")
    post_rows(manager_client, dataset, ndjson([row("same-key")]))
    response = post_rows(client_for(other_admin), other_dataset, ndjson([row("same-key")]))
    assert response.json()["created"] == 1
    assert DataRow.objects.filter(global_key="same-key").count() == 2


def test_bad_utf8_is_rejected_and_nothing_is_stored(manager_client, dataset, post_rows, settings):
    settings.TDP_IMPORT_BATCH_SIZE = 1
    body = ndjson([row("a"), row("b")]) + b'{"global_key": "\xff\xfe", "row_data": "x"}\n'
    response = post_rows(manager_client, dataset, body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_encoding"
    assert DataRow.objects.count() == 0  # earlier batches were rolled back


def test_truncated_json_array_is_rejected_without_partial_write(manager_client, dataset, post_rows, settings):
    settings.TDP_IMPORT_BATCH_SIZE = 1
    body = json.dumps([row("a"), row("b")])[:-10]
    response = post_rows(manager_client, dataset, body, "application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_body"
    assert DataRow.objects.count() == 0


def test_json_body_must_be_an_array(manager_client, dataset, post_rows):
    response = post_rows(manager_client, dataset, json.dumps(row("a")), "application/json")
    assert response.status_code == 400
    assert "array" in response.json()["error"]["message"]


def test_nul_characters_and_lone_surrogates_are_row_errors(manager_client, dataset, post_rows):
    body = (
        json.dumps(row("nul\u0000key")) + "\n" + '{"global_key": "s\\ud800", "row_data": "https://x.org/a"}\n'
    ).encode() + ndjson([row("ok")])
    response = post_rows(manager_client, dataset, body)
    body_json = response.json()
    assert response.status_code == 200
    assert (body_json["created"], body_json["failed"]) == (1, 2)


def test_nan_metadata_is_rejected(manager_client, dataset, metadata_fields, post_rows):
    response = post_rows(
        manager_client, dataset, '{"global_key":"n","row_data":"https://x.org/a","metadata":{"score":NaN}}\n'
    )
    assert response.json()["failed"] == 1
    assert "finite" in response.json()["errors"][0]["message"]


def test_wrong_content_type_is_415(manager_client, dataset, post_rows):
    response = post_rows(manager_client, dataset, "<rows/>", "application/xml")
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"
    response = post_rows(manager_client, dataset, "a,b", "text/csv; charset=latin-1")
    assert response.status_code == 415


def test_empty_body_is_400(manager_client, dataset, post_rows):
    response = post_rows(manager_client, dataset, b"")
    assert response.status_code == 400


def test_oversized_body_is_413_with_the_limit(manager_client, dataset, post_rows, settings):
    settings.TDP_MAX_IMPORT_BYTES = 1000
    response = post_rows(manager_client, dataset, ndjson([row(f"k{i}") for i in range(100)]))
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert "1000 bytes" in response.json()["error"]["message"]
    assert DataRow.objects.count() == 0


def test_body_longer_than_declared_limit_is_cut_off(dataset):
    """The stream reader enforces the cap itself, whatever Content-Length said."""
    import io

    from apps.core.errors import PayloadTooLarge
    from apps.datasets.services import iter_chunks

    with pytest.raises(PayloadTooLarge):
        list(iter_chunks(io.BytesIO(b"x" * 5000), limit=4096, size=1000))


def test_large_body_runs_as_a_job(
    manager_client, manager, dataset, metadata_fields, post_rows, settings, django_capture_on_commit_callbacks
):
    settings.TDP_IMPORT_SYNC_MAX_BYTES = 100
    settings.TDP_IMPORT_BATCH_SIZE = 3
    body = ndjson([row(f"j{i}", metadata={"score": i}) for i in range(10)] + [row("bad", metadata={"score": "x"})])
    with django_capture_on_commit_callbacks(execute=True):
        response = post_rows(manager_client, dataset, body)
    assert response.status_code == 202, response.content
    job_id = response.json()["job"]
    job = manager_client.get(f"/api/v1/jobs/{job_id}").json()
    assert job["status"] == "succeeded", job
    assert job["result"]["created"] == 10 and job["result"]["failed"] == 1
    assert job["result"]["errors"][0]["index"] == 10
    assert job["progress"] == {"done": len(body), "total": len(body)}
    assert DataRow.objects.filter(dataset=dataset).count() == 10
    assert Job.objects.get(pk=job_id).params["storage_name"]
    from django.core.files.storage import default_storage

    assert not default_storage.exists(Job.objects.get(pk=job_id).params["storage_name"])


def test_large_broken_body_fails_the_job_without_writes(
    manager_client, dataset, post_rows, settings, django_capture_on_commit_callbacks
):
    settings.TDP_IMPORT_SYNC_MAX_BYTES = 10
    settings.TDP_IMPORT_BATCH_SIZE = 1
    body = json.dumps([row("a"), row("b")])[:-3]
    with django_capture_on_commit_callbacks(execute=True):
        response = post_rows(manager_client, dataset, body, "application/json")
    job = manager_client.get(f"/api/v1/jobs/{response.json()['job']}").json()
    assert job["status"] == "failed"
    assert "incomplete" in job["error"] or "Malformed" in job["error"]
    assert DataRow.objects.count() == 0


def test_mixed_new_and_existing_rows_in_one_batch(manager_client, dataset, post_rows, settings):
    """A batch with existing keys leaves the fast COPY path for the upsert, and all-new batches return to it."""
    settings.TDP_IMPORT_BATCH_SIZE = 2
    post_rows(manager_client, dataset, ndjson([row("a", width=1)]))
    response = post_rows(manager_client, dataset, ndjson([row("a", width=2), row("b"), row("c"), row("d")]))
    assert response.json() == {"created": 3, "updated": 1, "failed": 0, "errors": [], "errors_truncated": False}
    assert DataRow.objects.get(global_key="a").width == 2
    assert DataRow.objects.count() == 4


def test_import_forbidden_for_readers_and_invisible_across_orgs(
    client_for, users_by_role, dataset, other_dataset, post_rows
):
    body = ndjson([row("x")])
    for role in ("labeler", "reviewer", "expert"):
        response = post_rows(client_for(users_by_role[role]), dataset, body)
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "permission_denied"
    assert post_rows(client_for(users_by_role["admin"]), other_dataset, body).status_code == 404
    assert DataRow.objects.count() == 0


def test_identical_reimport_counts_as_updated_without_rewriting(manager_client, dataset, metadata_fields, post_rows):
    body = ndjson([row("same", metadata={"camera": "a"}), row("changes", metadata={"camera": "a"})])
    post_rows(manager_client, dataset, body)
    before = dict(DataRow.objects.values_list("global_key", "updated_at"))
    second = ndjson([row("same", metadata={"camera": "a"}), row("changes", metadata={"camera": "b"})])
    response = post_rows(manager_client, dataset, second)
    assert response.json() == {"created": 0, "updated": 2, "failed": 0, "errors": [], "errors_truncated": False}
    after = dict(DataRow.objects.values_list("global_key", "updated_at"))
    assert after["same"] == before["same"]  # a no-op upsert writes nothing
    assert after["changes"] > before["changes"]
    assert DataRow.objects.get(global_key="changes").metadata == {"camera": "b"}
