"""Issues on a video task pinned to (frame, track): the frame inside the probed frame count, the track one of the
label's tracks; shown back by the API."""

from __future__ import annotations

import pytest

from apps.core.errors import ValidationFailed
from apps.datasets.models import VideoStatus
from apps.issues.services import video_pin
from tests.labeling.test_queue_api import add_batch
from tests.video.conftest import make_video_rows  # noqa: F401

pytestmark = pytest.mark.django_db

LABEL = [
    {
        "name": "vehicle",
        "track_id": "car-1",
        "keyframes": [{"frame": 0, "bbox": {"top": 20, "left": 10, "height": 30, "width": 40}}],
        "classifications": [{"name": "kind", "answer": {"name": "police"}}],
    },
    {"name": "weather", "answer": {"name": "rain"}},
]


def test_issue_on_a_frame_and_track(project, members, org_admin, make_video_rows, make_rows, client_for):  # noqa: F811
    video = make_video_rows(1, frames=60)[0]
    add_batch(project, org_admin, [video])
    labeler = client_for(members["labeler"])
    task = labeler.post(f"/api/v1/projects/{project.id}/queue/next").json()["task"]
    url = f"/api/v1/tasks/{task}/issues"

    # Before a label exists: any well-formed track id, a frame inside the 60 probed frames.
    early = labeler.post(url, {"text": "is this a car?", "frame": 12, "track_id": "t1"}, format="json")
    assert early.status_code == 201, early.content
    assert (early.json()["frame"], early.json()["track_id"]) == (12, "t1")
    for body, field, message in [
        ({"frame": 60}, "frame", "The video has 60 frames (0..59)."),
        ({"frame": -1}, "frame", "A frame index (an integer from 0)."),
        ({"frame": "3"}, "frame", "A frame index (an integer from 0)."),
        ({"frame": True}, "frame", "A frame index (an integer from 0)."),
        ({"frame": 3, "track_id": "car 1"}, "track_id", "1 to 64 letters, digits, or _ . : -"),
    ]:
        response = labeler.post(url, {"text": "x", **body}, format="json")
        assert response.status_code == 400, (body, response.content)
        assert response.json()["error"]["details"][field] == [message]

    submitted = labeler.post(f"/api/v1/tasks/{task}/labels", {"annotations": LABEL}, format="json")
    assert submitted.status_code == 201, submitted.content
    reviewer = client_for(org_admin)
    label_url = f"/api/v1/labels/{submitted.json()['id']}/issues"
    pinned = reviewer.post(label_url, {"text": "box too wide here", "frame": 59, "track_id": "car-1"}, format="json")
    assert pinned.status_code == 201, pinned.content
    missing = reviewer.post(label_url, {"text": "x", "frame": 5, "track_id": "car-2"}, format="json")
    assert missing.status_code == 400
    assert missing.json()["error"]["details"]["track_id"] == ["The label has no track 'car-2'."]
    listed = reviewer.get(url).json()
    assert sorted((i["frame"], i["track_id"]) for i in listed) == [(12, "t1"), (59, "car-1")]


def test_frame_needs_a_probed_video(project, members, org_admin, make_video_rows, make_rows, client_for):  # noqa: F811
    pending = make_video_rows(1, status=VideoStatus.PENDING, prefix="pending")[0]
    image = make_rows(1, prefix="still")[0]
    add_batch(project, org_admin, [pending], name="video", priority=5)
    add_batch(project, org_admin, [image], name="image", priority=1)
    labeler = client_for(members["labeler"])
    task = labeler.post(f"/api/v1/projects/{project.id}/queue/next").json()
    assert task["data_row"]["id"] == str(pending.id)
    response = labeler.post(f"/api/v1/tasks/{task['task']}/issues", {"text": "x", "frame": 0}, format="json")
    assert response.status_code == 409 and response.json()["error"]["code"] == "video_pending"
    no_frame = labeler.post(f"/api/v1/tasks/{task['task']}/issues", {"text": "whole video"}, format="json")
    assert no_frame.status_code == 201 and no_frame.json()["frame"] is None
    with pytest.raises(ValidationFailed) as refused:
        video_pin(data_row=image, label=None, frame=0, track_id=None)
    assert refused.value.details == {"frame": ["This data row is not a video."]}
