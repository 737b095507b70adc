"""The video editor in Chromium (issue 26's proof): step to frame 10, draw a box, step to frame 40, move it, submit;
the stored keyframes and the interpolated box at frame 25 are the expected ones. Screenshots at 1440×900 and
1366×768 go to /tmp/shots-video/."""

from __future__ import annotations

import io
import os

import pytest

from apps.datasets import services as dataset_services
from apps.datasets.models import DataRow, Dataset
from apps.datasets.video import video_probe_row
from apps.labeling.models import Label
from apps.ontologies.domain.video import document_from_items
from tests.e2e.test_labeling import open_label_page, queue_for_lana
from tests.video.videos import make_video, rectangle_at

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
SHOTS = "/tmp/shots-video"
W, H = 320, 240
STEP = 4  # the rectangle moves 4 px per frame: a frame off shows as 4 px off


def _probed_video_row(org, org_admin):
    """A 60-frame WebM of the moving box uploaded as a video row, and its probe."""
    dataset = Dataset.objects.create(organization=org, name="traffic")
    body = make_video(60, container_format="webm", codec="libvpx-vp9", size=(W, H), step=STEP)
    dataset_services.data_rows_upload(
        actor=org_admin,
        dataset=dataset,
        files=[dataset_services.UploadedFile(name="traffic.webm", file=io.BytesIO(body), size=len(body))],
        media_type="video",
    )
    row = DataRow.objects.get(dataset=dataset)
    return row, video_probe_row(data_row_id=str(row.pk))


@pytest.fixture
def video_task(settings, tmp_path, org, org_admin, make_user):
    settings.MEDIA_ROOT = str(tmp_path)
    row, asset = _probed_video_row(org, org_admin)
    assert asset is not None and asset.status == "ready" and asset.frame_count == 60
    project, _labeler = queue_for_lana(org, org_admin, make_user, row, media_type="video")
    return project, row


def canvas_point(page, x: float, y: float) -> tuple[float, float]:
    rect = page.locator("#video-overlay").bounding_box()
    return rect["x"] + x * rect["width"] / W, rect["y"] + y * rect["height"] / H


def drag(page, a: tuple[float, float], b: tuple[float, float]) -> None:
    page.mouse.move(*canvas_point(page, *a))
    page.mouse.down()
    page.mouse.move(*canvas_point(page, (a[0] + b[0]) / 2, (a[1] + b[1]) / 2), steps=3)
    page.mouse.move(*canvas_point(page, *b), steps=3)
    page.mouse.up()


SHOWN_LEFT = """() => {
  const v = document.getElementById("video-asset");
  const picture = document.getElementById("video-frame");
  const k = picture.width / v.videoWidth;
  const x = picture.getContext("2d");
  const row = x.getImageData(0, Math.round(14 * k), picture.width, 1).data;
  for (let i = 0; i < picture.width; i++) if (row[i * 4] > 128) return Math.round(i / k);
  return -1;
}"""


def shown_left(page) -> int:
    """Where the white rectangle starts in the frame on screen (the player's picture, painted from decoded frames;
    at the test video's size the picture has the video's own pixels)."""
    page.wait_for_function(
        "() => { const d = document.documentElement.dataset; return d.videoShown === d.videoFrame; }"
    )
    return page.evaluate(SHOWN_LEFT)


def frame(page) -> int:
    return int(page.get_attribute("html", "data-video-frame"))


def test_step_draw_step_move_submit_gives_the_expected_keyframes(page, video_task):
    project, row = video_task
    os.makedirs(SHOTS, exist_ok=True)
    js_errors = open_label_page(page, project)
    page.wait_for_selector("html[data-editor-ready=true]")
    assert frame(page) == 0 and shown_left(page) == pytest.approx(rectangle_at(0, STEP)[0], abs=1)
    page.click("#fwd10")
    assert frame(page) == 10
    page.keyboard.press("ArrowRight")
    assert frame(page) == 11 and shown_left(page) == pytest.approx(rectangle_at(11, STEP)[0], abs=1)
    page.keyboard.press("ArrowLeft")
    assert frame(page) == 10 and shown_left(page) == pytest.approx(rectangle_at(10, STEP)[0], abs=1)
    drag(page, (40, 30), (120, 90))  # an 80×60 box at (40, 30)
    page.locator("#objects li.object.selected").get_by_role("radio", name="police").check()
    page.locator("#frame-answers").get_by_role("radio", name="rain").check()  # rain on frames 10–20 only
    page.fill("#frame-end", "20")
    page.click("#add-frame-answer")
    assert "frames 10–20" in page.locator("#frame-answers li").inner_text()
    page.screenshot(path=f"{SHOTS}/editor-frame10-1366x768.png", full_page=True)
    for _ in range(3):
        page.click("#fwd10")
    assert frame(page) == 40
    drag(page, (80, 60), (180, 110))  # grab the box's middle on frame 40 and move it by (100, 50)
    page.fill("#frame-input", "25")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.documentElement.dataset.videoFrame === '25'")
    assert shown_left(page) == pytest.approx(rectangle_at(25, STEP)[0], abs=1)  # the player shows frame 25
    page.set_viewport_size({"width": 1440, "height": 900})
    page.screenshot(path=f"{SHOTS}/editor-frame25-1440x900.png", full_page=True)
    page.click("#submit-label")
    page.wait_for_url(f"**/projects/{project.id}/**")
    label = Label.objects.get(data_row=row, is_current=True)
    (track_item,) = [a for a in label.annotations if "keyframes" in a]
    keyframes = {k["frame"]: k["bbox"] for k in track_item["keyframes"]}
    assert set(keyframes) == {10, 40}
    drawn, moved = keyframes[10], keyframes[40]
    expected_drawn = {"left": 40, "top": 30, "width": 80, "height": 60}
    for key, value in expected_drawn.items():
        assert drawn[key] == pytest.approx(value, abs=0.5), (key, drawn)
    assert (moved["width"], moved["height"]) == (drawn["width"], drawn["height"])
    assert moved["left"] == pytest.approx(drawn["left"] + 100, abs=0.5)
    assert moved["top"] == pytest.approx(drawn["top"] + 50, abs=0.5)
    at25, is_key = document_from_items(label.annotations).tracks[0].at(25, 60)  # type: ignore[misc]
    assert is_key is False
    assert at25 == {k: (drawn[k] + moved[k]) / 2 for k in drawn}  # halfway between frames 10 and 40
    assert track_item["classifications"][0]["answer"]["name"] == "police"
    (weather,) = [a for a in label.annotations if a.get("name") == "weather"]
    assert weather["frames"] == [[10, 20]] and weather["answer"]["name"] == "rain"
    assert js_errors == []


def test_reviewer_plays_the_video_label_read_only_and_approves(page, settings, tmp_path, org, org_admin, make_user):
    from apps.labeling import services
    from apps.labeling.models import TaskState
    from tests.e2e.test_review_loop import logged_in

    settings.MEDIA_ROOT = str(tmp_path)
    row, _asset = _probed_video_row(org, org_admin)
    project, lana = queue_for_lana(org, org_admin, make_user, row, media_type="video")
    project.settings["review"]["sample_rate"] = 1.0  # every label goes to review
    project.save(update_fields=["settings"])
    make_user(role="reviewer", organization=org, username="rita")
    from apps.accounts.models import User

    rita = User.objects.get(username="rita")
    services.project_member_set(actor=org_admin, project=project, user=rita, role="reviewer")
    task = services.queue_claim(actor=lana, project=project)
    track = {
        "name": "vehicle",
        "track_id": "car-1",
        "classifications": [{"name": "kind", "answer": {"name": "police"}}],
        "keyframes": [
            {"frame": 0, "bbox": {"left": 10, "top": 20, "width": 60, "height": 40}},
            {"frame": 30, "bbox": {"left": 200, "top": 120, "width": 60, "height": 40}},
            {"frame": 50, "outside": True},
        ],
    }
    services.label_submit(actor=lana, task=task, annotations=[track])
    errors: list[str] = []
    reviewer = logged_in(page, "rita", errors)
    reviewer.goto(f"/projects/{project.id}/review/")
    reviewer.click("#start-reviewing")
    reviewer.wait_for_url(f"**/reviews/{task.id}/")
    reviewer.wait_for_selector("html[data-editor-ready=true]")
    assert reviewer.locator("#objects li").count() == 1
    assert reviewer.locator("#objects li .track-answer").inner_text() == "kind: police"
    assert reviewer.locator("#timeline .tl-key").count() == 3 and reviewer.locator("#timeline .tl-outside").count() == 1
    reviewer.fill("#frame-input", "15")
    reviewer.keyboard.press("Enter")
    assert shown_left(reviewer) == pytest.approx(rectangle_at(15, STEP)[0], abs=1)
    reviewer.screenshot(path=f"{SHOTS}/review-frame15-1366x768.png", full_page=True)
    reviewer.set_viewport_size({"width": 1440, "height": 900})
    reviewer.screenshot(path=f"{SHOTS}/review-frame15-1440x900.png", full_page=True)
    reviewer.keyboard.press("Delete")  # read-only: nothing happens
    assert reviewer.locator("#objects li").count() == 1
    reviewer.click("#submit-label")  # Approve
    reviewer.wait_for_url(f"**/projects/{project.id}/review/**")
    task.refresh_from_db()
    assert task.state == TaskState.DONE
    assert errors == []


def test_split_a_track_and_work_survives_a_reload(page, video_task):
    project, row = video_task
    js_errors = open_label_page(page, project)
    page.wait_for_selector("html[data-editor-ready=true]")
    drag(page, (40, 30), (120, 90))  # frame 0
    page.locator("#objects li.object.selected").get_by_role("radio", name="police").check()
    page.click("#fwd10")
    page.click("#fwd10")
    drag(page, (80, 60), (130, 60))  # frame 20: moved 50 px right
    page.click("#back10")
    page.keyboard.press("s")  # split at frame 10
    doc = page.evaluate("async () => (await window.tdpVideoEditor).serialize()")
    first, second = [d for d in doc if "keyframes" in d]
    assert [k["frame"] for k in first["keyframes"]] == [0, 10] and first["keyframes"][1] == {
        "frame": 10,
        "outside": True,
    }
    assert [k["frame"] for k in second["keyframes"]] == [10, 20] and second["track_id"] != first["track_id"]
    assert second["keyframes"][0]["bbox"]["left"] == pytest.approx(
        (first["keyframes"][0]["bbox"]["left"] + 50 + 40) / 2, abs=0.6
    )
    page.reload()
    page.wait_for_selector("html[data-editor-ready=true]")
    assert page.locator("#objects li").count() == 2
    assert "Restored your unsubmitted work" in page.locator("#video-status").inner_text()
    page.click("#submit-label")
    page.wait_for_url(f"**/projects/{project.id}/**")
    label = Label.objects.get(data_row=row, is_current=True)
    assert sorted(len(a["keyframes"]) for a in label.annotations if "keyframes" in a) == [2, 2]
    assert js_errors == []
