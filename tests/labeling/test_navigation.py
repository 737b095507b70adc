"""Navigation: the catalog in the top bar for those who manage data; the project page's links per role; empty pages
that say what fills them."""

from __future__ import annotations

import pytest
from django.test import Client

from apps.labeling import services

pytestmark = pytest.mark.django_db


def page_for(user, url: str) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


@pytest.mark.parametrize(("role", "sees_catalog"), [("admin", True), ("team_manager", True), ("labeler", False)])
def test_catalog_in_the_top_bar_for_roles_that_manage_data(make_user, org, role, sees_catalog):
    user = make_user(role=role, organization=org)
    assert ('href="/catalog/"' in page_for(user, "/")) is sees_catalog


def test_project_page_links_per_role(project, make_user, org, org_admin):
    reviewer = make_user(role="reviewer", organization=org)
    labeler = make_user(role="labeler", organization=org)
    services.project_member_set(actor=org_admin, project=project, user=reviewer, role="reviewer")
    services.project_member_set(actor=org_admin, project=project, user=labeler, role="labeler")
    url = f"/projects/{project.pk}/"
    as_reviewer = page_for(reviewer, url)
    assert f'href="/projects/{project.pk}/review/"' in as_reviewer
    as_labeler = page_for(labeler, url)
    assert "/review/" not in as_labeler and 'href="/catalog/"' not in as_labeler
    as_admin = page_for(org_admin, url)
    for link in ("review/", "quality/", "analytics/", "exports/"):
        assert f'href="/projects/{project.pk}/{link}"' in as_admin
    assert 'href="/catalog/"' in as_admin and 'href="/model_runs/"' in as_admin
    # a project without data says how to add some
    assert 'id="project-empty"' in as_admin and "/admin/labeling/batch/add/" in as_admin


def test_empty_quality_and_review_pages_say_what_fills_them(project, org_admin):
    quality = page_for(org_admin, f"/projects/{project.pk}/quality/")
    assert "Consensus is off for this project" in quality
    assert "No benchmark references yet" in quality
    assert f"/admin/labeling/project/{project.pk}/change/" in quality  # the settings form, for the org admin
    review = page_for(org_admin, f"/projects/{project.pk}/review/")
    assert 'id="review-empty"' in review


def test_quality_hint_follows_the_settings(project_factory, org_admin):
    on = project_factory(name="With consensus", quality={"consensus_coverage": 0.2, "consensus_labelers": 3})
    quality = page_for(org_admin, f"/projects/{on.pk}/quality/")
    assert "Consensus is on (20% of rows, 3 labelers each)" in quality
