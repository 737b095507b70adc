"""Polygon and point tracks in the video editor: draw on frame 0, edit on frame 20 (a vertex dragged, the point
moved); the stored keyframes are the expected ones and frame 10 interpolates halfway (the domain's interpolation)."""

from __future__ import annotations

import os

import pytest

from apps.labeling.models import Label
from apps.ontologies.domain.video import document_from_items
from tests.e2e.test_labeling import open_label_page
from tests.e2e.test_video_editor import SHOTS, canvas_point, drag, frame, video_task  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SERIALIZE = "async () => (await window.tdpVideoEditor).serialize()"


def click(page, x: float, y: float) -> None:
    page.mouse.click(*canvas_point(page, x, y))


def near(a: dict, b: dict) -> bool:
    return all(abs(a[k] - b[k]) <= 0.5 for k in b)


def test_draw_a_polygon_and_a_point_edit_them_on_a_later_frame_and_submit(page, video_task):  # noqa: F811
    project, row = video_task
    js_errors = open_label_page(page, project)
    page.wait_for_selector("html[data-editor-ready=true]")
    page.get_by_role("button", name="roof (polygon track)").click()
    for x, y in [(20, 20), (100, 20), (60, 80)]:
        click(page, x, y)
    click(page, 20.5, 20.5)  # on the first vertex: closes the polygon
    page.get_by_role("button", name="wheel (point track)").click()
    click(page, 200, 150)
    doc = [a for a in page.evaluate(SERIALIZE) if "keyframes" in a]
    assert [(a["name"], a["track_id"]) for a in doc] == [("roof", "t1"), ("wheel", "t2")]
    (poly0,) = doc[0]["keyframes"]
    assert poly0["frame"] == 0 and len(poly0["polygon"]) == 3
    for got, want in zip(poly0["polygon"], [{"x": 20, "y": 20}, {"x": 100, "y": 20}, {"x": 60, "y": 80}], strict=True):
        assert near(got, want), poly0

    page.click("#fwd10")
    page.click("#fwd10")
    assert frame(page) == 20
    drag(page, (100, 20), (140, 40))  # the polygon's second vertex
    drag(page, (200, 150), (260, 180))  # the point
    page.click("#back10")  # frame 10: both interpolated (dashed / hollow)
    os.makedirs(SHOTS, exist_ok=True)
    page.screenshot(path=f"{SHOTS}/editor-polygon-point-frame10-1366x768.png", full_page=True)
    page.click("#submit-label")
    page.wait_for_url(f"**/projects/{project.id}/**")

    label = Label.objects.get(data_row=row, is_current=True)
    roof, wheel = [a for a in label.annotations if "keyframes" in a]
    assert [k["frame"] for k in roof["keyframes"]] == [0, 20]
    moved = roof["keyframes"][1]["polygon"]
    assert near(moved[1], {"x": 140, "y": 40}) and moved[0] == roof["keyframes"][0]["polygon"][0]
    assert moved[2] == roof["keyframes"][0]["polygon"][2]
    assert [k["frame"] for k in wheel["keyframes"]] == [0, 20]
    assert near(wheel["keyframes"][0]["point"], {"x": 200, "y": 150})
    assert near(wheel["keyframes"][1]["point"], {"x": 260, "y": 180})

    tracks = document_from_items(label.annotations).tracks
    polygon10, key = tracks[0].at(10, 60)  # type: ignore[misc]
    assert key is False
    a, b = roof["keyframes"][0]["polygon"], moved
    assert polygon10 == [{"x": (p["x"] + q["x"]) / 2, "y": (p["y"] + q["y"]) / 2} for p, q in zip(a, b, strict=True)]
    point10, _ = tracks[1].at(10, 60)  # type: ignore[misc]
    p0, p1 = wheel["keyframes"][0]["point"], wheel["keyframes"][1]["point"]
    assert point10 == {"x": (p0["x"] + p1["x"]) / 2, "y": (p0["y"] + p1["y"]) / 2}
    assert js_errors == []
