"""Interactive assist in the editor, in Chromium, against the reference model server as a real process: the labeler
turns on Assist, clicks an object (then drags a rough box); the suggestion shows dashed with the model's latency;
Esc rejects it, Enter accepts it as a normal object that Ctrl+Z undoes. Screenshots go to $TDP_SHOTS when set."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest

from apps.accounts.models import User
from apps.datasets.demo_scenes import render, scene_spec
from apps.labeling import services as labeling_services
from apps.predictions.services import endpoints as endpoint_services
from tests.e2e.test_login import login
from tests.factories import TEST_PASSWORD
from tests.predictions.endpoint_world import add_batch, endpoint_and_project, scene_rows
from tests.predictions.model_servers import REFERENCE, ROOT, host_of, running_server

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
SHOTS = os.environ.get("TDP_SHOTS")


def shoot(page, name: str) -> None:
    if not SHOTS:
        return
    for width, height in ((1440, 900), (1366, 768)):
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(150)
        page.screenshot(path=f"{SHOTS}/{name}-{width}.png")


def _target() -> dict:
    sys.path.insert(0, str(ROOT / "examples" / "model_server"))
    from detector import detect  # the reference model, to know what it will find

    found = detect(np.asarray(render(scene_spec(0)).convert("RGB")))
    assert found, "the reference detector finds something in scene 0"
    return max(found, key=lambda d: d["bbox"]["width"] * d["bbox"]["height"])["bbox"]


def _screen(page, x: float, y: float) -> tuple[float, float]:
    """Page coordinates of image point (x, y) in the editor's current view."""
    point = page.evaluate(
        """([x, y]) => { const v = window.tdpEditor.viewer; const f = v.frame(); const p = v.viewport.toScreen(x, y);
            return [f.left + p.x, f.top + p.y]; }""",
        [x, y],
    )
    return point[0], point[1]


def _objects(page) -> list:
    return page.evaluate("() => window.tdpEditor.getDocument().filter((a) => a.bbox)")


def test_assist_suggests_on_click_and_rough_box_enter_accepts_esc_rejects(page, settings, live_server, org, make_user):
    settings.TDP_PUBLIC_URL = live_server.url
    labeler = make_user(role="labeler", organization=org, username="lara")
    admin = User.objects.get(organization=org, role="admin")
    box = _target()
    rows = scene_rows(org, 1, prefix="assist-e2e")
    with running_server(REFERENCE) as url:
        settings.TDP_OUTBOUND_ALLOWED_HOSTS = [host_of(url)]
        _detector, project = endpoint_and_project(admin, url)
        interactive = endpoint_services.model_endpoint_create(
            actor=admin,
            values={"name": "clicks", "url": url, "kind": "interactive", "ontology": project.ontology},
        )
        labeling_services.project_update(
            actor=admin, project=project, data={"settings": {"model": {"interactive_endpoint": str(interactive.pk)}}}
        )
        labeling_services.project_member_set(actor=admin, project=project, user=labeler, role="labeler")
        add_batch(admin, project, rows)
        task = labeling_services.queue_claim(actor=labeler, project=project)
        assert task is not None and task.data_row_id == rows[0].pk

        login(page, "lara", TEST_PASSWORD)
        page.wait_for_url("**/")
        page.set_viewport_size({"width": 1440, "height": 900})
        page.goto(f"/tasks/{task.id}/label")
        page.wait_for_selector("html[data-editor-ready=true]")
        page.evaluate("() => window.tdpEditor.setDocument([], {label: 'clear'})")  # drop the detector's pre-labels
        page.click("#assist-toggle")
        assert page.get_attribute("#assist-toggle", "aria-pressed") == "true"

        # A click in the middle of the object.
        cx, cy = _screen(page, box["left"] + box["width"] / 2, box["top"] + box["height"] / 2)
        page.mouse.click(cx, cy)
        page.wait_for_selector("#assist-layer .assist-suggestion")
        status = page.inner_text("#assist-status")
        assert "Suggestion:" in status and " ms" in status and "colour-components-1" in status
        assert _objects(page) == []  # only on offer
        shoot(page, "assist-suggestion")
        page.keyboard.press("Escape")
        assert "rejected" in page.inner_text("#assist-status")
        assert page.locator("#assist-layer .assist-suggestion").count() == 0 and _objects(page) == []

        # A rough box around it, then Enter.
        x0, y0 = _screen(page, box["left"] + 3, box["top"] - 4)
        x1, y1 = _screen(page, box["left"] + box["width"] - 5, box["top"] + box["height"] + 4)
        page.mouse.move(x0, y0)
        page.mouse.down()
        page.mouse.move((x0 + x1) / 2, (y0 + y1) / 2, steps=3)
        page.mouse.move(x1, y1, steps=3)
        page.mouse.up()
        page.wait_for_selector("#assist-layer .assist-suggestion")
        page.keyboard.press("Enter")
        objects = _objects(page)
        assert len(objects) == 1 and objects[0]["bbox"] == box, objects
        assert page.inner_text("#object-count") == "1"
        assert "accepted" in page.inner_text("#assist-status")
        shoot(page, "assist-accepted")
        page.keyboard.press("Control+z")
        assert _objects(page) == []
        page.keyboard.press("Control+y")
        assert len(_objects(page)) == 1
