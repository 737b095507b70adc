"""Analytics pages without a browser: who may open the dashboard, my stats, the project page link."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_dashboard_for_managers(client, history, people):
    project = history["project"]
    client.force_login(people["boss"])
    assert f"/projects/{project.id}/analytics/" in client.get(f"/projects/{project.id}/").content.decode()
    html = client.get(f"/projects/{project.id}/analytics/").content.decode()
    assert 'id="throughput-chart"' in html and 'id="scatter-chart"' in html
    assert "<td>+bob</td>" in html


def test_labelers_get_their_own_stats_not_the_dashboard(client, history, people):
    project = history["project"]
    client.force_login(people["ann"])
    assert "/analytics/" not in client.get(f"/projects/{project.id}/").content.decode()
    assert client.get(f"/projects/{project.id}/analytics/").status_code == 403
    html = client.get("/me/stats/").content.decode()
    assert "Analytics" in html and "<strong>2</strong> labels" in html and "<strong>1</strong> reworks" in html
    assert "+bob" not in html


def test_dashboard_hidden_from_other_orgs(client, history, other_org, make_user):
    client.force_login(make_user(role="admin", organization=other_org, username="outsider-admin"))
    assert client.get(f"/projects/{history['project'].id}/analytics/").status_code == 404
    assert client.get("/me/stats/").status_code == 200


def test_bad_range_on_the_page_is_400(client, history, people):
    client.force_login(people["boss"])
    response = client.get(f"/projects/{history['project'].id}/analytics/?from=soon")
    assert response.status_code == 400
