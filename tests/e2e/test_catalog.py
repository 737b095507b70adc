"""The catalog page in Chromium: the scatter plot renders, a box selection is sent to a labeling target."""

from __future__ import annotations

import numpy as np
import pytest

from apps.catalog import services as catalog_services
from apps.catalog.models import Slice
from apps.labeling.models import Batch, Task
from tests.catalog.conftest import import_rows, put_vectors
from tests.e2e.test_login import login
from tests.factories import TEST_PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def catalog_data(org, make_user):
    from apps.datasets import services as dataset_services

    manager = make_user(role="team_manager", organization=org, username="maria")
    dataset_services.metadata_field_create(actor=manager, name="camera", kind="string")
    dataset = dataset_services.dataset_create(actor=manager, name="street scenes")
    rows = import_rows(
        manager,
        dataset,
        [
            {
                "global_key": f"img-{i}",
                "row_data": f"text {i}",
                "media_type": "text",
                "metadata": {"camera": "left" if i < 10 else "right"},
            }
            for i in range(20)
        ],
    )
    rng = np.random.default_rng(0)
    vectors = rng.normal(0, 0.05, (20, 4))
    vectors[:10, 0] += 1  # two well separated groups: the map splits them along its first axis
    vectors[10:, 1] += 1
    space = catalog_services.embedding_space_create(actor=manager, name="clip", dims=4)
    put_vectors(manager, space, rows, vectors)
    catalog_services.space_analysis_compute(space=space, clusters=2, neighbors=3)
    return manager, dataset, space, rows


@pytest.fixture
def labeling_project(catalog_data):
    from apps.labeling import services as labeling_services
    from apps.ontologies import services as ontology_services

    manager = catalog_data[0]
    ontology = ontology_services.ontology_create(
        organization=manager.organization, name="signs", tools=[{"name": "sign", "tool": "ner"}], actor=manager
    )
    return labeling_services.project_create(actor=manager, name="Street signs", ontology=ontology, media_type="text")


def test_catalog_scatter_select_a_region_and_send_it_to_labeling(page, catalog_data, labeling_project):
    manager, dataset, space, rows = catalog_data
    login(page, manager.username, TEST_PASSWORD)
    page.wait_for_url("**/")
    page.goto(f"/catalog/datasets/{dataset.id}/?embedding={space.id}")
    page.wait_for_selector("#scatter[data-ready=true]")
    circles = page.locator("#scatter circle")
    assert circles.count() == 20
    assert "20 rows" in page.locator("#status").inner_text()
    # the two groups are drawn in two cluster colours
    fills = {circles.nth(i).get_attribute("fill") for i in range(20)}
    assert len(fills) == 2

    # box-select the points of the "left" camera group: the region around their drawn positions
    boxes = [circles.nth(i).bounding_box() for i in range(20)]
    left_ids = {str(r.id) for r in rows[:10]}
    left = [b for i, b in enumerate(boxes) if circles.nth(i).get_attribute("data-row") in left_ids]
    x0 = min(b["x"] for b in left) - 4
    x1 = max(b["x"] + b["width"] for b in left) + 4
    y0 = min(b["y"] for b in left) - 4
    y1 = max(b["y"] + b["height"] for b in left) + 4
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move((x0 + x1) / 2, (y0 + y1) / 2, steps=4)
    page.mouse.move(x1, y1, steps=4)
    page.mouse.up()
    assert page.locator("#selection-count").inner_text() == "10 rows selected"
    assert page.locator("#scatter circle.selected").count() == 10

    # a lasso around the right group replaces the selection with exactly those 10 rows
    right = [b for i, b in enumerate(boxes) if circles.nth(i).get_attribute("data-row") not in left_ids]
    rx0 = min(b["x"] for b in right) - 4
    rx1 = max(b["x"] + b["width"] for b in right) + 4
    ry0 = min(b["y"] for b in right) - 4
    ry1 = max(b["y"] + b["height"] for b in right) + 4
    page.check("#lasso")
    page.mouse.move(rx0, ry0)
    page.mouse.down()
    for x, y in [(rx1, ry0), (rx1, ry1), (rx0, ry1), (rx0, ry0 + 1)]:
        page.mouse.move(x, y, steps=3)
    page.mouse.up()
    assert page.locator("#selection-count").inner_text() == "10 rows selected"
    right_selected = {c.get_attribute("data-row") for c in page.locator("#scatter circle.selected").all()}
    assert right_selected == {str(r.id) for r in rows[10:]}
    page.uncheck("#lasso")
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move(x1, y1, steps=4)
    page.mouse.up()
    assert page.locator("#selection-count").inner_text() == "10 rows selected"

    page.fill("#slice-name", "left camera")
    assert page.locator("#target").input_value() == "labeling.batch"
    page.select_option("#target-option", str(labeling_project.id))
    page.click("#send-selection")
    page.wait_for_selector("#selection-result:has-text('Sent 10 rows')")
    queued = {str(t.data_row_id) for t in Task.objects.filter(project=labeling_project)}
    assert queued == left_ids
    assert Batch.objects.get(project=labeling_project).name == "left camera"
    saved = Slice.objects.get(name="left camera")
    assert sorted(saved.row_ids) == sorted(left_ids)


def test_catalog_similar_to_a_point_and_lineage(page, catalog_data):
    manager, dataset, space, rows = catalog_data
    login(page, manager.username, TEST_PASSWORD)
    page.wait_for_url("**/")
    page.goto(f"/catalog/datasets/{dataset.id}/?embedding={space.id}")
    page.wait_for_selector("#scatter[data-ready=true]")
    assert page.locator("#target option[value='labeling.batch']").count() == 1
    page.locator(f"#scatter circle[data-row='{rows[0].id}']").click()
    page.wait_for_selector("#similar ol li")
    assert page.locator("#similar ol li").count() == 10
    assert page.locator("#scatter circle.similar").count() == 10
    for row in rows[1:10]:  # the other 9 rows of its group are its nearest neighbours
        assert "similar" in page.locator(f"#scatter circle[data-row='{row.id}']").get_attribute("class")
    page.click("#similar a")
    page.wait_for_url(f"**/catalog/rows/{rows[0].id}/lineage/")
    assert page.locator("[data-section=origin]").is_visible()
    assert "street scenes" in page.locator("[data-section=origin]").inner_text()
