"""The model run page in Chromium: the heat map, PR curves and IoU bars have a size, and the gallery filter works."""

from __future__ import annotations

import pytest

from tests.diagnostics.conftest import scene  # noqa: F401
from tests.e2e.test_login import login
from tests.factories import TEST_PASSWORD
from tests.labeling.conftest import make_rows, members, ontology, project, project_factory  # noqa: F401
from tests.predictions.conftest import post_ndjson  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_run_page_charts_and_gallery_filter(page, scene, org_admin, client_for):  # noqa: F811
    run = scene["run"]
    response = client_for(org_admin).post(
        f"/api/v1/model_runs/{run.id}/ground_truth", {"project": str(scene["project"].id)}, format="json"
    )
    assert response.status_code == 201
    org_admin.set_password(TEST_PASSWORD)
    org_admin.save()
    login(page, org_admin.username, TEST_PASSWORD)
    page.wait_for_url("**/")
    page.goto(f"/model_runs/{run.id}/diagnostics/")
    page.locator("#row-gallery").wait_for()
    for chart in ("#confusion-chart", "#pr-chart", "#iou-chart"):
        box = page.locator(chart).bounding_box()
        assert box is not None and box["width"] > 100 and box["height"] > 100, chart
    assert page.locator("#pr-chart polyline.pr-curve").count() == 1
    assert page.locator("#row-gallery figure").count() == 4
    # img-0 has two ground-truth boxes and two predictions (img-3, a false positive, has no ground-truth box).
    matched = page.locator("#row-gallery figure", has=page.locator("figcaption", has_text="img-0"))
    assert matched.locator("g.gt rect").count() == 2 and matched.locator("g.pred rect").count() == 2
    page.select_option("select[name=status]", "false_negative")
    page.click("#diagnostics-filters button[type=submit]")
    page.wait_for_url("**status=false_negative**")
    page.locator("#row-gallery").wait_for()
    assert page.locator("#row-gallery figure").count() == 1
    assert page.locator("#row-gallery figcaption").inner_text() == "img-1"
