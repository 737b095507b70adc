"""The labeling editor's user paths in Chromium (issue 22's proof): zoom 4× around a point and draw exactly in image
pixels; draw, move, delete, undo three times and redo once; the reviewer reads nested answers in read-only mode
and the approve button says Approve; hotkeys (Tab, H, Ctrl+D, "?", Ctrl+Enter)."""

from __future__ import annotations

import os

import pytest

from apps.labeling import services
from apps.labeling.models import Label, Task
from tests.e2e.conftest import close_quietly
from tests.e2e.test_labeling import IMAGE_H, IMAGE_W, labeler_task, open_label_page  # noqa: F401 (fixture)
from tests.e2e.test_review_loop import new_page, review_setup  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def image_rect(page) -> dict[str, float]:
    return page.locator("#asset img").bounding_box()


def to_image(rect: dict[str, float], x: float, y: float) -> tuple[float, float]:
    return (x - rect["x"]) * IMAGE_W / rect["width"], (y - rect["y"]) * IMAGE_H / rect["height"]


def drag(page, a: tuple[float, float], b: tuple[float, float]) -> None:
    page.mouse.move(*a)
    page.mouse.down()
    page.mouse.move((a[0] + b[0]) / 2, (a[1] + b[1]) / 2, steps=3)
    page.mouse.move(*b, steps=3)
    page.mouse.up()


def boxes(page) -> list[dict[str, float]]:
    return page.evaluate("() => window.tdpEditor.getDocument().filter((a) => a.bbox).map((a) => a.bbox)")


def test_zoom_4x_around_a_point_then_draw_a_box_exact_to_a_quarter_pixel(page, labeler_task):  # noqa: F811
    project, row, _labeler = labeler_task
    js_errors = open_label_page(page, project)
    page.wait_for_selector("#stage.ready")
    task = Task.objects.get(project=project, data_row=row)
    fit = float(page.get_attribute("#asset", "data-zoom"))
    rect = image_rect(page)
    anchor = (round(rect["x"] + rect["width"] * 0.3), round(rect["y"] + rect["height"] * 0.4))
    under = to_image(rect, *anchor)
    page.mouse.move(*anchor)
    for _ in range(4):  # ln(4) / 0.002 per unit of deltaY, in four wheel notches
        page.mouse.wheel(0, -173.28679513998632)
    page.wait_for_function(f"() => Number(document.getElementById('asset').dataset.zoom) > {fit * 3.9}")
    zoom = float(page.get_attribute("#asset", "data-zoom"))
    assert zoom == pytest.approx(fit * 4, rel=1e-3)
    assert page.locator("#zoom-level").inner_text() == f"{round(zoom * 100)} %"
    rect = image_rect(page)
    assert rect["width"] == pytest.approx(IMAGE_W * zoom, abs=0.05)  # layout rounds to 1/64 px
    after = to_image(rect, *anchor)
    assert after == pytest.approx(under, abs=0.01)  # the point under the pointer stayed put

    start, end = (anchor[0] - 37, anchor[1] - 23), (anchor[0] + 61, anchor[1] + 45)
    drag(page, start, end)
    (x0, y0), (x1, y1) = to_image(rect, *start), to_image(rect, *end)
    page.locator("#objects li.object.selected").get_by_role("radio", name="police").check()
    page.keyboard.press("Control+Enter")  # the submit hotkey
    page.wait_for_url(f"**/projects/{project.id}/")
    label = Label.objects.get(task=task, is_current=True)
    (stored,) = [a["bbox"] for a in label.annotations if "bbox" in a]
    expected = {"left": x0, "top": y0, "width": x1 - x0, "height": y1 - y0}
    for key, value in expected.items():
        assert abs(stored[key] - value) <= 0.25, (key, stored, expected)
    assert js_errors == []


def test_draw_move_delete_then_undo_three_times_and_redo_once(page, labeler_task):  # noqa: F811
    project, _row, _labeler = labeler_task
    js_errors = open_label_page(page, project)
    page.wait_for_selector("#stage.ready")
    rect = image_rect(page)
    at = lambda fx, fy: (rect["x"] + rect["width"] * fx, rect["y"] + rect["height"] * fy)  # noqa: E731
    drag(page, at(0.1, 0.1), at(0.3, 0.3))  # A
    drag(page, at(0.5, 0.5), at(0.8, 0.8))  # B
    a, b = boxes(page)
    drag(page, at(0.6, 0.6), at(0.65, 0.7))  # move B (selected, the tool in hand moves it)
    moved = boxes(page)[1]
    assert moved["left"] > b["left"] and moved["top"] > b["top"] and moved["width"] == b["width"]
    page.locator("#objects li.object").first.locator(".object-head").click()  # select A…
    page.keyboard.press("Delete")  # …and delete it
    assert boxes(page) == [moved]
    for _ in range(3):
        page.keyboard.press("Control+z")
    assert boxes(page) == [a]
    assert page.locator("#overlay g.obj").count() == 1
    page.keyboard.press("Control+Shift+z")
    assert boxes(page) == [a, b]
    assert page.locator("#overlay g.obj rect.shape").count() == 2
    assert page.locator("#objects li.object").count() == 2
    page.keyboard.press("Control+y")  # redo the move
    assert boxes(page) == [a, moved]
    assert "Redone: move" in page.locator("#editor-message").inner_text()

    # Tab walks the objects, Ctrl+D duplicates, H hides, "?" lists the shortcuts.
    page.keyboard.press("Escape")
    page.keyboard.press("Escape")
    page.keyboard.press("Tab")
    assert page.locator("#objects li.object.selected").inner_text().startswith("vehicle 1")
    page.keyboard.press("Tab")
    assert page.locator("#objects li.object.selected").inner_text().startswith("vehicle 2")
    page.keyboard.press("Control+d")
    assert len(boxes(page)) == 3 and page.locator("#overlay text.label").all_text_contents()[-1] == "vehicle 3"
    page.keyboard.press("h")
    assert page.locator("#overlay g.obj.hidden").count() == 1
    page.keyboard.press("Control+z")
    page.keyboard.press("Control+z")
    assert len(boxes(page)) == 2 and page.locator("#overlay g.obj.hidden").count() == 0
    page.keyboard.press("?")
    assert page.locator("#shortcut-overlay").is_visible()
    assert "Ctrl" in page.locator("#shortcut-overlay").inner_text()
    page.keyboard.press("Escape")
    assert not page.locator("#shortcut-overlay").is_visible()
    assert js_errors == []


def test_side_panel_follows_a_press_on_the_image_after_release_even_outside_it(page, labeler_task):  # noqa: F811
    """While the pointer is down on the image the object list waits (a drag frame touches only the selected shape);
    the release brings it up to date, also when it happens outside the image."""
    project, _row, _labeler = labeler_task
    js_errors = open_label_page(page, project)
    page.wait_for_selector("#stage.ready")
    rect = image_rect(page)
    at = lambda fx, fy: (rect["x"] + rect["width"] * fx, rect["y"] + rect["height"] * fy)  # noqa: E731
    drag(page, at(0.1, 0.1), at(0.3, 0.3))
    drag(page, at(0.5, 0.5), at(0.8, 0.8))
    page.keyboard.press("Escape")
    page.keyboard.press("Escape")  # nothing selected, select mode
    page.mouse.move(*at(0.2, 0.2))  # press vehicle 1, drag it, release: moved, selected, its row expanded
    page.mouse.down()
    page.mouse.move(*at(0.22, 0.21), steps=3)
    page.mouse.up()
    assert page.locator("#objects li.object.selected").inner_text().startswith("vehicle 1")
    assert page.locator("#objects li.object.selected .object-questions").count() == 1
    page.mouse.move(*at(0.95, 0.05))  # press empty image (deselects), release over the side panel
    page.mouse.down()
    box = page.locator("#objects").bounding_box()
    page.mouse.move(box["x"] + 20, box["y"] + 5, steps=3)
    page.mouse.up()
    assert page.locator("#objects li.object.selected").count() == 0
    assert js_errors == []


def test_reviewer_reads_nested_answers_in_read_only_mode_and_approves(new_page, review_setup):  # noqa: F811
    project, _row, lana, _rita = review_setup
    errors: list[str] = []
    task = services.queue_claim(actor=lana, project=project)
    services.label_submit(
        actor=lana,
        task=task,
        annotations=[
            {
                "name": "vehicle",
                "bbox": {"top": 20, "left": 30, "height": 60, "width": 90},
                "classifications": [
                    {
                        "name": "kind",
                        "answer": {
                            "name": "ambulance",
                            "classifications": [{"name": "lights_on", "answer": {"name": "yes"}}],
                        },
                    }
                ],
            },
            {
                "name": "vehicle",
                "bbox": {"top": 120, "left": 200, "height": 50, "width": 60},
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
    rows = reviewer.locator("#objects li.object")
    assert rows.count() == 2
    assert rows.nth(0).locator(".answer-line dt").all_inner_texts() == ["kind", "lights_on"]
    assert rows.nth(0).locator(".answer-line dd").all_inner_texts() == ["ambulance", "yes"]
    assert rows.nth(0).locator(".answer-line").nth(1).is_visible()
    assert rows.nth(1).locator(".answer-line dd").all_inner_texts() == ["police"]
    assert rows.nth(0).locator(".object-head").is_enabled()  # not a disabled list
    assert "Drag" not in reviewer.locator("#tool-hint").inner_text()
    assert "Read-only" in reviewer.locator("#tool-hint").inner_text()
    assert reviewer.locator("#submit-label").inner_text() == "Approve"
    assert reviewer.locator("#reject-label").inner_text() == "Reject with feedback"
    assert reviewer.locator("#toggle-edit").inner_text() == "Edit, then approve"
    reviewer.evaluate("() => window.dispatchEvent(new PageTransitionEvent('pageshow'))")
    assert reviewer.locator("#submit-label").inner_text() == "Approve"  # the old handler renamed it "Submit"
    # Zoom works read-only too; the labels are drawn beside the boxes.
    assert reviewer.locator("#overlay text.label").all_text_contents() == ["vehicle 1", "vehicle 2"]
    panel = reviewer.locator("aside.panel").bounding_box()
    work = reviewer.locator(".panel-scroll").bounding_box()
    assert work["height"] >= panel["height"] / 2, (work, panel)  # at 1366×768
    shot(reviewer, "review-readonly-1366x768.png")
    reviewer.set_viewport_size({"width": 1440, "height": 900})
    shot(reviewer, "review-readonly-1440x900.png")
    reviewer.keyboard.press("e")
    assert reviewer.locator("#submit-label").inner_text() == "Approve with my edits"
    shot(reviewer, "review-editing-1440x900.png")
    reviewer.keyboard.press("e")
    reviewer.keyboard.press("a")
    reviewer.wait_for_url(f"**/projects/{project.id}/review/")
    assert Task.objects.get(pk=task.pk).state == "done"
    assert errors == []


SHOTS = os.environ.get("TDP_E2E_SCREENSHOTS", "")


def shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, name))


@pytest.mark.parametrize("size", [(1366, 768), (1440, 900)])
def test_object_and_question_list_gets_half_the_panel_and_sections_fold(browser, live_server, labeler_task, size):  # noqa: F811
    project, _row, _labeler = labeler_task
    context = browser.new_context(viewport={"width": size[0], "height": size[1]}, base_url=live_server.url)
    page = context.new_page()
    try:
        js_errors = open_label_page(page, project)
        page.wait_for_selector("#stage.ready")
        rect = image_rect(page)
        for i in range(3):
            x, y = rect["x"] + rect["width"] * (0.1 + 0.25 * i), rect["y"] + rect["height"] * 0.2
            drag(page, (x, y), (x + rect["width"] * 0.15, y + rect["height"] * 0.3))
        panel = page.locator("aside.panel").bounding_box()
        work = page.locator(".panel-scroll").bounding_box()
        assert work["height"] >= panel["height"] / 2, (work, panel)
        shot(page, f"label-{size[0]}x{size[1]}.png")
        # Folding the tools section gives its room to the objects.
        before = page.locator("#objects").bounding_box()["y"]
        page.click("#fold-tools > summary")
        assert not page.locator("#tools").is_visible()
        assert page.locator("#objects").bounding_box()["y"] < before
        page.click("#fold-tools > summary")
        page.keyboard.press("?")
        shot(page, f"label-shortcuts-{size[0]}x{size[1]}.png")
        page.keyboard.press("Escape")
        page.keyboard.press("Shift+1")  # 100 %
        assert page.locator("#zoom-level").inner_text() == "100 %"
        shot(page, f"label-100-{size[0]}x{size[1]}.png")
        assert js_errors == []
    finally:
        close_quietly(context)
