"""Multipart uploads stored through Django storages and served back safely; content access is audited."""

from __future__ import annotations

import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.core.models import AuditEvent
from apps.datasets.models import DataRow
from apps.datasets.services import sanitize_filename
from tests.datasets.conftest import ndjson

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def png_bytes(width: int = 2, height: int = 2) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


HTML = b"<html><script>alert(document.cookie)</script></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def upload(client, dataset, files, **fields):
    return client.post(f"/api/v1/datasets/{dataset.id}/uploads", {"files": files, **fields}, format="multipart")


def test_upload_creates_rows_and_serves_png_inline(manager_client, dataset, media_root):
    response = upload(manager_client, dataset, [SimpleUploadedFile("cat.png", png_bytes(), "image/png")])
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["created"] == 1 and body["failed"] == 0
    row = DataRow.objects.get(global_key="cat.png")
    assert row.row_data.startswith(f"upload://uploads/{dataset.organization_id}/")
    stored = list(media_root.rglob("cat.png"))
    assert len(stored) == 1 and stored[0].read_bytes() == png_bytes()
    content = manager_client.get(f"/api/v1/data_rows/{row.id}/content")
    assert content.status_code == 200
    assert content["Content-Type"] == "image/png"
    assert content["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in content["Content-Security-Policy"]
    assert b"".join(content.streaming_content) == png_bytes()
    event = AuditEvent.objects.get(action="data_row.content_accessed", object_id=str(row.id))
    assert event.extra["via"] == "storage"


@pytest.mark.parametrize(("name", "payload"), [("evil.png", HTML), ("vector.png", SVG), ("page.html", HTML)])
def test_html_or_svg_is_never_served_as_markup(manager_client, dataset, name, payload):
    response = upload(manager_client, dataset, [SimpleUploadedFile(name, payload, "text/html")])
    assert response.status_code == 201
    row = DataRow.objects.get(global_key=name)
    content = manager_client.get(f"/api/v1/data_rows/{row.id}/content")
    assert content.status_code == 200
    assert content["Content-Type"] == "application/octet-stream"
    assert content["Content-Disposition"].startswith("attachment;")
    assert content["X-Content-Type-Options"] == "nosniff"
    assert b"".join(content.streaming_content) == payload


def test_text_uploads_are_plain_text(manager_client, dataset):
    response = upload(manager_client, dataset, [SimpleUploadedFile("doc.html", HTML, "text/html")], media_type="text")
    assert response.status_code == 201
    content = manager_client.get(f"/api/v1/data_rows/{DataRow.objects.get().id}/content")
    assert content["Content-Type"] == "text/plain; charset=utf-8"
    assert content["X-Content-Type-Options"] == "nosniff"


def test_names_are_sanitized(manager_client, dataset, media_root):
    response = upload(
        manager_client,
        dataset,
        [SimpleUploadedFile("../../etc/passwd", b"x", "image/png"), SimpleUploadedFile("/abs/..\\win.png", b"y")],
    )
    assert response.status_code == 201, response.content
    keys = set(DataRow.objects.values_list("global_key", flat=True))
    assert keys == {"passwd", "win.png"}
    for row in DataRow.objects.all():
        assert ".." not in row.row_data
    for path in media_root.rglob("*"):
        assert path.resolve().is_relative_to(media_root.resolve())


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("../../x.png", "x.png"),
        ("C:\\Windows\\sys.ini", "sys.ini"),
        ("..", "file"),
        ("a b<c>.png", "a_b_c_.png"),
        (".hidden", "hidden"),
        ("x\u0000y.png", "x_y.png"),
        ("ünï.png", "un_.png"),
    ],
)
def test_sanitize_filename(raw, expected):
    result = sanitize_filename(raw)
    assert "/" not in result and "\\" not in result and ".." not in result
    if expected != "un_.png":
        assert result == expected


def test_upload_with_explicit_global_keys_and_limits(manager_client, dataset, settings):
    files = [SimpleUploadedFile("a.png", png_bytes()), SimpleUploadedFile("b.png", png_bytes())]
    response = upload(manager_client, dataset, files, global_key=["key-a", "key-b"])
    assert response.json()["created"] == 2
    assert set(DataRow.objects.values_list("global_key", flat=True)) == {"key-a", "key-b"}
    settings.TDP_MAX_UPLOAD_FILE_BYTES = 10
    too_big = upload(manager_client, dataset, [SimpleUploadedFile("c.png", png_bytes())])
    assert too_big.status_code == 413
    assert upload(manager_client, dataset, []).status_code == 400


def test_too_many_files_is_413(manager_client, dataset, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 2
    files = [SimpleUploadedFile(f"{i}.png", b"x") for i in range(3)]
    assert upload(manager_client, dataset, files).status_code == 413


def test_upload_roles(client_for, users_by_role, dataset):
    response = upload(client_for(users_by_role["labeler"]), dataset, [SimpleUploadedFile("a.png", b"x")])
    assert response.status_code == 403
    assert DataRow.objects.count() == 0


def test_inline_text_and_url_content(manager_client, dataset, post_rows, client_for, users_by_role):
    post_rows(
        manager_client,
        dataset,
        ndjson(
            [
                {"global_key": "t", "row_data": "<script>alert(1)</script>", "media_type": "text"},
                {"global_key": "u", "row_data": "https://images.example.com/a.jpg"},
            ]
        ),
    )
    labeler = client_for(users_by_role["labeler"])
    text = labeler.get(f"/api/v1/data_rows/{DataRow.objects.get(global_key='t').id}/content")
    assert text.status_code == 200
    assert text["Content-Type"] == "text/plain; charset=utf-8" and text["X-Content-Type-Options"] == "nosniff"
    assert text.content == b"<script>alert(1)</script>"
    url = labeler.get(f"/api/v1/data_rows/{DataRow.objects.get(global_key='u').id}/content")
    assert url.status_code == 302 and url["Location"] == "https://images.example.com/a.jpg"
    assert AuditEvent.objects.filter(action="data_row.content_accessed").count() == 2


def test_foreign_upload_reference_is_rejected_on_import(manager_client, dataset, other_dataset, post_rows):
    foreign = f"upload://uploads/{other_dataset.organization_id}/x/secret.png"
    response = post_rows(manager_client, dataset, ndjson([{"global_key": "steal", "row_data": foreign}]))
    assert response.json()["failed"] == 1
    assert "upload://" in response.json()["errors"][0]["message"]


def test_missing_upload_file_is_404_in_the_error_shape(manager_client, dataset, media_root):
    stored = upload(manager_client, dataset, [SimpleUploadedFile("gone.png", png_bytes(), "image/png")])
    assert stored.status_code == 201
    row = DataRow.objects.get(global_key="gone.png")
    for stored in media_root.rglob("gone.png"):
        stored.unlink()
    response = manager_client.get(f"/api/v1/data_rows/{row.id}/content")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "content_missing"
    assert not AuditEvent.objects.filter(action="data_row.content_accessed", object_id=str(row.id)).exists()
