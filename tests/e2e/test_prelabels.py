"""Model pre-labels in the label page: the labeler sees two pre-labeled boxes (marked as model output with their
confidence) and a pre-answered question, moves one box, accepts the rest and submits; the server records which
annotation was modified and which were accepted unchanged."""

from __future__ import annotations

import json

import pytest

from apps.labeling.models import Label, Task
from apps.predictions.models import AnnotationProvenance, LabelAssist
from apps.predictions.services import annotations_import, prelabel_target
from tests.e2e.test_labeling import IMAGE_H, IMAGE_W, labeler_task, open_label_page  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _import(project, row, actor) -> dict:
    lines = [
        {
            "name": "vehicle",
            "bbox": {"left": 40, "top": 30, "width": 120, "height": 90},
            "classifications": [{"name": "kind", "answer": {"name": "police"}}],
            "confidence": 0.42,
            "uuid": "11111111-1111-4111-8111-111111111111",
            "data_row": {"id": str(row.id)},
        },
        {
            "name": "vehicle",
            "bbox": {"left": 220, "top": 150, "width": 100, "height": 80},
            "classifications": [{"name": "kind", "answer": {"name": "police"}}],
            "confidence": 0.93,
            "uuid": "22222222-2222-4222-8222-222222222222",
            "data_row": {"global_key": row.global_key},
        },
        {"name": "weather", "answer": {"name": "rain"}, "confidence": 0.8, "data_row": {"id": str(row.id)}},
    ]
    body = ("\n".join(json.dumps(line) for line in lines) + "\n").encode()
    return annotations_import(actor=actor, target=prelabel_target(project), chunks=[body], size=len(body))


def test_labeler_moves_one_prelabeled_box_and_accepts_the_rest(page, labeler_task, org_admin):  # noqa: F811
    project, row, _ = labeler_task
    result = _import(project, row, org_admin)
    assert (result["created"], result["failed"]) == (3, 0), result
    js_errors = open_label_page(page, project)
    page.wait_for_selector("#stage.ready")
    task = Task.objects.get(project=project, data_row=row)

    # Both boxes are drawn, marked as model output, with their confidence in the object list.
    assert page.locator("#prelabel-note").is_visible()
    assert page.locator("#overlay g.obj.prelabel rect.shape").count() == 2
    badges = page.locator("#objects .model-badge").all_inner_texts()
    assert badges == ["model 42%", "model 93%"]
    # The pre-answered question is answered.
    assert page.locator("#questions").get_by_role("radio", name="rain").is_checked()

    # Move the first box by (+40, +20) image pixels: drag it from its middle in select mode.
    page.keyboard.press("Escape")
    rect = page.locator("#asset img").bounding_box()
    sx, sy = rect["width"] / IMAGE_W, rect["height"] / IMAGE_H
    x0, y0 = rect["x"] + 100 * sx, rect["y"] + 75 * sy
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move(x0 + 20 * sx, y0 + 10 * sy, steps=4)
    page.mouse.move(x0 + 40 * sx, y0 + 20 * sy, steps=4)
    page.mouse.up()

    page.click("#submit-label")
    page.wait_for_url(f"**/projects/{project.id}/")
    assert js_errors == []

    label = Label.objects.get(task=task, is_current=True)
    boxes = [a for a in label.annotations if "bbox" in a]
    assert len(boxes) == 2
    assert abs(boxes[0]["bbox"]["left"] - 80) <= 1.5 and abs(boxes[0]["bbox"]["top"] - 50) <= 1.5
    assert boxes[1]["bbox"] == {"left": 220, "top": 150, "width": 100, "height": 80}
    assert all("prelabel" not in a for a in label.annotations)  # stripped before validation
    outcomes = {
        (row.index, str(row.prelabel_uuid)): row.outcome for row in AnnotationProvenance.objects.filter(label=label)
    }
    weather = next(i for i, a in enumerate(label.annotations) if a["name"] == "weather")
    weather_uuid = next(str(r.prelabel_uuid) for r in AnnotationProvenance.objects.filter(label=label, name="weather"))
    assert outcomes == {
        (0, "11111111-1111-4111-8111-111111111111"): "modified",
        (1, "22222222-2222-4222-8222-222222222222"): "accepted",
        (weather, weather_uuid): "accepted",
    }
    assist = LabelAssist.objects.get(label=label)
    assert assist.had_prelabels is True and assist.seconds is not None
