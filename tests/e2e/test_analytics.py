"""The analytics dashboard in Chromium: its throughput chart and speed-vs-quality scatter render with data."""

from __future__ import annotations

import pytest

from tests.analytics.conftest import history, people  # noqa: F401
from tests.e2e.test_login import login
from tests.factories import TEST_PASSWORD
from tests.labeling.conftest import make_rows, ontology, project_factory  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_dashboard_renders_its_charts(page, history, people):  # noqa: F811
    login(page, people["boss"].username, TEST_PASSWORD)
    page.wait_for_url("**/")
    page.goto(f"/projects/{history['project'].id}/analytics/")
    chart = page.locator("#throughput-chart")
    chart.wait_for()
    assert chart.locator("polyline").count() == 4
    box = chart.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 100
    assert len(chart.locator("polyline").first.get_attribute("points").split()) == 3  # three days of activity
    dots = page.locator("#scatter-chart circle.dot")
    assert dots.count() == 2  # the two labelers with timed labels
    assert page.locator("#scatter-chart line.median").count() == 2
    assert "+bob" in page.locator("#people-table").inner_text()
    page.locator("#from").fill("2026-11-21")
    page.locator("#to").fill("2026-11-21")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**from=2026-11-21**")
    assert page.locator("#people-table").inner_text().count("ann") == 1
    assert len(page.locator("#throughput-chart polyline").first.get_attribute("points").split()) == 1
