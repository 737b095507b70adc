"""Georeferenced images: GeoTIFFs generated with tifffile (known transforms, EPSG:4326 and UTM 33N), labels exported
as GeoJSON in WGS 84 within 1e-7 degrees, and the area filter returning exactly the rows whose footprint intersects."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
import tifffile
from django.core.files.uploadedfile import SimpleUploadedFile
from pyproj import Transformer

from apps.datasets.models import DataRow
from apps.imagery.domain.geo import annotation_geometry, georeference_from_tags, pixel_to_crs
from apps.imagery.models import ImagingAsset
from apps.labeling import services as labeling

pytestmark = pytest.mark.django_db

UTM_ORIGIN = (499_950.0, 5_000_000.0)  # pixel column 100 lies on easting 500,000: the zone's central meridian, 15° E
UTM_PIXEL = 0.5


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def geotiff(*, width=400, height=300, epsg=4326, scale=None, tiepoint=None, matrix=None) -> bytes:
    model_type = 2 if epsg == 4326 else 1
    crs_key = 2048 if epsg == 4326 else 3072
    keys = [1, 1, 0, 3, 1024, 0, 1, model_type, 1025, 0, 1, 1, crs_key, 0, 1, epsg]
    tags = [(34735, "H", len(keys), keys, True)]
    if matrix is not None:
        tags.append((34264, "d", 16, matrix, True))
    else:
        tags.append((33550, "d", 3, [scale[0], scale[1], 0.0], True))
        tags.append((33922, "d", 6, [0.0, 0.0, 0.0, tiepoint[0], tiepoint[1], 0.0], True))
    pixels = np.zeros((height, width, 3), dtype=np.uint8)
    pixels[..., 0] = (np.arange(width) % 256)[None, :]
    pixels[..., 1] = (np.arange(height) % 256)[:, None]
    out = io.BytesIO()
    tifffile.imwrite(out, pixels, photometric="rgb", extratags=tags)
    return out.getvalue()


def upload(client, dataset, name, blob):
    files = [SimpleUploadedFile(name, blob, "image/tiff")]
    return client.post(f"/api/v1/datasets/{dataset.id}/large_images", {"files": files}, format="multipart")


def test_transform_from_tags_and_pixel_corners():
    keys = [1, 1, 0, 2, 1024, 0, 1, 1, 3072, 0, 1, 32633]
    geo = georeference_from_tags(
        {34735: keys, 33550: (0.5, 0.5, 0), 33922: (0, 0, 0, *UTM_ORIGIN, 0)}, width=400, height=300
    )
    assert geo is not None and geo.crs == "EPSG:32633"
    assert geo.transform == (499_950.0, 0.5, 0.0, 5_000_000.0, 0.0, -0.5)
    assert pixel_to_crs(geo.transform, 100, 40) == (500_000.0, 4_999_980.0)
    point_keys = [1, 1, 0, 3, 1024, 0, 1, 1, 1025, 0, 1, 2, 3072, 0, 1, 32633]  # PixelIsPoint: tiepoint = centre
    centred = georeference_from_tags({34735: point_keys, 33550: (1, 1, 0), 33922: (0, 0, 0, 10, 20, 0)}, 4, 4)
    assert centred is not None and centred.transform[0] == 9.5 and centred.transform[3] == 20.5
    assert georeference_from_tags({}, 4, 4) is None
    bbox = {"bbox": {"left": 100, "top": 40, "width": 60, "height": 20}}
    ring = annotation_geometry(bbox, geo.transform, geo.crs)["coordinates"][0]
    assert abs(ring[0][0] - 15.0) < 1e-7 and abs(ring[3][0] - 15.0) < 1e-7  # on the central meridian


def test_geotiff_rows_export_geojson_within_1e7_degrees(
    manager_client, dataset, project, org_admin, members, django_capture_on_commit_callbacks, client_for
):
    utm = geotiff(epsg=32633, scale=(UTM_PIXEL, UTM_PIXEL), tiepoint=UTM_ORIGIN)
    degrees = geotiff(epsg=4326, scale=(0.001, 0.001), tiepoint=(10.0, 50.0))
    with django_capture_on_commit_callbacks(execute=True):
        assert upload(manager_client, dataset, "utm.tif", utm).status_code == 201
        assert upload(manager_client, dataset, "wgs.tif", degrees).status_code == 201
    rows = {r.global_key: r for r in DataRow.objects.filter(dataset=dataset)}
    for row in rows.values():
        asset = ImagingAsset.objects.get(data_row=row)
        assert asset.kind == "geotiff" and asset.tile_status == "ready" and (row.width, row.height) == (400, 300)
    assert ImagingAsset.objects.get(data_row=rows["wgs.tif"]).crs == "EPSG:4326"
    labeling.batch_create(actor=org_admin, project=project, name="geo", data_row_ids=[str(r.id) for r in rows.values()])
    box = {"top": 40, "left": 100, "height": 20, "width": 60}
    submitted = {}
    for _ in range(2):
        task = labeling.queue_claim(actor=members["labeler"], project=project)
        annotations = [
            {"name": "vehicle", "bbox": box, "classifications": [{"name": "kind", "answer": {"name": "police"}}]}
        ]
        labeling.label_submit(actor=members["labeler"], task=task, annotations=annotations, seconds_spent=2)
        submitted[task.data_row.global_key] = True
    assert set(submitted) == {"utm.tif", "wgs.tif"}
    response = client_for(org_admin).get(f"/api/v1/projects/{project.pk}/export.geojson")
    assert response.status_code == 200 and response["Content-Type"] == "application/geo+json"
    collection = json.loads(b"".join(response.streaming_content))
    assert collection["type"] == "FeatureCollection" and len(collection["features"]) == 2
    by_key = {f["properties"]["global_key"]: f for f in collection["features"]}
    # EPSG:4326: corners by hand (lon = 10 + col × 0.001, lat = 50 − row × 0.001)
    ring = by_key["wgs.tif"]["geometry"]["coordinates"][0]
    expected = [(10.1, 49.96), (10.16, 49.96), (10.16, 49.94), (10.1, 49.94), (10.1, 49.96)]
    for (lon, lat), (elon, elat) in zip(ring, expected, strict=True):
        assert abs(lon - elon) < 1e-7 and abs(lat - elat) < 1e-7
    # UTM 33N: corners through the known transform and PROJ; the left edge is the central meridian, 15° E exactly
    to_wgs = Transformer.from_crs(32633, 4326, always_xy=True)
    ring = by_key["utm.tif"]["geometry"]["coordinates"][0]
    corners = [(100, 40), (160, 40), (160, 60), (100, 60), (100, 40)]
    for (lon, lat), (col, row) in zip(ring, corners, strict=True):
        elon, elat = to_wgs.transform(UTM_ORIGIN[0] + col * UTM_PIXEL, UTM_ORIGIN[1] - row * UTM_PIXEL)
        assert abs(lon - elon) < 1e-7 and abs(lat - elat) < 1e-7
    assert abs(ring[0][0] - 15.0) < 1e-7 and 45.1 < ring[0][1] < 45.2
    props = by_key["utm.tif"]["properties"]
    assert props["name"] == "vehicle" and props["classifications"][0]["answer"]["name"] == "police"
    assert props["crs_source"] == "EPSG:32633"
    # a labeler may not export; another organization's project is a 404
    assert client_for(members["labeler"]).get(f"/api/v1/projects/{project.pk}/export.geojson").status_code == 403


def test_area_filter_returns_exactly_the_intersecting_rows(manager_client, dataset, django_capture_on_commit_callbacks):
    diamond = [0.001, 0.001, 0, 11.9, 0.001, -0.001, 0, 45.0, 0, 0, 0, 0, 0, 0, 0, 1]  # rotated 45°: a diamond
    with django_capture_on_commit_callbacks(execute=True):
        upload(manager_client, dataset, "a.tif", geotiff(scale=(0.001, 0.001), tiepoint=(10.0, 50.0)))
        upload(manager_client, dataset, "far.tif", geotiff(scale=(0.001, 0.001), tiepoint=(20.0, 50.0)))
        upload(manager_client, dataset, "diamond.tif", geotiff(width=100, height=100, matrix=diamond))
    assert ImagingAsset.objects.count() == 3

    def keys(area: str) -> list[str]:
        response = manager_client.get("/api/v1/imaging/rows", {"bbox": area})
        assert response.status_code == 200, response.content
        return sorted(r["global_key"] for r in response.json()["results"])

    assert keys("9.9,49.5,10.1,50.1") == ["a.tif"]
    assert keys("9,40,21,51") == ["a.tif", "diamond.tif", "far.tif"]
    assert keys("11.95,44.95,12.05,45.05") == ["diamond.tif"]
    # inside the diamond's bounding box but outside the diamond itself: the bounds match, the footprint does not
    assert keys("12.06,45.06,12.2,45.2") == []
    assert keys("10.39,49.69,10.5,49.8") == ["a.tif"]  # touches the image's south-east corner area
    assert keys("-10,-10,-5,-5") == []
    for bad in ("1,2,3", "a,b,c,d", "10,0,5,1", "0,-91,1,1"):
        response = manager_client.get("/api/v1/imaging/rows", {"bbox": bad})
        assert response.status_code == 400 and response.json()["error"]["details"]["bbox"]
    assert manager_client.get("/api/v1/imaging/rows", {"bbox": "0,0,1,1", "x": "1"}).status_code == 400


def test_other_organization_sees_none_of_the_rows(
    manager_client, dataset, other_org, make_user, client_for, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        upload(manager_client, dataset, "a.tif", geotiff(scale=(0.001, 0.001), tiepoint=(10.0, 50.0)))
    stranger = client_for(make_user(role="admin", organization=other_org, username="geo-stranger"))
    assert stranger.get("/api/v1/imaging/rows", {"bbox": "9,49,11,51"}).json()["results"] == []
    assert stranger.get("/api/v1/imaging/rows", {"bbox": "9,49,11,51", "dataset": str(dataset.pk)}).status_code == 404
