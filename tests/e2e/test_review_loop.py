"""The whole review loop in Chromium: a labeler pins an issue on the image and submits; the reviewer sees the marker,
replies and rejects with feedback; the labeler gets the task back in rework with the feedback shown, fixes it and
resubmits; the reviewer resolves the issue and approves."""

from __future__ import annotations

import io

import pytest
from django.core import mail

from apps.datasets import services as dataset_services
from apps.datasets.models import DataRow, Dataset
from apps.issues.models import Issue
from apps.labeling import services
from apps.labeling.models import Label, Task
from apps.review.models import Review
from tests.e2e.conftest import close_quietly
from tests.e2e.test_labeling import IMAGE_H, IMAGE_W, drag_box, png, screenshot, vehicles_ontology
from tests.e2e.test_login import login
from tests.factories import TEST_PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def review_setup(settings, tmp_path, org, org_admin, make_user):
    settings.MEDIA_ROOT = str(tmp_path)
    dataset = Dataset.objects.create(organization=org, name="street")
    body = png(IMAGE_W, IMAGE_H)
    dataset_services.data_rows_upload(
        actor=org_admin,
        dataset=dataset,
        files=[dataset_services.UploadedFile(name="street.png", file=io.BytesIO(body), size=len(body))],
    )
    row = DataRow.objects.get(dataset=dataset)
    DataRow.objects.filter(pk=row.pk).update(width=IMAGE_W, height=IMAGE_H)
    project = services.project_create(
        actor=org_admin,
        name="Vehicles",
        ontology=vehicles_ontology(org, org_admin),
        instructions="Box every vehicle.",
        settings={"review": {"sample_rate": 1.0}},
    )
    lana = make_user(role="labeler", organization=org, username="lana")
    rita = make_user(role="reviewer", organization=org, username="rita")
    services.project_member_set(actor=org_admin, project=project, user=lana, role="labeler")
    services.project_member_set(actor=org_admin, project=project, user=rita, role="reviewer")
    services.batch_create(actor=org_admin, project=project, name="b1", data_row_ids=[str(row.pk)], priority=3)
    return project, row, lana, rita


@pytest.fixture
def new_page(browser, live_server):
    """Log a user in, in a browser context of their own (closed after the test)."""
    contexts = []

    def make(username: str, errors: list[str]):
        context = browser.new_context(viewport={"width": 1366, "height": 768}, base_url=live_server.url)
        contexts.append(context)
        return logged_in(context.new_page(), username, errors)

    yield make
    for context in contexts:
        close_quietly(context)


def logged_in(page, username: str, errors: list[str]):
    page.set_default_timeout(15_000)
    page.on("pageerror", lambda error: errors.append(f"{username}: {error}"))
    login(page, username, TEST_PASSWORD)
    page.wait_for_url("**/")
    return page


def click_on_image(page, fx: float, fy: float) -> tuple[float, float]:
    rect = page.locator("#asset img").bounding_box()
    x, y = rect["x"] + rect["width"] * fx, rect["y"] + rect["height"] * fy
    page.mouse.click(x, y)
    return (x - rect["x"]) * IMAGE_W / rect["width"], (y - rect["y"]) * IMAGE_H / rect["height"]


def answer_box_questions(page) -> None:
    page.get_by_role("radio", name="police").check()
    page.locator("#questions").get_by_role("radio", name="sunny").check()


def test_issue_reject_rework_resubmit_resolve_approve(new_page, review_setup):
    project, row, _lana, rita = review_setup
    errors: list[str] = []
    task = Task.objects.get(project=project, data_row=row)

    # The labeler pins an issue on the image (the click must not draw), then labels and submits.
    labeler = new_page("lana", errors)
    labeler.click(f"a:has-text('{project.name}')")
    labeler.click("#start-labeling")
    labeler.wait_for_url(f"**/tasks/{task.id}/label")
    labeler.wait_for_selector("#stage.ready")
    labeler.click("#pin-issue")
    x, y = click_on_image(labeler, 0.5, 0.4)
    assert labeler.locator("#overlay g.obj").count() == 0
    labeler.fill("#issue-text", "Is the half-hidden car a vehicle too? @rita")
    labeler.click("#issue-submit")
    labeler.wait_for_selector(".issue-marker.open")
    issue = Issue.objects.get()
    assert abs(issue.x - x) <= 1.5 and abs(issue.y - y) <= 1.5 and issue.task_id == task.id
    assert [m.to for m in mail.outbox] == [[rita.email]]
    labeler.click("#tools button[data-tool=vehicle]")
    drag_box(labeler, (0.1, 0.5), (0.4, 0.9))
    answer_box_questions(labeler)
    labeler.click("#submit-label")
    labeler.wait_for_url(f"**/projects/{project.id}/")
    first = Label.objects.get(task=task, is_current=True)
    assert Task.objects.get(pk=task.pk).state == "in_review"

    # The reviewer sees the marker where it was pinned, replies in the thread and rejects with feedback.
    reviewer = new_page("rita", errors)
    reviewer.goto(f"/projects/{project.id}/review/")
    reviewer.click("#start-reviewing")
    reviewer.wait_for_url(f"**/reviews/{task.id}/")
    reviewer.wait_for_selector("#stage.ready")
    marker = reviewer.locator(f".issue-marker[data-issue-id='{issue.id}']")
    marker.wait_for(state="visible")
    # The issues panel redraws its markers when its thread list refreshes: measure once the marker has settled.
    box = image = None
    for _ in range(100):
        box = marker.bounding_box()
        image = reviewer.locator("#asset img").bounding_box()
        if box is not None and image is not None:
            break
        reviewer.wait_for_timeout(100)
    assert box is not None and image is not None, "the issue marker never settled on the image"
    tip = (
        (box["x"] + box["width"] / 2 - image["x"]) / image["width"],
        (box["y"] + box["height"] - image["y"]) / image["height"],
    )
    assert abs(tip[0] - 0.5) < 0.03 and abs(tip[1] - 0.4) < 0.03
    assert reviewer.locator("#overlay g.obj rect.shape").count() == 1  # the label, drawn read-only
    drag_box(reviewer, (0.6, 0.1), (0.9, 0.3))  # read-only: nothing is drawn
    assert reviewer.locator("#overlay g.obj rect.shape").count() == 1
    marker.click()
    thread = reviewer.locator(f"li.issue[data-issue-id='{issue.id}']")
    assert "active" in (thread.get_attribute("class") or "")
    thread.locator(".issue-reply-text").fill("Yes: box it as well.")
    thread.locator(".issue-reply").click()
    reviewer.wait_for_selector(".issue-comment:has-text('Yes: box it as well.')")
    reviewer.fill("#feedback", "Box the half-hidden car too (see the issue).")
    screenshot(reviewer, "review-page.png")
    reviewer.click("#reject-label")
    reviewer.wait_for_url(f"**/projects/{project.id}/review/")
    assert Task.objects.get(pk=task.pk).state == "in_rework"

    # The labeler gets the task back in rework, with the feedback, fixes it and resubmits.
    labeler.goto(f"/projects/{project.id}/")
    labeler.click("#start-labeling")
    labeler.wait_for_url(f"**/tasks/{task.id}/label")
    assert "Box the half-hidden car too" in labeler.locator("#review-feedback").inner_text()
    labeler.wait_for_selector("#stage.ready")
    assert labeler.locator("#overlay g.obj rect.shape").count() == 1
    labeler.wait_for_selector("#issues-panel .issue-comment:has-text('Yes: box it as well.')")
    labeler.wait_for_selector(f".issue-marker.open[data-issue-id='{issue.id}']")
    labeler.keyboard.press("Escape")
    labeler.click("#tools button[data-tool=vehicle]")
    drag_box(labeler, (0.45, 0.35), (0.6, 0.5))
    labeler.locator("#objects li.object.selected").get_by_role("radio", name="ambulance").check()
    labeler.get_by_role("radio", name="yes").check()
    labeler.click("#submit-label")
    labeler.wait_for_url(f"**/projects/{project.id}/")
    fixed = Label.objects.get(task=task, is_current=True)
    assert fixed.revision == 2 and len([a for a in fixed.annotations if "bbox" in a]) == 2

    # The reviewer resolves the issue and approves.
    reviewer.goto(f"/projects/{project.id}/review/")
    reviewer.click("#start-reviewing")
    reviewer.wait_for_url(f"**/reviews/{task.id}/")
    reviewer.wait_for_selector("#stage.ready")
    assert reviewer.locator("#overlay g.obj rect.shape").count() == 2
    reviewer.locator(f"li.issue[data-issue-id='{issue.id}'] .issue-resolve").click()
    reviewer.wait_for_selector(f".issue-marker.resolved[data-issue-id='{issue.id}']")
    reviewer.click("#submit-label")
    reviewer.wait_for_url(f"**/projects/{project.id}/review/")

    assert Task.objects.get(pk=task.pk).state == "done"
    assert Issue.objects.get().status == "resolved"
    assert [(r.decision, r.label_id) for r in Review.objects.order_by("created_at")] == [
        ("reject", first.id),
        ("approve", fixed.id),
    ]
    assert errors == []


def test_reviewer_edits_with_the_keyboard_and_approves(new_page, review_setup):
    project, _row, lana, rita = review_setup
    errors: list[str] = []
    task = services.queue_claim(actor=lana, project=project)
    services.label_submit(
        actor=lana,
        task=task,
        annotations=[
            {
                "name": "vehicle",
                "bbox": {"top": 20, "left": 30, "height": 60, "width": 90},
                "classifications": [{"name": "kind", "answer": {"name": "police"}}],
            },
            {"name": "weather", "answer": {"name": "sunny"}},
        ],
    )
    reviewer = new_page("rita", errors)
    reviewer.goto(f"/projects/{project.id}/review/")
    reviewer.click("#start-reviewing")
    reviewer.wait_for_url(f"**/reviews/{task.id}/")
    reviewer.wait_for_selector("#stage.ready")
    assert reviewer.locator("#review-mode").inner_text() == "Read-only"
    assert reviewer.locator("#questions").get_by_role("radio", name="sunny").is_checked()
    assert reviewer.locator("#questions").get_by_role("radio", name="sunny").is_disabled()
    reviewer.keyboard.press("e")
    assert reviewer.locator("#review-mode").inner_text() == "Editing"
    reviewer.click("#tools button[data-tool=vehicle]")
    expected = drag_box(reviewer, (0.5, 0.5), (0.8, 0.8))
    reviewer.locator("#objects li.object.selected").get_by_role("radio", name="ambulance").check()
    reviewer.get_by_role("radio", name="no").check()
    reviewer.locator("#overlay").focus()
    reviewer.keyboard.press("Escape")
    reviewer.keyboard.press("Escape")
    reviewer.keyboard.press("e")  # back to read-only: the edit stays, A approves it
    assert reviewer.locator("#review-mode").inner_text() == "Read-only"
    reviewer.keyboard.press("a")
    reviewer.wait_for_url(f"**/projects/{project.id}/review/")

    current = Label.objects.get(task=task, is_current=True)
    assert current.labeler_id == rita.pk and current.revision == 2
    boxes = [a["bbox"] for a in current.annotations if "bbox" in a]
    assert len(boxes) == 2
    assert any(abs(b["left"] - expected["left"]) <= 1 and abs(b["width"] - expected["width"]) <= 1 for b in boxes)
    review = Review.objects.get()
    assert review.edited and review.result_label_id == current.id and review.decision == "approve"
    assert Task.objects.get(pk=task.pk).state == "done"
    assert errors == []
