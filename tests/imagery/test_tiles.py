"""Large images: the upload stores the original, rows over the threshold get a Deep Zoom pyramid from the tiling
job, tiles are served to the row's organization only, and the row's content is the pyramid's thumbnail."""

from __future__ import annotations

import io

import numpy as np
import pytest
import pyvips
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from apps.core.models import Job
from apps.datasets.models import DataRow
from apps.imagery.domain.deepzoom import level_size, max_level, thumbnail_level, tile_exists, total_tiles
from apps.imagery.models import ImagingAsset

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.TDP_TILE_MIN_PIXELS = 1_000_000
    return tmp_path / "media"


def gradient_jpeg(width: int, height: int) -> bytes:
    """Red = x / 16 mod 256, green = y / 16 mod 256: a tile's position can be read back from its pixels."""
    xy = pyvips.Image.xyz(width, height)
    red = ((xy[0] / 16).floor() % 256).cast("uchar")
    green = ((xy[1] / 16).floor() % 256).cast("uchar")
    blue = (red * 0).cast("uchar")
    return red.bandjoin([green, blue]).jpegsave_buffer(Q=95)


def upload(client, dataset, name, blob):
    files = [SimpleUploadedFile(name, blob, "image/jpeg")]
    return client.post(f"/api/v1/datasets/{dataset.id}/large_images", {"files": files}, format="multipart")


def test_deep_zoom_geometry():
    assert max_level(3000, 2000) == 12 and level_size(3000, 2000, 12) == (3000, 2000)
    assert level_size(3000, 2000, 11) == (1500, 1000) and level_size(3000, 2000, 0) == (1, 1)
    assert thumbnail_level(3000, 2000, 256) == 8 and level_size(3000, 2000, 8) == (188, 125)
    assert tile_exists(3000, 2000, 256, 12, 11, 7) and not tile_exists(3000, 2000, 256, 12, 12, 0)
    assert not tile_exists(3000, 2000, 256, 13, 0, 0) and not tile_exists(3000, 2000, 256, -1, 0, 0)
    # 12×8 + 6×4 + 3×2 + 2×1 + 1 × 9 single-tile levels
    assert total_tiles(3000, 2000, 256) == 96 + 24 + 6 + 2 + 9


def test_upload_tiles_and_serves_the_pyramid(
    manager_client, dataset, media_root, client_for, users_by_role, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(manager_client, dataset, "ortho.jpg", gradient_jpeg(3000, 2000))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["created"] == 1 and len(body["tiling"]) == 1
    job = Job.objects.get(pk=body["tiling"][0]["job"])
    assert job.status == "succeeded", job.error
    assert job.result["tiles"] == total_tiles(3000, 2000, 256)
    row = DataRow.objects.get(dataset=dataset)
    asset = ImagingAsset.objects.get(data_row=row)
    assert (row.width, row.height) == (3000, 2000) and asset.tile_status == "ready"
    assert (media_root / asset.source_name).read_bytes()[:3] == b"\xff\xd8\xff"  # the original is kept
    # the row's content is the one-tile thumbnail of the pyramid, not the 6-megapixel original
    content = manager_client.get(f"/api/v1/data_rows/{row.id}/content")
    assert Image.open(io.BytesIO(b"".join(content.streaming_content))).size == (188, 125)
    # a deepest-level tile holds the full-resolution pixels of its square
    tile = manager_client.get(f"/api/v1/data_rows/{row.id}/tiles/12/3_2.jpeg")
    assert tile.status_code == 200 and tile["Content-Type"] == "image/jpeg"
    pixels = np.asarray(Image.open(io.BytesIO(b"".join(tile.streaming_content))).convert("RGB"), dtype=int)
    assert pixels.shape == (256, 256, 3)
    assert abs(pixels[8, 8, 0] - (3 * 256 + 8) // 16) <= 2 and abs(pixels[8, 8, 1] - (2 * 256 + 8) // 16) <= 2
    edge = manager_client.get(f"/api/v1/data_rows/{row.id}/tiles/12/11_7.jpeg")  # the last column and row
    assert Image.open(io.BytesIO(b"".join(edge.streaming_content))).size == (3000 - 11 * 256, 2000 - 7 * 256)
    assert manager_client.get(f"/api/v1/data_rows/{row.id}/tiles/12/12_0.jpeg").status_code == 404
    assert manager_client.get(f"/api/v1/data_rows/{row.id}/tiles/13/0_0.jpeg").status_code == 404
    labeler = client_for(users_by_role["labeler"])
    assert labeler.get(f"/api/v1/data_rows/{row.id}/tiles/0/0_0.jpeg").status_code == 200
    info = manager_client.get(f"/api/v1/data_rows/{row.id}/imaging").json()
    assert info["tiles"] == {"status": "ready", "tile_size": 256, "format": "dzi"} and info["width"] == 3000


def test_other_organization_gets_404(
    other_org, make_user, client_for, manager_client, dataset, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        upload(manager_client, dataset, "ortho.jpg", gradient_jpeg(1200, 1000))
    row = DataRow.objects.get(dataset=dataset)
    stranger = client_for(make_user(role="admin", organization=other_org, username="stranger"))
    assert stranger.get(f"/api/v1/data_rows/{row.id}/tiles/0/0_0.jpeg").status_code == 404
    assert stranger.get(f"/api/v1/data_rows/{row.id}/imaging").status_code == 404


def test_small_images_stay_plain_rows_and_bad_files_are_reported(manager_client, dataset, media_root):
    small = upload(manager_client, dataset, "small.jpg", gradient_jpeg(500, 400))
    assert small.status_code == 201 and small.json()["tiling"] == []
    row = DataRow.objects.get(dataset=dataset)
    assert not ImagingAsset.objects.exists() and row.row_data.endswith("small.jpg")
    bad = upload(manager_client, dataset, "notes.jpg", b"this is not an image")
    assert bad.status_code == 201 and bad.json()["failed"] == 1 and "not an image" in bad.json()["errors"][0]["message"]
    assert DataRow.objects.count() == 1 and not list(media_root.rglob("notes.jpg"))


def test_a_failed_build_is_recorded(
    manager_client, dataset, media_root, django_capture_on_commit_callbacks, monkeypatch
):
    def explode(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("apps.imagery.services.tiles.build_pyramid", explode)
    with django_capture_on_commit_callbacks(execute=True):
        body = upload(manager_client, dataset, "ortho.jpg", gradient_jpeg(1200, 1000)).json()
    job = Job.objects.get(pk=body["tiling"][0]["job"])
    asset = ImagingAsset.objects.get()
    assert job.status == "failed" and "disk full" in job.error
    assert asset.tile_status == "failed" and asset.tile_error == "disk full"
