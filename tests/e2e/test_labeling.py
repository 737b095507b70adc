"""A labeler draws a box on a real image in Chromium, answers the nested questions and submits; the stored box is
the drag in image pixels. A submit missing a required answer comes back with the error and the box still drawn."""

from __future__ import annotations

import io
import os
import struct
import zlib

import pytest

from apps.datasets import services as dataset_services
from apps.datasets.models import DataRow, Dataset
from apps.labeling import services
from apps.labeling.models import Label, Task
from apps.ontologies import services as ontology_services
from apps.ontologies.demo import VEHICLES
from tests.e2e.test_login import login
from tests.factories import TEST_PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

IMAGE_W, IMAGE_H = 400, 300
# Set TDP_E2E_SCREENSHOTS=/some/dir to keep screenshots of the page for a look by eye (never committed).
SCREENSHOTS = os.environ.get("TDP_E2E_SCREENSHOTS", "")


def png(width: int, height: int) -> bytes:
    """An RGB PNG written by hand (no Pillow): a blue-grey gradient with a lighter band, so boxes are visible."""
    rows = []
    for y in range(height):
        band = 60 if height // 3 <= y < height // 2 else 0
        pixel = bytes((40 + band, 60 + band + y * 100 // height, 90 + band + y * 120 // height))
        rows.append(b"\x00" + pixel * width)

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows)))
        + chunk(b"IEND", b"")
    )


def uploaded_image_row(org, actor, dataset_name: str = "field") -> DataRow:
    """One uploaded `png(IMAGE_W, IMAGE_H)` row in a new dataset, its size recorded."""
    dataset = Dataset.objects.create(organization=org, name=dataset_name)
    body = png(IMAGE_W, IMAGE_H)
    dataset_services.data_rows_upload(
        actor=actor,
        dataset=dataset,
        files=[dataset_services.UploadedFile(name=f"{dataset_name}.png", file=io.BytesIO(body), size=len(body))],
    )
    row = DataRow.objects.get(dataset=dataset)
    DataRow.objects.filter(pk=row.pk).update(width=IMAGE_W, height=IMAGE_H)
    row.width, row.height = IMAGE_W, IMAGE_H
    return row


def vehicles_ontology(org, org_admin):
    return ontology_services.ontology_create(
        organization=org,
        name="vehicles",
        tools=VEHICLES["tools"],
        classifications=[{"name": "weather", "type": "radio", "options": [{"value": "sunny"}, {"value": "rain"}]}],
        actor=org_admin,
    )


def queue_for_lana(org, org_admin, make_user, row: DataRow, media_type: str = "image"):
    """A project over `row` with a labeler member ("lana") and the row queued; returns (project, lana)."""
    project = services.project_create(
        actor=org_admin,
        name="Vehicles",
        ontology=vehicles_ontology(org, org_admin),
        media_type=media_type,
        instructions="Box every vehicle.",
        settings={"review": {"sample_rate": 0.0}},
    )
    labeler = make_user(role="labeler", organization=org, username="lana")
    services.project_member_set(actor=org_admin, project=project, user=labeler, role="labeler")
    services.batch_create(actor=org_admin, project=project, name="b1", data_row_ids=[str(row.pk)], priority=3)
    return project, labeler


@pytest.fixture
def labeler_task(settings, tmp_path, org, org_admin, make_user):
    """A project over one uploaded 400×300 PNG, with a labeler member ("lana") and a queued task."""
    settings.MEDIA_ROOT = str(tmp_path)
    dataset = Dataset.objects.create(organization=org, name="street")
    body = png(IMAGE_W, IMAGE_H)
    report = dataset_services.data_rows_upload(
        actor=org_admin,
        dataset=dataset,
        files=[dataset_services.UploadedFile(name="street.png", file=io.BytesIO(body), size=len(body))],
    )
    assert report["created"] == 1, report
    row = DataRow.objects.get(dataset=dataset)
    # The row knows its size (as an import with width/height would): the server then checks boxes against it.
    DataRow.objects.filter(pk=row.pk).update(width=IMAGE_W, height=IMAGE_H)
    project, labeler = queue_for_lana(org, org_admin, make_user, row)
    return project, row, labeler


def open_label_page(page, project) -> list[str]:
    """Log in as the labeler, open the project, start labeling; returns the list the page's JS errors go to."""
    js_errors: list[str] = []
    page.on("pageerror", lambda error: js_errors.append(str(error)))
    login(page, "lana", TEST_PASSWORD)
    page.wait_for_url("**/")
    page.click(f"a:has-text('{project.name}')")
    page.wait_for_url(f"**/projects/{project.id}/")
    page.click("#start-labeling")
    page.wait_for_url("**/tasks/*/label")
    return js_errors


def drag_box(page, start: tuple[float, float], end: tuple[float, float]) -> dict[str, float]:
    """Drag on screen from `start` to `end` (fractions of the image box); returns the expected box in image px."""
    rect = page.locator("#asset img").bounding_box()
    natural = page.eval_on_selector("#asset img", "img => [img.naturalWidth, img.naturalHeight]")
    assert natural == [IMAGE_W, IMAGE_H]
    x0, y0 = rect["x"] + rect["width"] * start[0], rect["y"] + rect["height"] * start[1]
    x1, y1 = rect["x"] + rect["width"] * end[0], rect["y"] + rect["height"] * end[1]
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move((x0 + x1) / 2, (y0 + y1) / 2, steps=4)
    page.mouse.move(x1, y1, steps=4)
    page.mouse.up()
    sx, sy = natural[0] / rect["width"], natural[1] / rect["height"]
    return {
        "left": (x0 - rect["x"]) * sx,
        "top": (y0 - rect["y"]) * sy,
        "width": (x1 - x0) * sx,
        "height": (y1 - y0) * sy,
    }


def assert_box_close(stored: dict[str, float], expected: dict[str, float]) -> None:
    for key in ("left", "top", "width", "height"):
        assert abs(stored[key] - expected[key]) <= 1.0, (key, stored, expected)


def screenshot(page, name: str) -> None:
    if SCREENSHOTS:
        page.screenshot(path=os.path.join(SCREENSHOTS, name))


def test_labeler_draws_a_box_answers_nested_questions_and_submits(page, labeler_task):
    project, row, labeler = labeler_task
    js_errors = open_label_page(page, project)
    page.wait_for_selector("#stage.ready")
    task = Task.objects.get(project=project, data_row=row)
    assert page.url.endswith(f"/tasks/{task.id}/label")

    page.keyboard.press("Escape")  # select mode…
    page.keyboard.press("1")  # …then the first tool (vehicle, a bbox) by its shortcut
    assert page.locator("#tools button[data-tool=vehicle]").get_attribute("aria-pressed") == "true"
    expected = drag_box(page, (0.2, 0.25), (0.65, 0.8))
    # The new box is drawn, selected, and its questions are listed under it.
    assert page.locator("#overlay g.obj rect.shape").count() == 1
    assert page.locator("#objects li.object.selected").count() == 1
    page.get_by_role("radio", name="ambulance").check()
    # The nested question appears only once its option is chosen.
    page.get_by_role("radio", name="yes").check()
    page.locator("#questions").get_by_role("radio", name="sunny").check()
    assert page.locator("#timer").inner_text().startswith("00:")
    screenshot(page, "label-page-filled.png")

    page.click("#submit-label")
    page.wait_for_url(f"**/projects/{project.id}/")
    assert "Label submitted." in page.locator(".messages").inner_text()
    assert js_errors == []

    label = Label.objects.get(task=task, is_current=True)
    assert label.labeler_id == labeler.pk
    assert label.seconds_spent is not None and label.seconds_spent >= 0
    boxes = [a for a in label.annotations if "bbox" in a]
    assert len(boxes) == 1
    box = boxes[0]
    assert box["name"] == "vehicle"
    assert_box_close(box["bbox"], expected)
    kind = box["classifications"][0]
    assert kind["name"] == "kind"
    assert kind["answer"]["name"] == "ambulance"
    nested = kind["answer"]["classifications"][0]
    assert (nested["name"], nested["answer"]["name"]) == ("lights_on", "yes")
    weather = [a for a in label.annotations if a.get("name") == "weather"]
    assert weather and weather[0]["answer"]["name"] == "sunny"


def test_missing_required_answer_shows_the_error_and_keeps_the_box(page, labeler_task):
    project, row, _ = labeler_task
    js_errors = open_label_page(page, project)
    page.wait_for_selector("#stage.ready")
    task = Task.objects.get(project=project, data_row=row)

    page.click("#tools button[data-tool=vehicle]")
    expected = drag_box(page, (0.1, 0.1), (0.5, 0.6))
    page.locator("#questions").get_by_role("radio", name="rain").check()
    page.click("#submit-label")  # `kind` (required) left unanswered: the page asks first
    warning = page.locator("#submit-status.warning")
    warning.wait_for()
    assert "1 required answer is missing" in warning.inner_text()
    with page.expect_response(lambda r: r.request.method == "POST" and "/labels" in r.url) as posted:
        page.get_by_role("button", name="Submit anyway").click()
    assert posted.value.status == 400

    # The server's message is shown, and next to the box it names; nothing on the page is lost.
    status = page.locator("#submit-status.error")
    status.wait_for()
    assert "Not saved" in status.inner_text()
    assert page.url.endswith(f"/tasks/{task.id}/label")
    assert not Label.objects.filter(task=task).exists()
    shape = page.locator("#overlay g.obj.has-error rect.shape")
    shape.wait_for()
    assert shape.count() == 1
    drawn = {
        "left": float(shape.get_attribute("x") or "nan"),
        "top": float(shape.get_attribute("y") or "nan"),
        "width": float(shape.get_attribute("width") or "nan"),
        "height": float(shape.get_attribute("height") or "nan"),
    }
    assert_box_close(drawn, expected)
    item = page.locator("#objects li.object.has-error")
    assert "kind" in item.inner_text()
    assert page.locator("#questions").get_by_role("radio", name="rain").is_checked()
    screenshot(page, "label-page-error.png")

    # Answering it now stores the label with the same box.
    page.get_by_role("radio", name="police").check()
    page.click("#submit-label")
    page.wait_for_url(f"**/projects/{project.id}/")
    label = Label.objects.get(task=task, is_current=True)
    box = next(a for a in label.annotations if "bbox" in a)
    assert_box_close(box["bbox"], expected)
    assert box["classifications"][0]["answer"]["name"] == "police"
    assert js_errors == []


def image_point(page, fx: float, fy: float) -> tuple[float, float, float, float]:
    """Screen point at fractions (fx, fy) of the drawn image and the same point in image pixels."""
    rect = page.locator("#asset img").bounding_box()
    x, y = rect["x"] + rect["width"] * fx, rect["y"] + rect["height"] * fy
    return x, y, (x - rect["x"]) * IMAGE_W / rect["width"], (y - rect["y"]) * IMAGE_H / rect["height"]


def test_polygon_polyline_point_move_resize_and_delete(page, labeler_task):
    project, row, _ = labeler_task
    js_errors = open_label_page(page, project)
    page.wait_for_selector("#stage.ready")
    task = Task.objects.get(project=project, data_row=row)

    # A box, then moved by dragging its inside and resized by its bottom-right corner handle.
    page.keyboard.press("1")
    drag_box(page, (0.1, 0.1), (0.3, 0.3))
    x, y, _, _ = image_point(page, 0.2, 0.2)
    x2, y2, _, _ = image_point(page, 0.25, 0.3)
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x2, y2, steps=5)
    page.mouse.up()  # now (0.15, 0.2) → (0.35, 0.4)
    handle = page.locator("#overlay rect.handle-se").bounding_box()
    hx, hy = handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2
    ex, ey, _, _ = image_point(page, 0.45, 0.5)
    page.mouse.move(hx, hy)
    page.mouse.down()
    page.mouse.move(ex, ey, steps=5)
    page.mouse.up()
    page.get_by_role("radio", name="police").check()

    # A triangle closed by clicking its first point again.
    page.keyboard.press("2")
    corners = [image_point(page, fx, fy) for fx, fy in ((0.6, 0.1), (0.9, 0.1), (0.75, 0.4))]
    for sx, sy, _, _ in corners + corners[:1]:
        page.mouse.click(sx, sy)
    # The closed polygon is selected: drag its third point further down.
    page.mouse.move(*corners[2][:2])
    page.mouse.down()
    corners[2] = image_point(page, 0.75, 0.45)
    page.mouse.move(*corners[2][:2], steps=4)
    page.mouse.up()
    # A two-point line finished with Enter.
    page.keyboard.press("3")
    line = [image_point(page, fx, fy) for fx, fy in ((0.1, 0.8), (0.5, 0.9))]
    for sx, sy, _, _ in line:
        page.mouse.click(sx, sy)
    page.keyboard.press("Enter")
    # Two points; the second is deleted again with the Delete key while selected.
    page.keyboard.press("4")
    wheel = image_point(page, 0.7, 0.8)
    page.mouse.click(wheel[0], wheel[1])
    page.mouse.click(*image_point(page, 0.8, 0.8)[:2])
    page.keyboard.press("Delete")
    assert page.locator("#objects li.object").count() == 4
    # With the box tool in hand, a click (no drag) on a box selects it instead of drawing.
    page.keyboard.press("1")
    page.mouse.click(*image_point(page, 0.3, 0.35)[:2])
    assert page.locator("#objects li.object.selected").inner_text().startswith("vehicle 1")
    assert page.locator("#objects li.object").count() == 4
    screenshot(page, "label-page-tools.png")

    page.click("#submit-label")
    page.wait_for_url(f"**/projects/{project.id}/")
    label = Label.objects.get(task=task, is_current=True)
    by_name = {a["name"]: a for a in label.annotations}
    assert sorted(by_name) == ["lane", "roof", "vehicle", "wheel"]
    box = by_name["vehicle"]["bbox"]
    assert_box_close(
        box, {"left": 0.15 * IMAGE_W, "top": 0.2 * IMAGE_H, "width": 0.3 * IMAGE_W, "height": 0.3 * IMAGE_H}
    )
    for stored, (_, _, ix, iy) in zip(by_name["roof"]["polygon"], corners, strict=True):
        assert abs(stored["x"] - ix) <= 1 and abs(stored["y"] - iy) <= 1
    for stored, (_, _, ix, iy) in zip(by_name["lane"]["line"], line, strict=True):
        assert abs(stored["x"] - ix) <= 1 and abs(stored["y"] - iy) <= 1
    assert abs(by_name["wheel"]["point"]["x"] - wheel[2]) <= 1 and abs(by_name["wheel"]["point"]["y"] - wheel[3]) <= 1
    assert js_errors == []


def test_ner_spans_on_a_text_row_use_character_offsets(page, org, org_admin, make_user):
    text = "\U0001f691 Alice met Bob <b>in</b> Paris."
    dataset = Dataset.objects.create(organization=org, name="captions")
    row = DataRow.objects.create(
        organization=org, dataset=dataset, global_key="caption-1", row_data=text, media_type="text"
    )
    project, _ = queue_for_lana(org, org_admin, make_user, row, media_type="text")
    js_errors = open_label_page(page, project)
    pre = page.locator("#text-asset")
    pre.wait_for()
    assert pre.inner_text() == text  # shown as text, not as markup
    task = Task.objects.get(project=project, data_row=row)

    def select_chars(word: str) -> None:
        start = text.index(word)  # UTF-16 units are what the DOM counts; the emoji takes two of them
        units_before = len(text[:start].encode("utf-16-le")) // 2
        box = page.evaluate(
            """([a, b]) => {
                const node = document.querySelector('#text-asset');
                const walker = document.createTreeWalker(node, NodeFilter.SHOW_TEXT);
                let offset = 0, range = document.createRange(), n;
                while ((n = walker.nextNode())) {
                    const len = n.data.length;
                    if (a >= offset && a < offset + len) range.setStart(n, a - offset);
                    if (b > offset && b <= offset + len) range.setEnd(n, b - offset);
                    offset += len;
                }
                const r = range.getBoundingClientRect();
                return {x0: r.left, x1: r.right, y: r.top + r.height / 2};
            }""",
            [units_before, units_before + len(word)],
        )
        page.mouse.move(box["x0"] + 1, box["y"])
        page.mouse.down()
        page.mouse.move(box["x1"] - 1, box["y"], steps=5)
        page.mouse.up()

    # Select first, then pick the tool by its shortcut…
    page.keyboard.press("Escape")
    select_chars("Alice")
    page.keyboard.press("1")
    # …or with the tool in hand, the selection becomes a span at once.
    select_chars("Paris")
    assert page.locator("#text-asset mark").count() == 2
    screenshot(page, "label-page-text.png")
    page.click("#submit-label")
    page.wait_for_url(f"**/projects/{project.id}/")
    label = Label.objects.get(task=task, is_current=True)
    spans = sorted((a["location"]["start"], a["location"]["end"]) for a in label.annotations)
    # Offsets count characters (code points) of the original text, as the server does.
    expected = sorted((text.index(w), text.index(w) + len(w)) for w in ("Alice", "Paris"))
    assert spans == expected
    assert js_errors == []


def test_a_ready_stage_takes_a_box_even_when_the_imaging_details_answer_late(page, labeler_task):
    """The stage shows (`.ready`) only once the editor can draw on it: with the row's imaging details slowed down, a
    box drawn the moment the stage is ready is kept (it used to be lost while the tools were not set up yet)."""
    project, _row, _labeler = labeler_task

    def slow(route):
        page.wait_for_timeout(800)
        route.continue_()

    page.route("**/api/v1/data_rows/*/imaging", slow)
    open_label_page(page, project)
    page.wait_for_selector("#stage.ready")
    page.keyboard.press("1")
    drag_box(page, (0.2, 0.25), (0.6, 0.7))
    assert page.locator("#overlay g.obj rect.shape").count() == 1
