"""Video pre-labels and predictions: tracks of per-frame boxes with track ids and confidences, checked against the
probed frame count and size of a PyAV-written video; pre-labels as the editor's starting tracks; tracking metrics
(MOTA, IDF1, ID switches) of a model run's predicted tracks against ground truth, equal to py-motmetrics."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.datasets.models import DataRow, VideoAsset, VideoStatus
from apps.labeling import services as labeling_services
from apps.predictions import services as prediction_services
from apps.predictions.models import Prediction, Prelabel
from tests.datasets.conftest import dataset, manager, manager_client  # noqa: F401
from tests.predictions.conftest import add_batch, ndjson
from tests.video.test_tracking_and_agreement import motmetrics_reference, numpy_asfarray  # noqa: F401
from tests.video.videos import make_video

pytestmark = pytest.mark.django_db

FRAMES = 45  # the PyAV video: 64×48, 45 frames
KIND = [{"name": "kind", "answer": {"name": "police"}}]


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def video_row(manager_client, dataset, django_capture_on_commit_callbacks):  # noqa: F811
    """A video row uploaded and probed by PyAV (45 frames, 64×48)."""
    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.post(
            f"/api/v1/datasets/{dataset.id}/uploads",
            {"files": [SimpleUploadedFile("clip.mp4", make_video(FRAMES), "video/mp4")], "media_type": "video"},
            format="multipart",
        )
    assert response.status_code == 201, response.content
    row = DataRow.objects.get(global_key="clip.mp4")
    asset = VideoAsset.objects.get(pk=row.pk)
    assert (asset.status, asset.frame_count, row.width, row.height) == (VideoStatus.READY, FRAMES, 64, 48)
    return row


def box(left, top, width=12, height=8) -> dict:
    return {"top": top, "left": left, "height": height, "width": width}


def track(key, track_id, keyframes, **extra) -> dict:
    return {
        "name": "vehicle",
        "track_id": track_id,
        "keyframes": keyframes,
        "classifications": KIND,
        "data_row": {"global_key": key},
        **extra,
    }


def test_prelabel_tracks_are_checked_against_the_probe(
    project, members, org_admin, video_row, make_rows, post_ndjson, client_for, client
):
    image = make_rows(1, prefix="img")[0]
    pending = DataRow.objects.create(
        organization=video_row.organization, dataset=video_row.dataset, global_key="pending.mp4", media_type="video"
    )
    VideoAsset.objects.create(data_row=pending, organization_id=pending.organization_id)
    add_batch(project, org_admin, [video_row], name="video", priority=5)
    add_batch(project, org_admin, [image, pending], name="others", priority=1)
    good = track(
        "clip.mp4",
        "car-1",
        [
            {"frame": 0, "bbox": box(2, 10), "confidence": 0.9},
            {"frame": 30, "bbox": box(32, 10), "confidence": 0.7},
            {"frame": 40, "outside": True},
        ],
        confidence=0.8,
    )
    lines = [
        good,  # 1 good
        track("clip.mp4", "car-2", [{"frame": 45, "bbox": box(2, 10)}]),  # 2 frame past the probed count
        track("clip.mp4", "car-3", [{"frame": 3, "bbox": box(60, 10)}]),  # 3 box outside the 64 px frame
        {"name": "vehicle", "bbox": box(2, 10), "classifications": KIND, "data_row": {"global_key": "clip.mp4"}},  # 4
        track("img-0", "car-4", [{"frame": 0, "bbox": box(2, 10)}]),  # 5 a track on an image row
        track("clip.mp4", "car-1", [{"frame": 5, "bbox": box(7, 10)}]),  # 6 track id already used on line 1
        track("pending.mp4", "car-5", [{"frame": 0, "bbox": box(2, 10)}]),  # 7 not probed yet
        track("clip.mp4", "car-6", [{"frame": 1, "bbox": box(2, 10), "confidence": 2}]),  # 8 bad keyframe confidence
        track("clip.mp4", "car 7", [{"frame": 1, "bbox": box(2, 10)}]),  # 9 bad track id
        {"name": "weather", "answer": {"name": "rain"}, "frames": [[0, 9]], "data_row": {"global_key": "clip.mp4"}},
        {"name": "weather", "answer": {"name": "sunny"}, "frames": [[10, 44]], "data_row": {"global_key": "clip.mp4"}},
        {"name": "weather", "answer": {"name": "sunny"}, "frames": [[40, 50]], "data_row": {"global_key": "clip.mp4"}},
    ]
    response = post_ndjson(org_admin, f"/api/v1/projects/{project.id}/prelabels", ndjson(lines))
    assert response.status_code == 200, response.content
    result = response.json()
    errors = {e["line"]: e["message"] for e in result["errors"]}
    assert (result["created"], result["failed"]) == (3, 9), errors
    assert sorted(errors) == [2, 3, 4, 5, 6, 7, 8, 9, 12]
    assert errors[2] == "keyframes[0].frame: The video has 45 frames (0..44)."
    assert errors[3].startswith("keyframes[0].bbox") and "outside the image" in errors[3]
    assert "A video row takes tracks" in errors[4]
    assert "not a video" in errors[5]
    assert errors[6] == "Track id 'car-1' is used on line 1 for this row."
    assert "still being probed" in errors[7]
    assert errors[8].startswith("keyframes[0].confidence") and "outside [0, 1]" in errors[8]
    assert errors[9].startswith("track_id")
    assert "The video has 45 frames" in errors[12]

    stored = Prelabel.objects.get(project=project, data_row=video_row, kind="track")
    assert stored.confidence == 0.8
    assert [k["frame"] for k in stored.annotation["keyframes"]] == [0, 30, 40]
    assert [k.get("confidence") for k in stored.annotation["keyframes"]] == [0.9, 0.7, None]
    assert stored.annotation["track_id"] == "car-1" and stored.annotation["tool"] == "bbox"

    # The labeler's task on the video starts from the pre-labelled track (the editor loads these as its tracks).
    api = client_for(members["labeler"])
    claimed = api.post(f"/api/v1/projects/{project.id}/queue/next").json()
    assert claimed["data_row"]["id"] == str(video_row.id), claimed
    tracks = [p for p in claimed["prelabels"] if "keyframes" in p]
    assert [(t["track_id"], t["confidence"], len(t["keyframes"])) for t in tracks] == [("car-1", 0.8, 3)]
    assert tracks[0]["prelabel"] == str(stored.uuid)
    client.force_login(members["labeler"])
    page = client.get(f"/tasks/{claimed['task']}/label")
    assert page.status_code == 200 and b"car-1" in page.content


def _frames(tracks: dict[int, list[tuple[int, tuple]]]) -> dict[int, list[tuple[int, tuple]]]:
    """Per frame (id, box), numeric ids (py-motmetrics' frame table wants them)."""
    out: dict[int, list[tuple[int, tuple]]] = {}
    for track_id, boxes in tracks.items():
        for frame, xywh in boxes:
            out.setdefault(frame, []).append((track_id, xywh))
    return out


def test_model_run_tracking_metrics_against_ground_truth(
    project, members, org_admin, video_row, post_ndjson, client_for
):
    add_batch(project, org_admin, [video_row])
    # Ground truth: the rectangle of the video, moving 1 px right per frame, frames 0–44 (keyframes 0 and 44).
    truth = [
        {
            "name": "vehicle",
            "track_id": "gt",
            "keyframes": [{"frame": 0, "bbox": box(2, 10)}, {"frame": 44, "bbox": box(46, 10)}],
            "classifications": KIND,
        },
        {"name": "weather", "answer": {"name": "rain"}},
    ]
    task = labeling_services.queue_claim(actor=members["labeler"], project=project)
    labeling_services.label_submit(actor=members["labeler"], task=task, annotations=truth)
    model = prediction_services.model_create(actor=org_admin, name="tracker", ontology=project.ontology)
    run = prediction_services.model_run_create(actor=org_admin, model=model, name="v1")
    # The tracker follows it but changes id at frame 20, and adds a low-confidence track elsewhere.
    lines = [
        track("clip.mp4", "a", [{"frame": 0, "bbox": box(2, 10)}, {"frame": 19, "bbox": box(21, 10)},
                                {"frame": 20, "outside": True}], confidence=0.9),
        track("clip.mp4", "b", [{"frame": 20, "bbox": box(22, 10)}, {"frame": 44, "bbox": box(46, 10)}],
              confidence=0.9),
        track("clip.mp4", "ghost", [{"frame": 0, "bbox": box(40, 30, 10, 10)}, {"frame": 9, "outside": True}],
              confidence=0.2),
    ]  # fmt: skip
    result = post_ndjson(org_admin, f"/api/v1/model_runs/{run.id}/predictions", ndjson(lines)).json()
    assert (result["created"], result["failed"]) == (3, 0), result
    assert Prediction.objects.filter(model_run=run, kind="track").count() == 3
    admin = client_for(org_admin)
    attached = admin.post(f"/api/v1/model_runs/{run.id}/ground_truth", {"project": str(project.id)}, format="json")
    assert attached.status_code in (200, 201), attached.content

    gt = _frames({1: [(f, (2.0 + f, 10.0, 12.0, 8.0)) for f in range(45)]})
    a = [(f, (2.0 + f, 10.0, 12.0, 8.0)) for f in range(20)]
    b = [(f, (2.0 + f, 10.0, 12.0, 8.0)) for f in range(20, 45)]
    ghost = [(f, (40.0, 30.0, 10.0, 10.0)) for f in range(9)]
    for confidence, predicted in ((0.5, {11: a, 12: b}), (0.0, {11: a, 12: b, 13: ghost})):
        response = admin.get(f"/api/v1/model_runs/{run.id}/metrics?iou=0.5&confidence={confidence}")
        assert response.status_code == 200, response.content
        tracking = response.json()["tracking"]
        reference = motmetrics_reference(gt, _frames(predicted))
        assert tracking["videos"] == 1 and tracking["objects"] == 45
        assert tracking["id_switches"] == reference["num_switches"] == 1
        assert tracking["misses"] == reference["num_misses"] == 0
        assert tracking["mota"] == pytest.approx(reference["mota"])
        assert tracking["idf1"] == pytest.approx(reference["idf1"])
        assert tracking["false_positives"] == (0 if confidence else 9)
    assert tracking["mota"] == pytest.approx(1 - (1 + 9) / 45)
    assert tracking["idf1"] == pytest.approx(2 * 25 / (45 + 54))


def test_provenance_compares_every_keyframe_of_a_track():
    from apps.predictions.domain.provenance import same_annotation

    prelabel = {
        "schema_id": "s",
        "track_id": "car-1",
        "keyframes": [{"frame": 0, "bbox": box(2, 10), "confidence": 0.9}, {"frame": 40, "outside": True}],
    }
    kept = {
        "schema_id": "s",
        "track_id": "car-1",
        "keyframes": [{"frame": 0, "bbox": box(2, 10)}, {"frame": 40, "outside": True}],
    }
    assert same_annotation(kept, prelabel)  # confidences aside, unchanged: accepted
    moved = {**kept, "keyframes": [{"frame": 0, "bbox": box(3, 10)}, {"frame": 40, "outside": True}]}
    added = {**kept, "keyframes": [*kept["keyframes"], {"frame": 20, "bbox": box(22, 10)}]}
    assert not same_annotation(moved, prelabel) and not same_annotation(added, prelabel)
