"""The label page never loses work (issue 22): drafts restore drawn boxes on another visit or device, a submit cut
by the network keeps everything and its retry stores exactly one label, the progress line and "Previous task", and
an issue pinned on a box shows a crop of the image on the issue page.

Set TDP_E2E_SCREENSHOTS=/some/dir to keep screenshots at 1440×900 and 1366×768 (never committed)."""

from __future__ import annotations

import os
import re
import time

import pytest
from playwright.sync_api import expect

from apps.issues import services as issue_services
from apps.issues.models import Issue
from apps.labeling import services
from apps.labeling.models import Draft, Label, Task
from tests.e2e.test_labeling import SCREENSHOTS, drag_box, open_label_page
from tests.e2e.test_labeling import labeler_task as labeler_task  # the fixture
from tests.e2e.test_login import login
from tests.factories import TEST_PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SIZES = ((1440, 900), (1366, 768))


def shots(page, name: str) -> None:
    """Screenshots of the page as it is now at both laptop sizes (only with TDP_E2E_SCREENSHOTS)."""
    if not SCREENSHOTS:
        return
    current = page.viewport_size
    for width, height in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(150)
        page.screenshot(path=os.path.join(SCREENSHOTS, f"{name}-{width}x{height}.png"))
    page.set_viewport_size(current)


def until(check, timeout: float = 15.0) -> None:
    """Poll `check()` until it is true (the page's CSP forbids Playwright's wait_for_function)."""
    end = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.1)


def draft_saved(page) -> None:
    expect(page.locator("#draft-status")).to_have_text(re.compile(r"^Draft saved"), timeout=15_000)


def three_boxes(page) -> None:
    page.wait_for_selector("#stage.ready")
    page.click("#tools button[data-tool=vehicle]")
    for start, end in (((0.05, 0.05), (0.25, 0.3)), ((0.4, 0.1), (0.6, 0.4)), ((0.7, 0.5), (0.95, 0.9))):
        drag_box(page, start, end)
        page.keyboard.press("Escape")  # deselect, keep the tool
        page.click("#tools button[data-tool=vehicle]")
    assert page.locator("#overlay g.obj rect.shape").count() == 3


def answer_everything(page) -> None:
    """The required nested answer of the selected box, and the global question."""
    page.get_by_role("radio", name="ambulance").check()
    page.get_by_role("radio", name="yes").check()
    page.locator("#questions").get_by_role("radio", name="sunny").check()


def test_three_boxes_come_back_from_the_draft_on_another_device(page, browser, live_server, labeler_task):
    project, row, labeler = labeler_task
    js_errors = open_label_page(page, project)
    task = Task.objects.get(project=project, data_row=row)
    three_boxes(page)
    draft_saved(page)
    draft = Draft.objects.get(task=task, user=labeler)
    assert len([a for a in draft.annotations if "bbox" in a]) == 3
    assert not Label.objects.exists()  # a draft is not a label
    shots(page, "progress-line")
    assert "1 of 1 in this batch · 1 left for you" in page.locator("#progress-line").inner_text()

    # Leaving right after a change (not yet on the server) asks first.
    page.click("#tools button[data-tool=vehicle]")
    drag_box(page, (0.3, 0.6), (0.45, 0.8))
    dialogs: list[str] = []

    def stay(dialog) -> None:
        dialogs.append(dialog.type)
        dialog.dismiss()

    page.once("dialog", stay)
    page.click("nav a:has-text('My work')", no_wait_after=True)
    page.wait_for_timeout(500)
    assert dialogs == ["beforeunload"]
    assert page.url.endswith(f"/tasks/{task.id}/label")
    page.keyboard.press("Control+z")  # back to three boxes
    draft_saved(page)
    assert len(Draft.objects.get(task=task).annotations) == 3

    # Navigate away without submitting (nothing unsaved now: no question), then come back on "another device".
    page.click("nav a:has-text('My work')")
    page.wait_for_url("**/")
    other = browser.new_context(viewport={"width": 1440, "height": 900}, base_url=live_server.url)
    device = other.new_page()
    try:
        login(device, "lana", TEST_PASSWORD)
        device.wait_for_url("**/")
        device.goto(f"/projects/{project.id}/")
        device.click("#start-labeling")  # the claim hands back the same task (my live lease)
        device.wait_for_url(f"**/tasks/{task.id}/label")
        device.wait_for_selector("#stage.ready")
        message = device.locator("#editor-message")
        message.wait_for()
        assert "Restored your unsubmitted work from the server" in message.inner_text()
        assert "3 objects" in message.inner_text()
        assert device.locator("#overlay g.obj rect.shape").count() == 3
        assert device.locator("#objects li.object").count() == 3
        shots(device, "restored-draft")
    finally:
        other.close()
    assert js_errors == []


def test_a_submit_cut_by_the_network_keeps_the_boxes_and_the_retry_stores_one_label(page, labeler_task):
    project, row, _labeler = labeler_task
    js_errors = open_label_page(page, project)
    task = Task.objects.get(project=project, data_row=row)
    page.wait_for_selector("#stage.ready")
    page.click("#tools button[data-tool=vehicle]")
    drag_box(page, (0.2, 0.2), (0.6, 0.7))
    answer_everything(page)

    # 1. The network is down: nothing reaches the server.
    page.route("**/api/v1/tasks/*/labels", lambda route: route.abort())
    page.click("#submit-label")
    status = page.locator("#submit-status.error")
    status.wait_for()
    assert "Not sent: the connection to the server failed" in status.inner_text()
    assert "Your work is still here" in status.inner_text()
    assert page.locator("#overlay g.obj rect.shape").count() == 1
    assert page.url.endswith(f"/tasks/{task.id}/label")
    assert not Label.objects.exists()
    shots(page, "submit-failed")
    page.unroute("**/api/v1/tasks/*/labels")

    # 2. The label reaches the server but its answer is lost on the way back: stored once, the page still waits.
    keys: list[str] = []

    def lose_answer(route) -> None:
        keys.append(route.request.headers.get("idempotency-key", ""))
        route.fetch()
        route.abort()

    page.route("**/api/v1/tasks/*/labels", lose_answer)
    page.get_by_role("button", name="Retry now").click()
    expect(page.locator("#submit-status p")).to_contain_text("Trying again")
    assert Label.objects.filter(task=task).count() == 1
    assert page.locator("#overlay g.obj rect.shape").count() == 1
    page.unroute("**/api/v1/tasks/*/labels")

    # 3. The network is back: the retry (same Idempotency-Key) gets the stored answer; still exactly one label.
    with page.expect_response(lambda r: "/api/v1/tasks/" in r.url and r.request.method == "POST") as answer:
        page.get_by_role("button", name="Retry now").click()
    assert answer.value.status == 201
    assert answer.value.request.headers["idempotency-key"] == keys[0] != ""
    page.wait_for_url(f"**/projects/{project.id}/")
    assert "Label submitted." in page.locator(".messages").inner_text()
    labels = Label.objects.filter(task=task)
    assert labels.count() == 1 and labels.get().revision == 1
    assert not Draft.objects.filter(task=task).exists()  # the submit deleted the draft
    assert page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('tdp-draft:')).length") == 0
    assert js_errors == []


def test_an_empty_label_asks_before_it_is_sent(page, labeler_task):
    project, _row, _ = labeler_task
    open_label_page(page, project)
    page.wait_for_selector("#stage.ready")
    page.click("#submit-label")
    warning = page.locator("#submit-status.warning")
    warning.wait_for()
    assert "no objects and no answers" in warning.inner_text()
    page.get_by_role("button", name="Keep working").click()
    assert page.locator("#submit-status").is_hidden()
    assert not Label.objects.exists()


def test_previous_task_reopens_my_label_for_an_edit(page, labeler_task, org_admin):
    project, _row, labeler = labeler_task
    services.project_update(actor=org_admin, project=project, data={"settings": {"review": {"sample_rate": 1.0}}})
    assert Task.objects.get(project=project).state == "to_label"
    task = services.queue_claim(actor=labeler, project=project)
    assert task is not None
    label = services.label_submit(
        actor=labeler,
        task=task,
        annotations=[
            {
                "name": "vehicle",
                "bbox": {"top": 10, "left": 10, "width": 50, "height": 40},
                "classifications": [{"name": "kind", "answer": {"name": "police"}}],
            }
        ],
    )
    login(page, "lana", TEST_PASSWORD)
    page.wait_for_url("**/")
    page.goto(f"/labels/{label.pk}/edit")
    page.wait_for_selector("#stage.ready")
    assert "Editing your label · revision 1" in page.locator("#progress-line").inner_text()
    assert page.locator("#overlay g.obj rect.shape").count() == 1
    page.locator("#objects li.object").first.click()
    page.keyboard.press("Delete")
    page.click("#submit-label")
    page.get_by_role("button", name="Submit anyway").click()  # no objects and no answers left: asked first
    page.wait_for_url(f"**/projects/{project.id}/")
    assert "Your label is updated." in page.locator(".messages").inner_text()
    revisions = list(Label.objects.filter(task=task).order_by("revision"))
    assert [(r.revision, r.is_current, len(r.annotations)) for r in revisions] == [(1, False, 1), (2, True, 0)]


def test_an_issue_pinned_on_a_box_shows_the_crop_on_the_issue_page(page, labeler_task, org_admin):
    project, row, _labeler = labeler_task
    js_errors = open_label_page(page, project)
    task = Task.objects.get(project=project, data_row=row)
    page.wait_for_selector("#stage.ready")
    page.click("#tools button[data-tool=vehicle]")
    drag_box(page, (0.3, 0.3), (0.55, 0.6))  # the new box is selected
    page.fill("#issue-text", "Is this a van or a truck?")
    page.click("#pin-object-issue")
    assert "On vehicle #1" in page.locator("#issue-pin-status").inner_text()
    page.click("#issue-submit")
    page.locator("#issue-list li.issue").first.wait_for()
    assert "on vehicle #1" in page.locator("#issue-list li.issue").first.inner_text()
    issue = Issue.objects.get(task=task)
    assert issue.annotation_index == 0 and issue.feature_name == "vehicle"
    assert "bbox" in issue.annotation_geometry

    page.goto(f"/issues/{issue.id}/")
    crop = page.locator("#issue-crop img")
    crop.wait_for()
    until(lambda: crop.evaluate("img => img.complete"))
    size = crop.evaluate("img => [img.naturalWidth, img.naturalHeight]")
    assert size[0] > 100 and size[1] > 100, size
    assert "vehicle #1" in page.locator("#issue-crop figcaption").inner_text()
    shots(page, "issue-crop")

    # A reviewer answers with a mention: the labeler's inbox shows the same picture beside the entry.
    issue_services.comment_create(actor=org_admin, issue=issue, text="@lana it is a van, see the box")
    page.goto("/inbox/")
    thumb = page.locator("#inbox li.with-crop .inbox-crop img")
    thumb.wait_for()
    until(lambda: thumb.evaluate("img => img.complete && img.naturalWidth > 0"))
    shots(page, "inbox-crop")
    assert js_errors == []


def test_work_done_offline_comes_back_from_this_browser_after_a_reload(page, labeler_task):
    project, row, labeler = labeler_task
    js_errors = open_label_page(page, project)
    task = Task.objects.get(project=project, data_row=row)
    page.wait_for_selector("#stage.ready")
    page.route("**/api/v1/tasks/*/draft", lambda route: route.abort())  # the server draft cannot be reached
    page.click("#tools button[data-tool=vehicle]")
    drag_box(page, (0.1, 0.1), (0.4, 0.5))
    expect(page.locator("#draft-status")).to_have_text(re.compile("Offline"), timeout=15_000)
    assert not Draft.objects.filter(task=task).exists()
    page.once("dialog", lambda dialog: dialog.accept())  # "Leave site?": yes (the change is only in this browser)
    page.reload()  # a crash or reload while the server is still out of reach
    page.wait_for_selector("#stage.ready")
    message = page.locator("#editor-message")
    message.wait_for()
    assert "Restored your unsubmitted work from this browser" in message.inner_text()
    assert page.locator("#objects li.object").count() == 1
    # …and it reaches the server once it is back (the next retry).
    page.unroute("**/api/v1/tasks/*/draft")
    expect(page.locator("#draft-status")).to_have_text(re.compile(r"^Draft saved"), timeout=25_000)
    assert len(Draft.objects.get(task=task, user=labeler).annotations) == 1
    assert js_errors == []
