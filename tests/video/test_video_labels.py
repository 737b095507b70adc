"""Submitting video labels: the video validator against the probed frame count and size, and the normalized rows
(a track row, one row per keyframe, the track's answers, per-frame classifications with their ranges)."""

from __future__ import annotations

import pytest

from apps.labeling.models import Annotation, Label
from apps.ontologies.domain.video import document_from_items
from tests.labeling.test_queue_api import add_batch

pytestmark = pytest.mark.django_db

KIND = [{"name": "kind", "answer": {"name": "police"}}]


def box(left, top, width, height):
    return {"top": top, "left": left, "height": height, "width": width}


def video_label():
    return [
        {
            "name": "vehicle",
            "track_id": "car-1",
            "keyframes": [
                {"frame": 0, "bbox": box(10, 20, 40, 30)},
                {"frame": 30, "bbox": box(70, 50, 100, 60)},
                {"frame": 45, "outside": True},
            ],
            "classifications": KIND,
        },
        {"name": "weather", "answer": {"name": "rain"}, "frames": [[0, 29]]},
    ]


def claim(client, project):
    return client.post(f"/api/v1/projects/{project.id}/queue/next").json()


def test_video_label_is_stored_with_track_and_keyframe_rows(project, members, org_admin, make_video_rows, client_for):
    add_batch(project, org_admin, make_video_rows(1))
    client = client_for(members["labeler"])
    task = claim(client, project)["task"]
    response = client.post(f"/api/v1/tasks/{task}/labels", {"annotations": video_label()}, format="json")
    assert response.status_code == 201, response.content
    label = Label.objects.get(pk=response.json()["id"])
    rows = list(Annotation.objects.filter(label=label).order_by("id"))
    track = next(r for r in rows if r.kind == "track")
    assert track.geometry == {
        "track_id": "car-1",
        "tool": "bbox",
        "first_frame": 0,
        "last_frame": 44,
        "keyframes": 3,
        "outside": [[45, 59]],
    }
    keyframes = sorted((r for r in rows if r.kind == "keyframe"), key=lambda r: r.geometry["frame"])
    assert [r.geometry["frame"] for r in keyframes] == [0, 30, 45]
    assert all(r.parent_id == track.pk for r in keyframes)
    assert (keyframes[1].x, keyframes[1].y, keyframes[1].width, keyframes[1].height) == (70, 50, 100, 60)
    assert keyframes[2].geometry == {"track_id": "car-1", "frame": 45, "outside": True} and keyframes[2].x is None
    kind = next(r for r in rows if r.name == "kind")
    assert kind.parent_id == track.pk and kind.answer["name"] == "police"
    weather = next(r for r in rows if r.name == "weather")
    assert weather.parent_id is None and weather.geometry == {"frames": [[0, 29]]}
    assert len(rows) == 6
    assert document_from_items(label.annotations).tracks[0].at(15)[0] == box(40, 35, 70, 45)


def test_video_label_errors_name_the_keyframe(project, members, org_admin, make_video_rows, client_for):
    add_batch(project, org_admin, make_video_rows(1, frames=40))
    client = client_for(members["labeler"])
    task = claim(client, project)["task"]
    response = client.post(f"/api/v1/tasks/{task}/labels", {"annotations": video_label()}, format="json")
    assert response.status_code == 400
    errors = response.json()["error"]["details"]["annotations"]
    assert errors[0]["path"] == "annotations[0].keyframes[2].frame" and "40 frames" in errors[0]["message"]
    assert not Label.objects.exists()


def test_a_video_still_being_probed_cannot_be_labeled(project, members, org_admin, make_video_rows, client_for):
    add_batch(project, org_admin, make_video_rows(1, status="pending"))
    client = client_for(members["labeler"])
    task = claim(client, project)["task"]
    response = client.post(f"/api/v1/tasks/{task}/labels", {"annotations": video_label()}, format="json")
    assert response.status_code == 409 and response.json()["error"]["code"] == "video_pending"


def test_an_image_label_on_an_image_row_is_unchanged(project, members, org_admin, make_rows, client_for):
    from tests.labeling.conftest import good_label

    add_batch(project, org_admin, make_rows(1))
    client = client_for(members["labeler"])
    task = claim(client, project)["task"]
    # tracks are refused on images: the image validator knows no track_id / keyframes
    bad = client.post(f"/api/v1/tasks/{task}/labels", {"annotations": video_label()}, format="json")
    assert bad.status_code == 400
    good = client.post(f"/api/v1/tasks/{task}/labels", {"annotations": good_label()}, format="json")
    assert good.status_code == 201
    kinds = sorted(Annotation.objects.values_list("kind", flat=True))
    assert kinds == ["bbox", "radio", "radio", "radio"]
