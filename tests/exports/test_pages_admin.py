"""The Exports page and the export admin."""

from __future__ import annotations

import pytest
from django.test import Client

from apps.exports.models import Export


@pytest.fixture
def browser(members):
    client = Client()
    client.force_login(members["team_manager"])
    return client


def test_page_lists_exports_and_starts_one(browser, project, lineage, django_capture_on_commit_callbacks):
    url = f"/projects/{project.pk}/exports/"
    assert browser.get(url).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = browser.post(url, {"format": "coco", "label": "approved", "state": ["done"]})
    assert response.status_code == 302
    export = Export.objects.get()
    assert export.status == "succeeded" and export.filters == {"label": "approved", "state": ["done"]}
    page = browser.get(url).content.decode()
    assert f'data-export="{export.id}"' in page and f"/api/v1/exports/{export.id}/download" in page
    assert browser.get(f"/api/v1/exports/{export.id}").json()["status"] == "succeeded"  # what the page polls


def test_page_reports_bad_filters(browser, project, lineage):
    response = browser.post(f"/projects/{project.pk}/exports/", {"format": "coco", "filters_json": '{"nope": 1}'})
    assert response.status_code == 302 and not Export.objects.exists()
    assert "nope" in browser.get(f"/projects/{project.pk}/exports/").content.decode()


def test_page_forbidden_for_labelers(members, project, lineage):
    client = Client()
    client.force_login(members["labeler"])
    assert client.get(f"/projects/{project.pk}/exports/").status_code == 403
    assert f"/projects/{project.pk}/exports/" not in client.get(f"/projects/{project.pk}/").content.decode()


def test_project_page_links_to_exports(browser, project):
    assert f"/projects/{project.pk}/exports/" in browser.get(f"/projects/{project.pk}/").content.decode()


def test_admin_starts_an_export_and_shows_progress(org_admin, project, lineage, django_capture_on_commit_callbacks):
    org_admin.is_staff = True
    org_admin.save(update_fields=["is_staff"])
    client = Client()
    client.force_login(org_admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/exports/export/add/", {"project": str(project.pk), "format": "yolo", "filters": "{}"}
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    export = Export.objects.get()
    assert export.status == "succeeded" and export.created_by == org_admin
    listing = client.get("/admin/exports/export/").content.decode()
    assert "<progress" in listing and f"/api/v1/exports/{export.id}/download" in listing
    assert client.get(f"/admin/exports/export/{export.id}/change/").status_code == 200
