"""`GET /projects/{id}/exports/video?kind=`: NDJSON (keyframes, every frame on request), MOT, COCO and CVAT of the
project's current video labels; parameters checked; access as for exports."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET

import motmetrics as mm
import pytest

from apps.labeling import services
from tests.labeling.test_queue_api import add_batch
from tests.video.test_video_labels import box, claim, video_label

pytestmark = pytest.mark.django_db


@pytest.fixture
def labeled(project, members, org_admin, make_video_rows, client_for):
    rows = make_video_rows(2)
    add_batch(project, org_admin, rows)
    client = client_for(members["labeler"])
    for _ in rows:
        task = claim(client, project)["task"]
        assert (
            client.post(f"/api/v1/tasks/{task}/labels", {"annotations": video_label()}, format="json").status_code
            == 201
        )
    return rows


def body(response) -> str:
    assert response.status_code == 200, response.content
    return b"".join(response.streaming_content).decode()


def url(project, **params) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"/api/v1/projects/{project.id}/exports/video?{query}"


def test_ndjson_with_every_interpolated_frame(project, org_admin, client_for, labeled):
    admin = client_for(org_admin)
    lines = [
        json.loads(line) for line in body(admin.get(url(project, kind="ndjson", interpolated="true"))).splitlines()
    ]
    assert [line["data_row"]["global_key"] for line in lines] == ["clip-0", "clip-1"]
    frames = lines[0]["frames"]
    assert len(frames) == 60 and frames[15]["time"] == 0.5
    assert frames[15]["objects"][0]["bbox"] == box(40, 35, 70, 45) and frames[15]["objects"][0]["keyframe"] is False
    assert frames[50]["objects"] == []
    plain = [json.loads(line) for line in body(admin.get(url(project, kind="ndjson"))).splitlines()]
    assert "frames" not in plain[0] and plain[0]["annotations"][0]["keyframes"][1]["frame"] == 30


def test_mot_coco_and_cvat(project, org_admin, client_for, labeled):
    admin = client_for(org_admin)
    row = str(labeled[0].id)
    mot = mm.io.loadtxt(io.StringIO(body(admin.get(url(project, kind="mot", data_row=row)))), fmt="mot15-2D")
    assert tuple(mot.loc[(16, 1), ["X", "Y", "Width", "Height"]]) == (40, 35, 70, 45)
    coco = json.loads(body(admin.get(url(project, kind="coco"))))
    assert len(coco["images"]) == 120 and coco["categories"][0]["name"] == "vehicle"
    assert sum(1 for a in coco["annotations"]) == 2 * 45
    xml = ET.fromstring(body(admin.get(url(project, kind="cvat", data_row=row))))  # noqa: S314 (our own XML)
    assert xml.find("track").get("label") == "vehicle"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"kind": "avi"}, "kind"),
        ({"kind": "mot"}, "data_row"),
        ({"kind": "ndjson", "interpolated": "maybe"}, "interpolated"),
        ({"kind": "ndjson", "data_row": "nope"}, "data_row"),
        ({"kind": "ndjson", "page": "2"}, "page"),
    ],
)
def test_bad_parameters_are_400(project, org_admin, client_for, params, field):
    response = client_for(org_admin).get(url(project, **params))
    assert response.status_code == 400 and field in response.json()["error"]["details"]


def test_access(project, members, client_for, other_org, labeled):
    from apps.accounts.models import User

    assert client_for(members["labeler"]).get(url(project, kind="ndjson")).status_code == 403
    outsider = client_for(User.objects.get(organization=other_org, role="admin"))
    assert outsider.get(url(project, kind="ndjson")).status_code == 404


def test_no_label_for_a_row_is_404(project, org_admin, client_for, make_video_rows):
    row = make_video_rows(1, prefix="unlabeled")[0]
    services.batch_create(actor=org_admin, project=project, name="x", data_row_ids=[str(row.id)])
    response = client_for(org_admin).get(url(project, kind="cvat", data_row=str(row.id)))
    assert response.status_code == 404 and response.json()["error"]["code"] == "no_video_label"
