"""DICOM series in the editor (issue #27): a generated 3-slice CT series opens on its first slice, the labeler steps
to slice 2 (key and button), changes the window (preset, then the sliders), draws a box and submits: the box is
stored with slice 2, and the pixels on screen are the server's rendering of slice 2 through the chosen window."""

from __future__ import annotations

import io
import os

import numpy as np
import pytest
from PIL import Image
from pydicom.uid import generate_uid

from apps.datasets.models import Dataset
from apps.datasets.services import UploadedFile
from apps.imagery.domain.windowing import apply_window
from apps.imagery.models import ImagingAsset
from apps.imagery.services.dicom import dicom_import
from apps.labeling.models import Label
from tests.e2e.test_labeling import open_label_page, queue_for_lana
from tests.imagery.dicom_factory import ct_slice

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SHOTS = "/tmp/shots-imagery"
VISIBLE = "() => window.tdpEditor.model.objects.filter(o => !window.tdpEditor.model.isHidden(o)).length"
ROWS, COLS = 48, 64


def ramp(index: int) -> np.ndarray:
    """Stored values of slice `index`: 8 vertical bands from −1000 HU (stored 24) by 320 HU a band, +5 HU a slice
    (bands, not a ramp: the browser's smoothing of the upscaled image leaves a band's middle exact)."""
    return np.tile(24 + (np.arange(COLS) // 8) * 320 + index * 5, (ROWS, 1))


@pytest.fixture
def series_task(settings, tmp_path, org, org_admin, make_user):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    study, series = generate_uid(), generate_uid()
    blobs = [
        ct_slice(series_uid=series, study_uid=study, index=i, rows=ROWS, cols=COLS, pixels=ramp(i)) for i in (2, 3, 1)
    ]
    dataset = Dataset.objects.create(organization=org, name="ct")
    dicom_import(
        actor=org_admin,
        dataset=dataset,
        files=[UploadedFile(name="", file=io.BytesIO(b), size=len(b)) for b in blobs],
    )
    first = ImagingAsset.objects.get(slice_index=1)
    project, _lana = queue_for_lana(org, org_admin, make_user, first.data_row)
    return project, first


def screen_gray(page, x: float, y: float) -> int:
    shot = Image.open(io.BytesIO(page.screenshot(clip={"x": x - 1, "y": y - 1, "width": 3, "height": 3})))
    return int(np.asarray(shot.convert("L"))[1, 1])


@pytest.mark.parametrize("size", [(1440, 900), (1366, 768)])
def test_step_to_slice_two_change_window_draw_and_submit(page, series_task, size):
    project, first = series_task
    page.set_viewport_size({"width": size[0], "height": size[1]})
    js_errors = open_label_page(page, project)
    page.wait_for_selector("#stack-bar")
    assert page.locator("#slice-label").inner_text().startswith("Slice 1 / 3")
    assert page.get_attribute("#asset", "data-window") == "40,400"

    page.keyboard.press("ArrowRight")  # the video editor's frame step key
    page.wait_for_selector("#asset[data-slice='2']:not([data-slice-loading])")
    page.click("#slice-next")
    page.wait_for_selector("#asset[data-slice='3']:not([data-slice-loading])")
    page.click("#slice-prev")
    page.wait_for_selector("#asset[data-slice='2']:not([data-slice-loading])")
    assert page.locator("#slice-label").inner_text() == "Slice 2 / 3"

    page.select_option("#window-preset", label="Bone (400 / 1800)")
    page.wait_for_selector("#asset[data-window='400,1800']:not([data-slice-loading])")
    # free adjustment: the sliders (a drag on a range input) → "Custom"
    page.eval_on_selector("#window-level", "el => { el.value = '250'; el.dispatchEvent(new Event('input')); }")
    page.eval_on_selector("#window-width", "el => { el.value = '300'; el.dispatchEvent(new Event('input')); }")
    page.wait_for_selector("#asset[data-window='250,300']:not([data-slice-loading])")
    assert page.eval_on_selector("#window-preset", "el => el.value") == "custom"
    assert page.locator("#window-readout").inner_text() == "250 / 300"

    # what is on screen is slice 2 through that window: a pixel in the middle of the image
    rect = page.locator("#asset img").bounding_box()
    row = 24
    sx, sy = rect["x"] + 36 * rect["width"] / COLS, rect["y"] + (row + 0.5) * rect["height"] / ROWS  # band 4's middle
    expected = int(apply_window(np.array([ramp(2)[row, 32] - 1024.0]), 250, 300)[0])  # 290 HU → 162
    bone = int(apply_window(np.array([ramp(2)[row, 32] - 1024.0]), 400, 1800)[0])
    assert expected == 162 and abs(bone - expected) > 40  # the window changed what is shown
    os.makedirs(SHOTS, exist_ok=True)
    page.screenshot(path=f"{SHOTS}/dicom-slice2-{size[0]}x{size[1]}.png")
    assert abs(screen_gray(page, sx, sy) - expected) <= 2, expected

    x0, y0 = rect["x"] + rect["width"] * 0.25, rect["y"] + rect["height"] * 0.3
    x1, y1 = rect["x"] + rect["width"] * 0.6, rect["y"] + rect["height"] * 0.7
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move(x1, y1, steps=5)
    page.mouse.up()
    page.locator("#objects li.object.selected").get_by_role("radio", name="police").check()
    # the box belongs to slice 2: not drawn on slice 1, drawn again back on slice 2
    page.keyboard.press("ArrowLeft")
    page.wait_for_selector("#asset[data-slice='1']:not([data-slice-loading])")
    assert page.evaluate(VISIBLE) == 0
    assert page.locator("#objects li.object .object-slice").inner_text() == "slice 2"
    page.click("#objects li.object .object-head")  # selecting it in the list shows its slice
    page.wait_for_selector("#asset[data-slice='2']:not([data-slice-loading])")
    assert page.evaluate(VISIBLE) == 1
    page.screenshot(path=f"{SHOTS}/dicom-box-{size[0]}x{size[1]}.png")
    page.keyboard.press("Control+Enter")
    page.wait_for_url(f"**/projects/{project.id}/")
    label = Label.objects.get(task__data_row=first.data_row, is_current=True)
    (stored_box,) = [a for a in label.annotations if "bbox" in a]
    assert stored_box["slice"] == 2
    b = stored_box["bbox"]
    assert abs(b["left"] - COLS * 0.25) <= 1 and abs(b["top"] - ROWS * 0.3) <= 1
    assert abs(b["width"] - COLS * 0.35) <= 1 and abs(b["height"] - ROWS * 0.4) <= 1
    assert js_errors == []
