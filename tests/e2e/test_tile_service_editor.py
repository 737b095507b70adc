"""A tile-service row (XYZ) in the editor: tiles come from a local tile server (loopback, allow-listed) through the
server's proxy, line up with the drawing layer at the service zoom matching the screen scale, and a box drawn at
the deepest zoom is stored in pixel space of the max zoom."""

from __future__ import annotations

import io
import math
import os

import numpy as np
import pytest
from PIL import Image

from apps.datasets.models import DataRow, Dataset
from apps.imagery.services.tile_service import tile_service_create
from apps.labeling.models import Label
from tests.e2e.test_labeling import open_label_page, queue_for_lana
from tests.e2e.test_tiles import to_image, viewer_state
from tests.imagery.tile_server import template, tile_server

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SHOTS = "/tmp/shots-imagery"
BOUNDS = [13.37, 52.50, 13.42, 52.53]
MAX_ZOOM = 16


@pytest.fixture
def xyz_task(settings, tmp_path, org, org_admin, make_user):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    with tile_server() as httpd:
        settings.TDP_OUTBOUND_ALLOWED_HOSTS = [f"127.0.0.1:{httpd.server_address[1]}"]
        dataset = Dataset.objects.create(organization=org, name="berlin")
        result = tile_service_create(
            actor=org_admin,
            dataset=dataset,
            data={
                "global_key": "berlin",
                "url_template": template(httpd),
                "bounds": BOUNDS,
                "min_zoom": 10,
                "max_zoom": MAX_ZOOM,
            },
        )
        row = DataRow.objects.get(pk=result["data_row"])
        project, _lana = queue_for_lana(org, org_admin, make_user, row)
        yield project, row, httpd


def screen_rgb(page, x: float, y: float) -> tuple[int, int, int]:
    shot = Image.open(io.BytesIO(page.screenshot(clip={"x": x - 1, "y": y - 1, "width": 3, "height": 3})))
    r, g, b = np.asarray(shot.convert("RGB"))[1, 1]
    return int(r), int(g), int(b)


def world_origin() -> tuple[int, int]:
    world = 256 * 2**MAX_ZOOM
    phi = math.radians(BOUNDS[3])
    return (
        math.floor((BOUNDS[0] + 180) / 360 * world),
        math.floor((1 - math.asinh(math.tan(phi)) / math.pi) / 2 * world),
    )


def test_tile_service_row_opens_tiles_line_up_and_a_box_is_stored(page, xyz_task):
    project, row, httpd = xyz_task
    page.set_viewport_size({"width": 1440, "height": 900})
    js_errors = open_label_page(page, project)
    page.wait_for_selector("#asset[data-tiles='ready']")
    page.wait_for_function("() => window.tdpEditor.viewer.xyz.tiles.size > 0 && window.tdpEditor.viewer.xyz.loaded()")
    os.makedirs(SHOTS, exist_ok=True)
    page.screenshot(path=f"{SHOTS}/xyz-fit-1440x900.png")
    ox, oy = world_origin()

    def check_tile_under(sx: float, sy: float) -> int:
        state = viewer_state(page)
        ix, iy = to_image(state, sx, sy)
        z = int(page.get_attribute("#tile-layer", "data-zoom"))
        span = 256 * 2 ** (MAX_ZOOM - z)
        red, green, blue = screen_rgb(page, sx, sy)
        assert (red, green, blue) == (z * 10, int((ox + ix) // span) % 256, int((oy + iy) // span) % 256)
        return z

    state = viewer_state(page)
    centre = (state["left"] + state["width"] * 0.5, state["top"] + state["height"] * 0.5)
    fit_zoom = check_tile_under(*centre)
    assert fit_zoom < MAX_ZOOM
    # zoom in past 100 %: the deepest service zoom, and still the right tile under the pointer
    page.mouse.move(*centre)
    for _ in range(6):
        page.mouse.wheel(0, -300)
    page.wait_for_function("() => Number(document.getElementById('asset').dataset.zoom) >= 1.5")
    page.wait_for_function("() => window.tdpEditor.viewer.xyz.loaded()")
    assert check_tile_under(*centre) == MAX_ZOOM
    assert check_tile_under(centre[0] + 200, centre[1] - 150) == MAX_ZOOM
    page.screenshot(path=f"{SHOTS}/xyz-deep-1440x900.png")
    # tiles went through the server's proxy only (the page never asked the tile server itself)
    assert all(p.startswith("/tiles/") for p in httpd.requests)

    state = viewer_state(page)
    start, end = (centre[0] - 120, centre[1] - 80), (centre[0] + 100, centre[1] + 90)
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(*end, steps=5)
    page.mouse.up()
    (x0, y0), (x1, y1) = to_image(state, *start), to_image(state, *end)
    page.locator("#objects li.object.selected").get_by_role("radio", name="police").check()
    page.keyboard.press("Control+Enter")
    page.wait_for_url(f"**/projects/{project.id}/")
    (stored,) = [a["bbox"] for a in Label.objects.get(task__data_row=row, is_current=True).annotations if "bbox" in a]
    for key, value in {"left": x0, "top": y0, "width": x1 - x0, "height": y1 - y0}.items():
        assert abs(stored[key] - value) <= 1, (key, stored)
    assert js_errors == []


def test_manager_adds_a_tile_service_row_on_the_import_page(page, settings, tmp_path, org, make_user):
    from playwright.sync_api import expect

    from tests.e2e.test_login import login
    from tests.factories import TEST_PASSWORD

    settings.MEDIA_ROOT = str(tmp_path / "media")
    manager = make_user(role="team_manager", organization=org, username="mia")
    dataset = Dataset.objects.create(organization=org, name="maps")
    with tile_server() as httpd:
        settings.TDP_OUTBOUND_ALLOWED_HOSTS = [f"127.0.0.1:{httpd.server_address[1]}"]
        login(page, manager.username, TEST_PASSWORD)
        page.wait_for_url("**/")
        for width, height in ((1440, 900), (1366, 768)):
            page.set_viewport_size({"width": width, "height": height})
            page.goto(f"/datasets/{dataset.id}/import/")
            page.click("#tab-xyz")
            page.fill("#xyz-key", "berlin")
            page.fill("#xyz-template", template(httpd).replace("{x}", "{q}"))
            for name, value in zip(("west", "south", "east", "north"), BOUNDS, strict=True):
                page.fill(f"#xyz-form input[name={name}]", str(value))
            page.fill("#xyz-form input[name=max_zoom]", "16")
            page.click("#xyz-start")
            expect(page.locator("#xyz-message")).to_contain_text("Unknown placeholder {q}")
            page.fill("#xyz-template", template(httpd))
            page.click("#xyz-start")
            expect(page.locator("#xyz-summary")).to_contain_text("berlin")
            assert not page.locator("#xyz-message").is_visible()
            page.screenshot(path=f"{SHOTS}/xyz-import-{width}x{height}.png", full_page=True)
        row = DataRow.objects.get(dataset=dataset, global_key="berlin")
        assert row.imaging.kind == "xyz" and row.imaging.max_zoom == 16
        assert page.locator("#xyz-summary").inner_text().startswith("Row updated: berlin")
