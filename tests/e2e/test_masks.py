"""The mask brush in Chromium (issue 25's proof): paint a stroke, erase part of it, undo the erase, punch a hole and
fill it, submit; the stored COCO RLE equals the painted pixels (a capsule of the brush's radius around the stroke)
within the tolerance of pointer positions. The reviewer sees the mask read-only. Screenshots of the pages at 1440×900
and 1366×768 when TDP_E2E_SCREENSHOTS is set."""

from __future__ import annotations

import os

import numpy as np
import pytest

from apps.labeling import services
from apps.labeling.models import Label, Task
from apps.ontologies import services as ontology_services
from apps.ontologies.domain import rle as R
from tests.e2e.test_labeling import IMAGE_H, IMAGE_W, uploaded_image_row
from tests.e2e.test_login import login
from tests.factories import TEST_PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
SCREENSHOTS = os.environ.get("TDP_E2E_SCREENSHOTS", "")


@pytest.fixture
def mask_task(settings, tmp_path, org, org_admin, make_user):
    settings.MEDIA_ROOT = str(tmp_path)
    row = uploaded_image_row(org, org_admin)
    ontology = ontology_services.ontology_create(
        organization=org,
        name="weeds",
        tools=[
            {
                "name": "weed",
                "tool": "mask",
                "classifications": [
                    {"name": "stage", "type": "radio", "options": [{"value": "young"}, {"value": "old"}]}
                ],
            },
            {"name": "stone", "tool": "bbox"},
        ],
        classifications=[],
        actor=org_admin,
    )
    project = services.project_create(
        actor=org_admin,
        name="Weeds",
        ontology=ontology,
        instructions="Paint every weed.",
        settings={"review": {"sample_rate": 0.0}},
    )
    labeler = make_user(role="labeler", organization=org, username="lana")
    services.project_member_set(actor=org_admin, project=project, user=labeler, role="labeler")
    services.batch_create(actor=org_admin, project=project, name="b1", data_row_ids=[str(row.pk)], priority=3)
    return project, row


def capsule(a: tuple[float, float], b: tuple[float, float], r: float) -> np.ndarray:
    """Pixels whose centre is within r of the segment a–b (an independent NumPy rasterisation)."""
    ys, xs = np.mgrid[0:IMAGE_H, 0:IMAGE_W] + 0.5
    d = np.array(b) - np.array(a)
    t = np.clip(((xs - a[0]) * d[0] + (ys - a[1]) * d[1]) / max(float(d @ d), 1e-12), 0, 1)
    return ((xs - a[0] - t * d[0]) ** 2 + (ys - a[1] - t * d[1]) ** 2 <= r * r).astype(np.uint8)


def document_mask(page) -> np.ndarray | None:
    masks = page.evaluate("() => window.tdpEditor.getDocument().filter((a) => a.mask).map((a) => a.mask)")
    assert len(masks) <= 1
    return R.decode(R.from_document(masks[0])) if masks else None


def stroke(page, a: tuple[float, float], b: tuple[float, float]) -> None:
    rect = page.locator("#asset img").bounding_box()
    to_screen = lambda p: (rect["x"] + p[0] * rect["width"] / IMAGE_W, rect["y"] + p[1] * rect["height"] / IMAGE_H)  # noqa: E731
    page.mouse.move(*to_screen(a))
    page.mouse.down()
    page.mouse.move(*to_screen(b), steps=12)
    page.mouse.up()


def set_size(page, size: int) -> None:
    page.eval_on_selector(
        "#mask-size", "(el, v) => { el.value = String(v); el.dispatchEvent(new Event('input')); }", size
    )


def shot(page, name: str) -> None:
    if not SCREENSHOTS:
        return
    os.makedirs(SCREENSHOTS, exist_ok=True)
    for width, height in ((1440, 900), (1366, 768)):
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(150)
        page.screenshot(path=os.path.join(SCREENSHOTS, f"{name}-{width}x{height}.png"))
    page.set_viewport_size({"width": 1366, "height": 768})
    page.wait_for_timeout(150)


def test_paint_erase_undo_submit_stores_the_painted_pixels(page, mask_task):
    project, row = mask_task
    js_errors: list[str] = []
    page.on("pageerror", lambda error: js_errors.append(str(error)))
    login(page, "lana", TEST_PASSWORD)
    page.wait_for_url("**/")
    page.click(f"a:has-text('{project.name}')")
    page.click("#start-labeling")
    page.wait_for_url("**/tasks/*/label")
    page.wait_for_selector("#stage.ready")
    page.wait_for_selector("#mask-panel:not([hidden])")  # the first tool is the mask tool: its brush panel shows
    shot(page, "mask-empty")

    set_size(page, 24)
    assert page.locator("#mask-size-value").inner_text() == "24 px"
    a, b = (80.0, 150.0), (320.0, 150.0)
    stroke(page, a, b)
    painted = document_mask(page)
    assert painted is not None
    expected = capsule(a, b, 12)
    assert painted.shape == (IMAGE_H, IMAGE_W)
    # Pointer positions are screen pixels mapped to image pixels: allow a one-pixel rim of difference.
    rim = int(2 * (b[0] - a[0]) + 2 * np.pi * 12)
    assert int((painted != expected).sum()) <= rim * 0.1, int((painted != expected).sum())
    assert page.locator("#objects li.object").count() == 1  # one object per mask

    page.keyboard.press("x")
    assert page.get_attribute("#mask-eraser", "aria-pressed") == "true"
    set_size(page, 30)
    stroke(page, (200.0, 110.0), (200.0, 190.0))
    erased = document_mask(page)
    gap = capsule((200.0, 110.0), (200.0, 190.0), 15)
    assert erased is not None and int((erased & gap).sum()) <= 4  # the band is cleared
    assert int((erased[:, :150] != painted[:, :150]).sum()) == 0  # the rest is untouched
    shot(page, "mask-erased")

    page.keyboard.press("Control+z")
    assert np.array_equal(document_mask(page), painted)  # the erase is undone, pixel for pixel
    set_size(page, 6)
    stroke(page, (150.0, 150.0), (150.5, 150.0))  # a small hole inside the stroke
    holed = document_mask(page)
    assert holed[150, 150] == 0 and int((holed != painted).sum()) > 10
    page.click("#mask-fill")  # Fill holes: back to the painted stroke
    assert np.array_equal(document_mask(page), painted)
    page.locator("#objects li.object.selected").get_by_role("radio", name="old").check()
    page.keyboard.press("Control+Enter")
    page.wait_for_url(f"**/projects/{project.id}/")
    task = Task.objects.get(project=project, data_row=row)
    label = Label.objects.get(task=task, is_current=True)
    (stored,) = [a for a in label.annotations if a.get("tool") == "mask"]
    assert np.array_equal(R.decode(R.from_document(stored["mask"])), painted)
    assert stored["classifications"][0]["answer"]["name"] == "old"
    assert js_errors == []


def test_the_reviewer_sees_the_mask_painted_read_only(page, mask_task, org, org_admin, make_user):
    project, _row = mask_task
    project.settings = {**project.settings, "review": {"sample_rate": 1.0}}
    project.save(update_fields=["settings"])
    rita = make_user(role="reviewer", organization=org, username="rita")
    services.project_member_set(actor=org_admin, project=project, user=rita, role="reviewer")
    lana = project.members.get(user__username="lana").user
    painted = np.zeros((IMAGE_H, IMAGE_W), np.uint8)
    painted[100:180, 50:150] = 1
    painted[120:140, 80:100] = 0  # a hole
    task = services.queue_claim(actor=lana, project=project)
    services.label_submit(actor=lana, task=task, annotations=[{"name": "weed", "mask": R.encode(painted).document()}])
    js_errors: list[str] = []
    page.on("pageerror", lambda error: js_errors.append(str(error)))
    login(page, "rita", TEST_PASSWORD)
    page.goto(f"/projects/{project.id}/review/")
    page.click("#start-reviewing")
    page.wait_for_url(f"**/reviews/{task.id}/")
    page.wait_for_selector("#stage.ready")
    assert page.locator("#mask-panel").is_hidden()  # read-only: no brush
    alpha = page.evaluate(
        """(points) => {
            const ctx = document.getElementById('mask-canvas').getContext('2d');
            return points.map(([x, y]) => ctx.getImageData(x, y, 1, 1).data[3]);
        }""",
        [[60, 110], [149, 179], [90, 130], [20, 20], [150, 110]],
    )
    assert alpha[0] > 0 and alpha[1] > 0  # inside the mask
    assert alpha[2] == 0 and alpha[3] == 0 and alpha[4] == 0  # the hole, the background, just past the edge
    assert page.locator("#objects li.object").count() == 1
    shot(page, "mask-review")
    assert js_errors == []


def click_at(page, p: tuple[float, float], **kwargs) -> None:
    rect = page.locator("#asset img").bounding_box()
    page.mouse.click(rect["x"] + p[0] * rect["width"] / IMAGE_W, rect["y"] + p[1] * rect["height"] / IMAGE_H, **kwargs)


def polygon_pixels(points: list[tuple[float, float]]) -> np.ndarray:
    """The server's rasteriser (pycocotools' rleFrPoly), which the editor's polygon fill follows."""
    return R.decode(R.from_polygon([v for p in points for v in p], IMAGE_H, IMAGE_W))


def test_polygon_fill_rasterises_into_the_mask_one_undo_step_each(page, mask_task):
    project, row = mask_task
    js_errors: list[str] = []
    page.on("pageerror", lambda error: js_errors.append(str(error)))
    login(page, "lana", TEST_PASSWORD)
    page.wait_for_url("**/")
    page.click(f"a:has-text('{project.name}')")
    page.click("#start-labeling")
    page.wait_for_url("**/tasks/*/label")
    page.wait_for_selector("#stage.ready")
    page.wait_for_selector("#mask-panel:not([hidden])")
    page.keyboard.press("?")  # the help lists the polygon fill next to the other mask keys
    assert "polygon fill" in page.locator("#shortcut-overlay").inner_text()
    page.keyboard.press("Escape")

    page.keyboard.press("p")
    assert page.get_attribute("#mask-polygon-mode", "aria-pressed") == "true"
    quad = [(60.0, 40.0), (340.0, 60.0), (300.0, 250.0), (90.0, 220.0)]
    for corner in quad:
        click_at(page, corner)
    assert page.locator("#mask-polygon circle").count() == 4 and document_mask(page) is None  # not closed yet
    shot(page, "mask-polygon-drawing")
    click_at(page, quad[0])  # the first corner again closes it
    filled = document_mask(page)
    expected = polygon_pixels(quad)
    perimeter = sum(np.hypot(a[0] - b[0], a[1] - b[1]) for a, b in zip(quad, quad[1:] + quad[:1], strict=True))
    assert filled is not None and int(expected.sum()) > 40_000
    # Clicks are screen pixels mapped back to image pixels: allow a sliver along the outline.
    assert int((filled != expected).sum()) <= perimeter * 0.25, int((filled != expected).sum())
    assert page.locator("#mask-polygon circle").count() == 0 and page.locator("#objects li.object").count() == 1
    shot(page, "mask-polygon-filled")

    page.keyboard.press("Control+z")  # one undo step: the whole polygon
    assert document_mask(page) is None
    page.keyboard.press("Control+y")
    assert np.array_equal(document_mask(page), filled)

    # A second polygon goes into the selected mask: four corners, Backspace drops the fourth, Enter closes.
    tri = [(350.0, 120.0), (395.0, 100.0), (390.0, 170.0)]  # right of the quadrilateral
    for corner in [*tri, (5.0, 150.0)]:
        click_at(page, corner)
    page.keyboard.press("Backspace")
    assert page.locator("#mask-polygon circle").count() == 3
    page.keyboard.press("Enter")
    both = document_mask(page)
    assert both is not None and page.locator("#objects li.object").count() == 1
    expected_both = expected | polygon_pixels(tri)
    assert int((both != expected_both).sum()) <= (perimeter + 120) * 0.25
    assert int((both & ~filled.astype(bool)).sum()) > 200  # the triangle was added

    # Esc drops a polygon in progress; the mask stays selected and unchanged.
    click_at(page, (370.0, 20.0))
    click_at(page, (390.0, 20.0))
    page.keyboard.press("Escape")
    assert page.locator("#mask-polygon circle").count() == 0
    assert page.locator("#objects li.object.selected").count() == 1
    assert np.array_equal(document_mask(page), both)

    page.locator("#objects li.object.selected").get_by_role("radio", name="young").check()

    # N, then a polygon closed by a double click on its last corner: a second mask object.
    page.keyboard.press("n")
    third = [(370.0, 200.0), (395.0, 200.0), (390.0, 240.0)]
    click_at(page, third[0])
    click_at(page, third[1])
    click_at(page, third[2], click_count=2)
    assert page.locator("#objects li.object").count() == 2
    assert page.locator("#mask-polygon circle").count() == 0

    page.keyboard.press("Control+Enter")
    page.wait_for_url(f"**/projects/{project.id}/")
    label = Label.objects.get(task=Task.objects.get(project=project, data_row=row), is_current=True)
    first, second = [R.decode(R.from_document(a["mask"])) for a in label.annotations if a.get("tool") == "mask"]
    assert np.array_equal(first, both)
    assert int((second != polygon_pixels(third)).sum()) <= 30 and int(second.sum()) > 300
    assert js_errors == []
