"""The model run page: metric table, confusion heat map, PR curves, IoU histogram and the overlay gallery, all as
server-rendered SVG; names from users are escaped; the same access rules as the API."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from apps.accounts.models import User

pytestmark = pytest.mark.django_db


def page(run) -> str:
    return f"/model_runs/{run.id}/diagnostics/"


@pytest.fixture
def browser(org_admin):
    client = Client()
    client.force_login(org_admin)
    return client


@pytest.fixture
def snapshot(scene, client_for, org_admin):
    response = client_for(org_admin).post(
        f"/api/v1/model_runs/{scene['run'].id}/ground_truth", {"project": str(scene["project"].id)}, format="json"
    )
    assert response.status_code == 201


def section(html: str, element_id: str) -> str:
    match = re.search(rf'<svg id="{element_id}".*?</svg>', html, re.S)
    assert match, element_id
    return match.group(0)


def test_run_page_renders_its_charts_and_gallery(scene, snapshot, browser):
    scene["model"].name = '<script>alert("x")</script>'
    scene["model"].save()
    response = browser.get(page(scene["run"]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html
    assert 'id="metric-table"' in html and "vehicle" in html
    classes = len(re.findall(r'<tr data-schema-id="', html))
    heat = section(html, "confusion-chart")
    assert len(re.findall(r"<rect ", heat)) == (classes + 1) ** 2  # classes + background, squared
    pr = section(html, "pr-chart")
    assert len(re.findall(r'<polyline class="pr-curve"', pr)) == 1  # the one class with ground truth
    bars = section(html, "iou-chart")
    assert len(re.findall(r'<rect class="bar"', bars)) == 20
    gallery = html[html.index('id="row-gallery"') :]
    assert len(re.findall(r'<figure class="gallery-item"', gallery)) == 4
    assert gallery.count('<g class="gt"') == 4 and gallery.count('<g class="pred"') == 4
    assert f"/api/v1/data_rows/{scene['rows'][0].id}/content" in gallery


def test_gallery_follows_the_filters(scene, snapshot, browser):
    html = browser.get(page(scene["run"]) + "?status=false_negative").content.decode()
    gallery = html[html.index('id="row-gallery"') :]
    assert re.findall(r'data-row="([^"]+)"', gallery) == [str(scene["rows"][1].id)]
    assert browser.get(page(scene["run"]) + "?colour=red").status_code == 400
    assert browser.get(page(scene["run"]) + "?iou=7").status_code == 400


def test_page_without_ground_truth(scene, browser):
    html = browser.get(page(scene["run"])).content.decode()
    assert 'id="diagnostics-problem"' in html


def test_page_of_a_large_run_starts_a_job(scene, snapshot, browser, settings):
    settings.DIAGNOSTICS_SYNC_MAX_ROWS = 1
    html = browser.get(page(scene["run"])).content.decode()
    assert 'id="diagnostics-job"' in html


def test_runs_list_links_to_the_run_page(scene, browser):
    html = browser.get("/model_runs/").content.decode()
    assert page(scene["run"]) in html


def test_page_access(scene, users_by_role, other_org):
    labeler = Client()
    labeler.force_login(users_by_role["labeler"])
    assert labeler.get(page(scene["run"])).status_code == 403
    stranger = Client()
    stranger.force_login(User.objects.get(organization=other_org, role="admin"))
    assert stranger.get(page(scene["run"])).status_code == 404
    assert Client().get(page(scene["run"])).status_code == 302  # to the login page


def test_project_page_links_to_the_model_runs(scene, browser, users_by_role):
    html = browser.get(f"/projects/{scene['project'].id}/").content.decode()
    assert 'href="/model_runs/"' in html


def test_admin_lists_cached_results_with_a_link(scene, snapshot, browser, client_for, org_admin, other_org):
    assert client_for(org_admin).get(f"/api/v1/model_runs/{scene['run'].id}/metrics").status_code == 200
    html = browser.get("/admin/diagnostics/metricsresult/").content.decode()
    assert page(scene["run"]) in html
    stranger = Client()
    stranger.force_login(User.objects.get(organization=other_org, role="admin"))
    assert page(scene["run"]) not in stranger.get("/admin/diagnostics/metricsresult/").content.decode()


def test_one_click_sends_a_priority_to_labeling(scene, snapshot, browser, project_factory):
    from apps.diagnostics.models import MetricsResult
    from apps.labeling.models import Batch, Task

    target = project_factory(name="Relabel <b>")
    html = browser.get(page(scene["run"])).content.decode()
    assert 'id="priorities"' in html and "Relabel &lt;b&gt;" in html
    result = MetricsResult.objects.get(model_run=scene["run"])
    first = result.errors["priorities"][0]
    wanted = {result.data_rows[i] for i in first["images"]}
    response = browser.post(
        f"{page(scene['run'])}send/", {"project": str(target.id), "priority": "0", "iou": "0.5", "confidence": "0"}
    )
    assert response.status_code == 302
    batch = Batch.objects.get(project=target)
    assert {str(r) for r in Task.objects.filter(batch=batch).values_list("data_row_id", flat=True)} == wanted
    # A bad choice is a message, not a batch.
    browser.post(f"{page(scene['run'])}send/", {"project": str(target.id), "priority": "99", "iou": "0.5"})
    assert Batch.objects.filter(project=target).count() == 1
