"""Merging two video tracks in the editor: one track id, the earlier track's keyframes before the later track's
first keyframe, the later track's from there on (an overlap follows the later track); undoable; stored on submit."""

from __future__ import annotations

import os

import pytest

from apps.labeling.models import Label
from tests.e2e.test_labeling import open_label_page
from tests.e2e.test_video_editor import SHOTS, drag, frame, video_task  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SERIALIZE = "async () => (await window.tdpVideoEditor).serialize()"


def tracks(page) -> list[dict]:
    return [item for item in page.evaluate(SERIALIZE) if "keyframes" in item]


def police(page) -> None:
    page.locator("#objects li.object.selected").get_by_role("radio", name="police").check()


def test_merge_two_tracks_into_one_undo_and_submit(page, video_task):  # noqa: F811
    project, row = video_task
    js_errors = open_label_page(page, project)
    page.wait_for_selector("html[data-editor-ready=true]")
    drag(page, (20, 20), (80, 60))  # t1 on frame 0
    police(page)
    page.click("#fwd10")
    page.keyboard.press("o")  # t1 leaves the picture at frame 10
    page.click("#fwd10")
    assert frame(page) == 20
    drag(page, (150, 100), (230, 160))  # t2 appears on frame 20
    police(page)
    page.click("#fwd10")
    drag(page, (190, 130), (210, 140))  # frame 30: t2 moved by (20, 10)
    before = tracks(page)
    assert [t["track_id"] for t in before] == ["t1", "t2"]
    t1, t2 = before

    page.click("#objects li[data-track=t1] .object-name")
    page.select_option("#merge-with", label="2. t2")
    os.makedirs(SHOTS, exist_ok=True)
    page.screenshot(path=f"{SHOTS}/editor-merge-1366x768.png", full_page=True)
    page.click("#merge-track")
    (merged,) = tracks(page)
    assert merged["track_id"] == "t1"
    assert merged["keyframes"] == t1["keyframes"] + t2["keyframes"]  # 0, outside 10, 20, 30: no overlap
    assert [k["frame"] for k in merged["keyframes"]] == [0, 10, 20, 30]
    assert page.locator("#objects li").count() == 1
    assert "Merged into track t1" in page.locator("#video-status").inner_text()

    page.keyboard.press("Control+z")
    assert tracks(page) == before
    page.keyboard.press("Control+Shift+z")
    assert [t["track_id"] for t in tracks(page)] == ["t1"]

    page.click("#submit-label")
    page.wait_for_url(f"**/projects/{project.id}/**")
    label = Label.objects.get(data_row=row, is_current=True)
    (stored,) = [a for a in label.annotations if "keyframes" in a]
    assert stored["track_id"] == "t1" and stored["keyframes"] == merged["keyframes"]
    assert js_errors == []


def test_merging_a_split_back_follows_the_later_track_on_the_overlap(page, video_task):  # noqa: F811
    project, _row = video_task
    js_errors = open_label_page(page, project)
    page.wait_for_selector("html[data-editor-ready=true]")
    drag(page, (40, 30), (120, 90))  # frame 0
    police(page)
    page.click("#fwd10")
    page.click("#fwd10")
    drag(page, (80, 60), (130, 60))  # frame 20: 50 px right
    page.click("#back10")
    page.keyboard.press("s")  # split at 10: t1 = [0, outside 10], t2 = [10, 20]
    first, second = tracks(page)
    assert first["keyframes"][-1] == {"frame": 10, "outside": True}
    page.select_option("#merge-with", label="1. t1")  # t2 is selected after the split; merge it with t1
    page.click("#merge-track")
    (merged,) = tracks(page)
    assert merged["track_id"] == "t1"  # the earlier track's id
    # t1's outside mark at 10 is on the overlap: t2 (the later track) holds from its first keyframe on
    assert merged["keyframes"] == [first["keyframes"][0], *second["keyframes"]]
    assert js_errors == []
