"""Issues pinned on an object (its index and schema id in the label, or in the labeler's draft before a label
exists), and the crop of the image around the pin with the object drawn, served under the issue's access rules."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from apps.datasets import services as dataset_services
from apps.datasets.models import DataRow, Dataset
from apps.issues.domain import pins
from apps.labeling import services as labeling_services
from apps.ontologies.models import Feature
from tests.labeling.conftest import good_label
from tests.review.conftest import submit

pytestmark = pytest.mark.django_db

GREY = (90, 100, 110)
MAGENTA = (255, 45, 120)


def vehicle_schema_id(org) -> str:
    return str(Feature.objects.get(organization=org, kind=Feature.Kind.TOOL, name="vehicle").schema_id)


def test_pin_on_an_object_by_index_and_schema_id(project, members, queue, client_for, org):
    queue(low=1)
    label = submit(project, members["labeler"])
    client = client_for(members["reviewer"])
    url = f"/api/v1/labels/{label.id}/issues"
    good = {"index": 0, "schema_id": vehicle_schema_id(org)}
    response = client.post(url, {"text": "Too loose", "annotation": good}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["annotation"] == 0 and body["feature"]["name"] == "vehicle"
    assert body["object"] == {
        "index": 0,
        "schema_id": good["schema_id"],
        "name": "vehicle",
        "geometry": {"bbox": {"top": 10.0, "left": 20.0, "height": 50.0, "width": 80.0}},
    }
    assert body["crop_url"] is None  # the row is a remote URL: no server-side crop


@pytest.mark.parametrize(
    ("annotation", "code"),
    [
        (5, "no_such_object"),
        ({"index": 1, "schema_id": "00000000-0000-0000-0000-000000000000"}, "object_mismatch"),
        ({"index": -1}, "invalid"),
        ({"schema_id": "x"}, "invalid"),
        ({"index": 0, "colour": 1}, "invalid"),
        (True, "invalid"),
        ("0", "invalid"),
    ],
)
def test_pin_on_a_missing_or_different_object_is_400(project, members, queue, client_for, annotation, code):
    queue(low=1)
    label = submit(project, members["labeler"])
    response = client_for(members["reviewer"]).post(
        f"/api/v1/labels/{label.id}/issues", {"text": "?", "annotation": annotation}, format="json"
    )
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == code


def test_before_submitting_the_pin_is_on_the_labelers_draft(project, members, queue, client_for, org):
    queue(low=1)
    labeler = members["labeler"]
    task = labeling_services.queue_claim(actor=labeler, project=project)
    client = client_for(labeler)
    url = f"/api/v1/tasks/{task.id}/issues"
    missing = client.post(url, {"text": "which class?", "annotation": 0}, format="json")
    assert missing.status_code == 400 and "draft" in missing.json()["error"]["message"]
    polygon = {"name": "vehicle", "polygon": [{"x": 1, "y": 2}, {"x": 30, "y": 2}, {"x": 30, "y": 40}]}
    client.put(f"/api/v1/tasks/{task.id}/draft", {"annotations": [polygon]}, format="json")
    pinned = client.post(
        url, {"text": "which class?", "annotation": {"index": 0, "schema_id": vehicle_schema_id(org)}}, format="json"
    )
    assert pinned.status_code == 201, pinned.content
    assert pinned.json()["object"]["geometry"]["polygon"][2] == {"x": 30.0, "y": 40.0}


def _png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), GREY).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def uploaded_label(project, members, org, org_admin, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    dataset = Dataset.objects.create(organization=org, name="uploads")
    report = dataset_services.data_rows_upload(
        actor=org_admin,
        dataset=dataset,
        files=[SimpleUploadedFile("street.png", _png(400, 300), content_type="image/png")],
    )
    assert report["created"] == 1
    row = DataRow.objects.get(dataset=dataset)
    DataRow.objects.filter(pk=row.pk).update(width=400, height=300)
    labeling_services.batch_create(actor=org_admin, project=project, name="up", data_row_ids=[str(row.pk)])
    return submit(project, members["labeler"], annotations=good_label())


def test_crop_shows_the_object_and_follows_access(
    uploaded_label, members, client_for, client, org, other_org, make_user, monkeypatch
):
    label = uploaded_label
    created = client_for(members["reviewer"]).post(
        f"/api/v1/labels/{label.id}/issues",
        {"text": "@p-labeler too loose", "annotation": {"index": 0, "schema_id": vehicle_schema_id(org)}},
        format="json",
    )
    assert created.status_code == 201
    issue = created.json()
    assert issue["crop_url"] == f"/issues/{issue['id']}/crop.png"
    client.force_login(members["labeler"])
    response = client.get(issue["crop_url"])
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png" and response["X-Content-Type-Options"] == "nosniff"
    image = Image.open(io.BytesIO(response.content)).convert("RGB")
    # The box (left 20, top 10, 80×50) with a 35 % margin (at least 96 px a side), shifted inside the image, then
    # scaled so its longest side is 360 px.
    region = pins.crop_region(image_size=(400, 300), geometry=issue["object"]["geometry"], point=None)
    assert region == (0, 0, 136, 96)
    scale = 360 / 136
    assert image.size == (360, round(96 * scale))
    mid_y = round(35 * scale)
    assert image.getpixel((round(20 * scale) + 1, mid_y)) == MAGENTA  # the object's outline (drawn inside the box)
    assert image.getpixel((round(60 * scale), mid_y)) == GREY  # inside the box: the image itself
    assert image.getpixel((5, mid_y)) == GREY  # the margin left of the box
    # Served from the cache afterwards (the file is not read again).
    monkeypatch.setattr("apps.issues.crops.default_storage.open", lambda *a, **k: (_ for _ in ()).throw(OSError()))
    assert client.get(issue["crop_url"]).content == response.content
    # The issue page and the inbox show it.
    page = client.get(f"/issues/{issue['id']}/").content.decode()
    assert f'src="{issue["crop_url"]}"' in page and "vehicle #1" in page
    inbox = client.get("/inbox/").content.decode()
    assert f'src="{issue["crop_url"]}"' in inbox
    # The issue's rules: a project member who is not on the task, another organization.
    client.force_login(members["expert"])
    assert client.get(issue["crop_url"]).status_code == 403
    client.force_login(make_user(role="admin", organization=other_org, username="other-admin"))
    assert client.get(issue["crop_url"]).status_code == 404


def test_point_pin_crop_and_unreadable_image(uploaded_label, members, client_for, client):
    label = uploaded_label
    created = (
        client_for(members["reviewer"])
        .post(f"/api/v1/labels/{label.id}/issues", {"text": "here", "position": {"x": 390, "y": 290}}, format="json")
        .json()
    )
    client.force_login(members["reviewer"])
    image = Image.open(io.BytesIO(client.get(created["crop_url"]).content)).convert("RGB")
    assert image.size == (288, 288)  # 96×96 px around a pin in the corner, kept inside the image, ×3
    assert image.getpixel((((390 - 304) * 3), ((290 - 204) * 3))) == MAGENTA


def test_crop_region_stays_inside_small_images():
    assert pins.crop_region(image_size=(50, 40), geometry=None, point=(25, 20)) == (0, 0, 50, 40)
    assert pins.crop_region(image_size=(50, 40), geometry=None, point=None) is None
    line = {"line": [{"x": 100, "y": 100}, {"x": 300, "y": 100}]}
    assert pins.crop_region(image_size=(1000, 1000), geometry=line, point=None) == (30, 52, 370, 148)
