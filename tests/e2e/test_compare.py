"""Comparing runs in Chromium: tick two runs on the runs page, see the signed deltas in colour and the flip gallery."""

from __future__ import annotations

import pytest

from tests.diagnostics.conftest import scene  # noqa: F401
from tests.diagnostics.test_compare import admin, runs  # noqa: F401
from tests.e2e.test_login import login
from tests.factories import TEST_PASSWORD
from tests.labeling.conftest import make_rows, members, ontology, project, project_factory  # noqa: F401
from tests.predictions.conftest import post_ndjson  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_compare_two_runs_from_the_runs_page(page, runs, org_admin):  # noqa: F811
    v1, v2 = runs
    org_admin.set_password(TEST_PASSWORD)
    org_admin.save()
    login(page, org_admin.username, TEST_PASSWORD)
    page.wait_for_url("**/")
    page.goto("/model_runs/")
    page.check(f"input[name=run][value='{v1.id}']")
    page.check(f"input[name=run][value='{v2.id}']")
    page.click("#compare-form button[type=submit]")
    page.wait_for_url("**/model_runs/compare/**")
    page.locator("#flip-gallery").wait_for()
    cells = page.locator(".comparison tr.overall td.delta")  # AP50, mAP, precision, recall
    up, same = cells.nth(2), cells.nth(3)
    assert up.inner_text() == "+0.400" and "delta-up" in (up.get_attribute("class") or "")
    assert "delta-same" in (same.get_attribute("class") or "")
    assert up.evaluate("e => getComputedStyle(e).color") != same.evaluate("e => getComputedStyle(e).color")
    assert page.locator("#flip-gallery figure").count() == 3
    assert page.locator("#flip-gallery figure.flip-broken").count() == 1
    page.select_option("select[name=direction]", "fixed")
    page.click("#compare-filters button[type=submit]")
    page.wait_for_url("**direction=fixed**")
    assert page.locator("#flip-gallery figure").count() == 2
