"""The project's standard exports still work when it has video labels: NDJSON carries the video label as stored;
COCO, YOLO and VOC (image formats) run to the end (video rows' tracks are not image objects)."""

from __future__ import annotations

import json

import pytest

from apps.exports.models import Export
from tests.labeling.test_queue_api import add_batch
from tests.video.test_video_labels import claim, video_label

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_standard_exports_of_a_project_with_video_labels(
    project, members, org_admin, make_video_rows, client_for, django_capture_on_commit_callbacks
):
    add_batch(project, org_admin, make_video_rows(1))
    client = client_for(members["labeler"])
    task = claim(client, project)["task"]
    assert client.post(f"/api/v1/tasks/{task}/labels", {"annotations": video_label()}, format="json").status_code == 201
    admin = client_for(org_admin)
    stream = admin.get(f"/api/v1/projects/{project.id}/export.ndjson")
    assert stream.status_code == 200
    (line,) = [json.loads(x) for x in b"".join(stream.streaming_content).decode().splitlines()]
    assert line["data_row"]["media_type"] == "video"
    text = json.dumps(line)
    assert '"keyframes"' in text and '"track_id": "car-1"' in text
    for fmt in ("ndjson", "coco", "yolo", "voc"):
        with django_capture_on_commit_callbacks(execute=True):
            response = admin.post(f"/api/v1/projects/{project.id}/exports", {"format": fmt}, format="json")
        assert response.status_code == 202, (fmt, response.content)
        export = Export.objects.get(
            pk=response.json()["export"] if "export" in response.json() else response.json()["id"]
        )
        assert export.status == "succeeded", (fmt, export.status, export.error)
