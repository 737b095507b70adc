"""Video data rows: upload, URL and import paths enqueue a PyAV probe; the figures become typed columns; unreadable
files get a clear per-row error; poster and strip are served; tenancy holds."""

from __future__ import annotations

import http.server
import io
import threading
from collections.abc import Iterator
from fractions import Fraction

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from apps.datasets.models import DataRow, VideoAsset, VideoStatus
from apps.datasets.video import frame_table, video_probe_row
from tests.datasets.conftest import ndjson
from tests.video.videos import make_video, vfr_pts

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def upload(client, dataset, files, media_type="video"):
    return client.post(
        f"/api/v1/datasets/{dataset.id}/uploads", {"files": files, "media_type": media_type}, format="multipart"
    )


def test_upload_probes_the_video(manager_client, dataset, django_capture_on_commit_callbacks):
    body = make_video(45, pts=vfr_pts(45), time_base=Fraction(1, 1000))
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(manager_client, dataset, [SimpleUploadedFile("clip.mp4", body, "video/mp4")])
    assert response.status_code == 201, response.content
    row = DataRow.objects.get(global_key="clip.mp4")
    assert row.media_type == "video" and (row.width, row.height) == (64, 48)
    asset = VideoAsset.objects.get(pk=row.pk)
    assert asset.status == VideoStatus.READY and asset.error == ""
    assert asset.frame_count == 45 and asset.variable_frame_rate and asset.codec == "mpeg4"
    table = frame_table(asset)
    assert table is not None and [table.time_of(i) for i in range(45)] == [Fraction(p, 1000) for p in vfr_pts(45)]

    video = manager_client.get(f"/api/v1/data_rows/{row.id}/video").json()
    assert video["status"] == "ready" and video["frame_count"] == 45
    assert video["frame_times"][:4] == [0.0, 0.033, 0.083, 0.1]
    assert video["variable_frame_rate"] is True and video["width"] == 64
    poster = manager_client.get(f"/api/v1/data_rows/{row.id}/video/poster")
    assert poster.status_code == 200 and poster["Content-Type"] == "image/jpeg"
    assert Image.open(io.BytesIO(poster.content)).size == (64, 48)
    strip = manager_client.get(f"/api/v1/data_rows/{row.id}/video/strip")
    assert strip.status_code == 200 and Image.open(io.BytesIO(strip.content)).size[1] == 90


def test_unreadable_upload_gets_a_per_row_error(manager_client, dataset, django_capture_on_commit_callbacks):
    files = [
        SimpleUploadedFile("good.mp4", make_video(10), "video/mp4"),
        SimpleUploadedFile("broken.mp4", b"this is no video" * 50, "video/mp4"),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        assert upload(manager_client, dataset, files).status_code == 201
    good = VideoAsset.objects.get(data_row__global_key="good.mp4")
    broken = VideoAsset.objects.get(data_row__global_key="broken.mp4")
    assert good.status == "ready" and good.frame_count == 10 and good.frame_rate == 30.0
    assert broken.status == "failed" and "Not a readable video" in broken.error
    body = manager_client.get(f"/api/v1/data_rows/{broken.data_row_id}/video").json()
    assert body["status"] == "failed" and "Not a readable video" in body["error"]
    missing = manager_client.get(f"/api/v1/data_rows/{broken.data_row_id}/video/poster")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "video_image_missing"


@pytest.fixture
def video_server(settings) -> Iterator[str]:
    files = {"/clip.mp4": make_video(30), "/broken.mp4": b"garbage" * 10}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = files.get(self.path)
            self.send_response(200 if body else 404)
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host = f"127.0.0.1:{server.server_address[1]}"
    settings.TDP_OUTBOUND_ALLOWED_HOSTS = [host]
    yield f"http://{host}"
    server.shutdown()


def test_url_rows_are_fetched_through_the_ssrf_guard(
    manager_client, dataset, post_rows, video_server, django_capture_on_commit_callbacks
):
    rows = [
        {"global_key": "a", "row_data": f"{video_server}/clip.mp4", "media_type": "video"},
        {"global_key": "b", "row_data": f"{video_server}/missing.mp4", "media_type": "video"},
        {"global_key": "c", "row_data": "http://10.0.0.1/private.mp4", "media_type": "video"},
        {"global_key": "d", "row_data": "just some text", "media_type": "video"},
        {"global_key": "e", "row_data": f"{video_server}/img.png"},  # an image row: never probed
    ]
    with django_capture_on_commit_callbacks(execute=True):
        response = post_rows(manager_client, dataset, ndjson(rows))
    assert response.status_code in (200, 201), response.content
    body = response.json()
    assert body["created"] == 4 and body["failed"] == 1
    assert "row_data of a video" in body["errors"][0]["message"]
    assets = {a.data_row.global_key: a for a in VideoAsset.objects.select_related("data_row")}
    assert set(assets) == {"a", "b", "c"}
    assert assets["a"].status == "ready" and assets["a"].frame_count == 30
    assert assets["b"].status == "failed" and "could not be fetched" in assets["b"].error
    assert assets["c"].status == "failed" and "could not be fetched" in assets["c"].error


def test_probe_twice_is_harmless(manager_client, dataset, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        upload(manager_client, dataset, [SimpleUploadedFile("c.mp4", make_video(12), "video/mp4")])
    row = DataRow.objects.get(global_key="c.mp4")
    first = VideoAsset.objects.get(pk=row.pk)
    again = video_probe_row(data_row_id=str(row.pk))
    assert again is not None and again.frame_count == 12 and again.status == "ready"
    assert VideoAsset.objects.filter(pk=row.pk).count() == 1
    assert first.poster != "" and again.poster != ""


def test_video_endpoints_are_tenant_scoped(
    manager_client, client_for, other_org, dataset, django_capture_on_commit_callbacks
):
    from apps.accounts.models import User

    with django_capture_on_commit_callbacks(execute=True):
        upload(manager_client, dataset, [SimpleUploadedFile("c.mp4", make_video(5), "video/mp4")])
    row = DataRow.objects.get(global_key="c.mp4")
    outsider = client_for(User.objects.get(organization=other_org, role="admin"))
    for path in ("video", "video/poster", "video/strip"):
        assert outsider.get(f"/api/v1/data_rows/{row.id}/{path}").status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        upload(manager_client, dataset, [SimpleUploadedFile("p.txt", b"hello", "text/plain")], media_type="text")
    text_row = DataRow.objects.get(global_key="p.txt")
    answer = manager_client.get(f"/api/v1/data_rows/{text_row.id}/video")
    assert answer.status_code == 404 and answer.json()["error"]["code"] == "not_a_video"
    assert not VideoAsset.objects.filter(pk=text_row.pk).exists()


def test_stream_serves_byte_ranges_for_seeking(manager_client, dataset, django_capture_on_commit_callbacks):
    from apps.core.models import AuditEvent

    body = make_video(20)
    with django_capture_on_commit_callbacks(execute=True):
        upload(manager_client, dataset, [SimpleUploadedFile("s.mp4", body, "video/mp4")])
    row = DataRow.objects.get(global_key="s.mp4")
    url = f"/api/v1/data_rows/{row.id}/video/stream"
    whole = manager_client.get(url)
    assert whole.status_code == 200 and whole["Content-Type"] == "video/mp4" and whole["Accept-Ranges"] == "bytes"
    assert b"".join(whole.streaming_content) == body
    part = manager_client.get(url, HTTP_RANGE="bytes=100-199")
    assert part.status_code == 206 and part["Content-Range"] == f"bytes 100-199/{len(body)}"
    assert b"".join(part.streaming_content) == body[100:200]
    tail = manager_client.get(url, HTTP_RANGE="bytes=-10")
    assert b"".join(tail.streaming_content) == body[-10:]
    open_end = manager_client.get(url, HTTP_RANGE=f"bytes={len(body) - 5}-")
    assert b"".join(open_end.streaming_content) == body[-5:]
    beyond = manager_client.get(url, HTTP_RANGE=f"bytes={len(body)}-")
    assert beyond.status_code == 416 and beyond["Content-Range"] == f"bytes */{len(body)}"
    assert AuditEvent.objects.filter(action="data_row.content_accessed", object_id=str(row.id)).count() == 1
