"""Tile-service rows (XYZ/TMS): validation, the thumbnail and tiles fetched through the SSRF guard from a local
server, Web Mercator corners of a box within 1e-7°, GeoJSON export and the area filter."""

from __future__ import annotations

import io
import json
import math

import numpy as np
import pytest
from PIL import Image

from apps.datasets.models import DataRow
from apps.imagery.domain.xyz import px_to_lonlat
from apps.imagery.models import ImagingAsset
from apps.labeling import services as labeling
from tests.imagery.tile_server import template, tile_server

pytestmark = pytest.mark.django_db

BOUNDS = [13.37, 52.50, 13.42, 52.53]  # a piece of Berlin


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def tiles(settings):
    with tile_server() as httpd:
        settings.TDP_OUTBOUND_ALLOWED_HOSTS = [f"127.0.0.1:{httpd.server_address[1]}"]
        yield httpd


def create(client, dataset, **fields):
    body = {"global_key": "berlin", "bounds": BOUNDS, "min_zoom": 10, "max_zoom": 16, **fields}
    return client.post(f"/api/v1/datasets/{dataset.id}/tile_services", body, format="json")


def world_px(lon: float, lat: float, zoom: int) -> tuple[float, float]:
    world = 256 * 2**zoom
    phi = math.radians(lat)
    return (lon + 180) / 360 * world, (1 - math.asinh(math.tan(phi)) / math.pi) / 2 * world


def test_the_row_is_in_pixel_space_at_max_zoom_with_a_thumbnail_from_the_service(
    manager_client, dataset, tiles, media_root
):
    response = create(manager_client, dataset, url_template=template(tiles))
    assert response.status_code == 201, response.content
    row = DataRow.objects.get(pk=response.json()["data_row"])
    asset = ImagingAsset.objects.get(data_row=row)
    assert asset.kind == "xyz" and asset.crs == "EPSG:3857" and (asset.min_zoom, asset.max_zoom) == (10, 16)
    (left, top), (right, bottom) = world_px(BOUNDS[0], BOUNDS[3], 16), world_px(BOUNDS[2], BOUNDS[1], 16)
    assert (row.width, row.height) == (math.ceil(right) - math.floor(left), math.ceil(bottom) - math.floor(top))
    assert [asset.min_lon, asset.min_lat, asset.max_lon, asset.max_lat] == BOUNDS
    # the thumbnail: ≤ 256 px, made of the preview zoom's tiles (red = zoom × 10), fetched from the local server
    thumb = Image.open(media_root / row.row_data.removeprefix("upload://"))
    assert max(thumb.size) == 256 and abs(thumb.size[0] / thumb.size[1] - row.width / row.height) < 0.02
    zoom = int(np.asarray(thumb.convert("RGB"))[0, 0, 0]) // 10
    assert 10 <= zoom <= 16 and all(p.startswith(f"/tiles/{zoom}/") for p in tiles.requests)
    assert 1 <= len(tiles.requests) <= 4
    detail = manager_client.get(f"/api/v1/data_rows/{row.pk}/imaging").json()
    assert detail["xyz"] == {"min_zoom": 10, "max_zoom": 16, "tms": False, "tile_size": 256}
    assert "127.0.0.1" not in json.dumps(detail)  # the template (it may hold an API key) stays server-side


def test_tiles_are_proxied_only_inside_bounds_and_zoom_range_with_tms_flip(manager_client, dataset, tiles):
    xyz = create(manager_client, dataset, url_template=template(tiles)).json()["data_row"]
    x, y = (int(v // 256) for v in world_px(13.39, 52.51, 14))
    response = manager_client.get(f"/api/v1/data_rows/{xyz}/xyz/14/{x}/{y}")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert Image.open(io.BytesIO(response.content)).getpixel((5, 5)) == (140, x % 256, y % 256)
    for z, tx, ty in ((14, x + 50, y), (14, x, y - 50), (9, x >> 5, y >> 5), (17, x * 8, y * 8)):
        response = manager_client.get(f"/api/v1/data_rows/{xyz}/xyz/{z}/{tx}/{ty}")
        assert response.status_code == 404 and response.json()["error"]["code"] == "no_tile"
    assert manager_client.get(f"/api/v1/data_rows/{xyz}/xyz/14/-1/{y}").status_code == 404
    tms = create(manager_client, dataset, url_template=template(tiles), global_key="tms", tms=True).json()["data_row"]
    response = manager_client.get(f"/api/v1/data_rows/{tms}/xyz/14/{x}/{y}")
    assert Image.open(io.BytesIO(response.content)).getpixel((5, 5))[2] == (2**14 - 1 - y) % 256


def test_a_failing_service_is_a_502_and_an_unlisted_loopback_is_refused(manager_client, dataset, tiles, settings):
    xyz = create(manager_client, dataset, url_template=template(tiles)).json()["data_row"]
    broken = template(tiles).replace("/tiles/", "/missing/")
    ImagingAsset.objects.filter(data_row_id=xyz).update(url_template=broken)
    x, y = (int(v // 256) for v in world_px(13.39, 52.51, 14))
    response = manager_client.get(f"/api/v1/data_rows/{xyz}/xyz/14/{x}/{y}")
    assert response.status_code == 502 and "HTTP 404" in response.json()["error"]["message"]
    response = create(manager_client, dataset, url_template=broken, global_key="broken")
    assert response.status_code == 502
    settings.TDP_OUTBOUND_ALLOWED_HOSTS = []  # the SSRF guard: loopback is not public
    response = create(manager_client, dataset, url_template=template(tiles), global_key="ssrf")
    assert response.status_code == 400 and response.json()["error"]["code"] == "unsafe_url"
    assert not DataRow.objects.filter(global_key__in=["broken", "ssrf"]).exists()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"url_template": "https://t.example/{z}/{x}.png"}, "url_template"),
        ({"url_template": "https://t.example/{z}/{x}/{y}/{x}.png"}, "url_template"),
        ({"url_template": "https://t.example/{z}/{x}/{y}.png?k={key}"}, "url_template"),
        ({"url_template": "ftp://t.example/{z}/{x}/{y}.png"}, "url_template"),
        ({"url_template": "https://{s}.t.example/{z}/{x}/{y}.png"}, "url_template"),
        ({"url_template": "https://u:p@t.example/{z}/{x}/{y}.png"}, "url_template"),
        ({"bounds": [13.42, 52.5, 13.37, 52.53]}, "bounds"),
        ({"bounds": [13.37, 52.5, 13.42, 89.0]}, "bounds"),
        ({"bounds": [1, 2, 3]}, "bounds"),
        ({"min_zoom": 17}, "min_zoom"),
        ({"max_zoom": 25}, "max_zoom"),
        ({"min_zoom": -1}, "min_zoom"),
        ({"tile_size": 300}, "tile_size"),
        ({"bounds": [-180, -85, 180, 85], "min_zoom": 0, "max_zoom": 24}, "max_zoom"),
        ({"color": "red"}, "color"),
    ],
)
def test_bad_services_are_400_with_the_field(manager_client, dataset, fields, field):
    body = {"url_template": "https://t.example/{z}/{x}/{y}.png", **fields}
    response = create(manager_client, dataset, **body)
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["details"], response.json()


def test_box_corners_map_to_web_mercator_lonlat_and_export_and_area_filter(
    manager_client, dataset, tiles, project, org_admin, members, client_for
):
    xyz = create(manager_client, dataset, url_template=template(tiles)).json()["data_row"]
    labeling.batch_create(actor=org_admin, project=project, name="xyz", data_row_ids=[xyz])
    task = labeling.queue_claim(actor=members["labeler"], project=project)
    box = {"top": 400, "left": 1000, "height": 250, "width": 700}
    item = {"name": "vehicle", "bbox": box, "classifications": [{"name": "kind", "answer": {"name": "police"}}]}
    labeling.label_submit(actor=members["labeler"], task=task, annotations=[item], seconds_spent=2)
    response = client_for(org_admin).get(f"/api/v1/projects/{project.pk}/export.geojson")
    (feature,) = json.loads(b"".join(response.streaming_content))["features"]
    ring = feature["geometry"]["coordinates"][0]
    ox, oy = (math.floor(v) for v in world_px(BOUNDS[0], BOUNDS[3], 16))
    corners = [(1000, 400), (1700, 400), (1700, 650), (1000, 650), (1000, 400)]
    for (lon, lat), (col, row) in zip(ring, corners, strict=True):
        elon, elat = px_to_lonlat(ox + col, oy + row, 16, 256)
        # and by hand, independent of the module: the inverse spherical Mercator
        world = 256 * 2**16
        hand_lat = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * (oy + row) / world))))
        assert abs(elat - hand_lat) < 1e-12 and abs(elon - ((ox + col) / world * 360 - 180)) < 1e-12
        assert abs(lon - elon) < 1e-7 and abs(lat - elat) < 1e-7
    assert feature["properties"]["crs_source"] == "EPSG:3857" and feature["properties"]["name"] == "vehicle"
    # the NDJSON export carries the row's tile-service details
    ndjson = client_for(org_admin).get(f"/api/v1/projects/{project.pk}/export.ndjson")
    (line,) = [json.loads(x) for x in b"".join(ndjson.streaming_content).splitlines()]
    assert line["imaging"]["kind"] == "xyz" and line["imaging"]["xyz"]["max_zoom"] == 16

    # the area filter: inside, touching, outside
    def keys(area: str) -> list[str]:
        return [r["global_key"] for r in manager_client.get("/api/v1/imaging/rows", {"bbox": area}).json()["results"]]

    assert keys("13.40,52.51,13.41,52.52") == ["berlin"]
    assert keys("13.0,52.0,13.38,52.505") == ["berlin"]
    assert keys("13.5,52.5,13.6,52.6") == [] and keys("13.37,52.54,13.42,52.6") == []
