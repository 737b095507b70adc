"""Server drafts in the video editor (the image editor's drafts.js): the work reaches the server draft, comes back
after a reload that lost this browser's copy, and survives a failed submit."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from apps.labeling.models import Draft, Label
from tests.e2e.test_labeling import open_label_page
from tests.e2e.test_video_editor import drag, frame, video_task  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SERIALIZE = "async () => (await window.tdpVideoEditor).serialize()"


def tracks_of(document: list[dict]) -> list[dict]:
    return [item for item in document if "keyframes" in item]


def draw_and_move(page) -> None:
    drag(page, (40, 30), (120, 90))  # frame 0: an 80×60 box at (40, 30)
    page.locator("#objects li.object.selected").get_by_role("radio", name="police").check()
    page.click("#fwd10")
    page.click("#fwd10")
    assert frame(page) == 20
    drag(page, (80, 60), (130, 80))  # frame 20: moved by (50, 20)


def saved(page) -> None:
    expect(page.locator("#draft-status")).to_have_text(re.compile(r"^Draft saved"), timeout=15_000)


def test_video_work_comes_back_from_the_server_draft_after_a_reload(page, video_task):  # noqa: F811
    project, row = video_task
    js_errors = open_label_page(page, project)
    page.wait_for_selector("html[data-editor-ready=true]")
    draw_and_move(page)
    expected = page.evaluate(SERIALIZE)
    saved(page)
    (draft,) = Draft.objects.filter(task__data_row=row)
    assert draft.annotations == expected
    (track,) = tracks_of(draft.annotations)
    assert [k["frame"] for k in track["keyframes"]] == [0, 20]
    assert track["keyframes"][1]["bbox"]["left"] == pytest.approx(track["keyframes"][0]["bbox"]["left"] + 50, abs=0.6)

    page.evaluate("() => window.localStorage.clear()")  # only the server has the work now
    page.reload()
    page.wait_for_selector("html[data-editor-ready=true]")
    expect(page.locator("#video-status")).to_contain_text("Restored your unsubmitted work from the server")
    assert page.locator("#objects li").count() == 1
    assert page.evaluate(SERIALIZE) == expected
    page.keyboard.press("Control+z")  # the restore is undoable
    assert tracks_of(page.evaluate(SERIALIZE)) == []
    page.keyboard.press("Control+Shift+z")
    assert page.evaluate(SERIALIZE) == expected
    assert js_errors == []


def test_a_failed_video_submit_keeps_the_work_and_its_draft(page, video_task):  # noqa: F811
    project, row = video_task
    js_errors = open_label_page(page, project)
    page.wait_for_selector("html[data-editor-ready=true]")
    draw_and_move(page)
    expected = page.evaluate(SERIALIZE)
    page.route("**/api/v1/tasks/*/labels", lambda route: route.abort())
    page.click("#submit-label")
    expect(page.locator("#video-status")).to_contain_text("Not sent")
    assert page.evaluate(SERIALIZE) == expected  # nothing lost on the page
    assert not Label.objects.filter(data_row=row).exists()
    saved(page)  # the draft saves again once the submit failed
    assert Draft.objects.get(task__data_row=row).annotations == expected

    page.unroute("**/api/v1/tasks/*/labels")
    page.reload()
    page.wait_for_selector("html[data-editor-ready=true]")
    assert page.evaluate(SERIALIZE) == expected
    page.click("#submit-label")
    page.wait_for_url(f"**/projects/{project.id}/**")
    label = Label.objects.get(data_row=row, is_current=True)
    stored, sent = tracks_of(label.annotations), tracks_of(expected)
    assert [(t["track_id"], t["keyframes"]) for t in stored] == [(t["track_id"], t["keyframes"]) for t in sent]
    assert not Draft.objects.filter(task__data_row=row).exists()  # the submit dropped the draft
    assert js_errors == []
