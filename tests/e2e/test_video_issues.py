"""Issues pinned to (frame, track) in the video editor: pin on the current frame and the selected track, then the
issue's "frame N · track" button jumps the player back to that frame. Screenshots in /tmp/shots-video2/."""

from __future__ import annotations

import os

import pytest

from apps.issues.models import Issue
from tests.e2e.test_labeling import open_label_page
from tests.e2e.test_video_editor import drag, frame, video_task  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
SHOTS = "/tmp/shots-video2"


def test_issue_pinned_on_frame_and_track_jumps_the_player(page, video_task):  # noqa: F811
    project, row = video_task
    os.makedirs(SHOTS, exist_ok=True)
    js_errors = open_label_page(page, project)
    page.wait_for_selector("html[data-editor-ready=true]")
    page.click("#fwd10")
    assert frame(page) == 10
    drag(page, (40, 30), (120, 90))  # a new track, selected
    track_id = page.get_attribute("#objects li.object.selected", "data-track")
    assert track_id
    page.fill("#issue-text", "Is this the same car as before?")
    page.click("#pin-object-issue")
    assert page.inner_text("#issue-pin-status") == f"On frame 10, track {track_id}"
    page.click("#issue-submit")
    button = page.locator("#issue-list .issue-frame")
    button.wait_for()
    assert button.inner_text() == f"frame 10 · {track_id}"
    issue = Issue.objects.get(data_row=row)
    assert (issue.frame, issue.track_id) == (10, track_id)
    page.fill("#frame-input", "0")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.documentElement.dataset.videoFrame === '0'")
    button.click()
    page.wait_for_function("() => document.documentElement.dataset.videoFrame === '10'")
    page.screenshot(path=f"{SHOTS}/issue-frame-1366x768.png", full_page=True)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.screenshot(path=f"{SHOTS}/issue-frame-1440x900.png", full_page=True)
    assert js_errors == []
