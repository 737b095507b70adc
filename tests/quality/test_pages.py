"""Quality pages without a browser: the dashboard, the overlay of all labels, marking a reference, escaping."""

from __future__ import annotations

import pytest

from apps.quality.models import BenchmarkReference
from tests.quality.conftest import add_batch, boxes, weather
from tests.quality.test_workflow import claim_and_submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def disputed_row(consensus_project, org_admin, labelers, make_rows):
    row = make_rows(1, prefix="<b>hostile</b>")[0]
    add_batch(consensus_project, org_admin, [row])
    labels = [
        claim_and_submit(labelers[0], consensus_project, boxes((10, 10, 50, 50)) + weather("sunny")),
        claim_and_submit(labelers[1], consensus_project, boxes((12, 10, 50, 50)) + weather("sunny")),
        claim_and_submit(labelers[2], consensus_project, boxes((300, 300, 20, 20)) + weather("rain")),
    ]
    return row, labels


def test_project_page_links_to_quality_for_managers_only(client, consensus_project, manager, labelers):
    client.force_login(manager)
    assert (
        f"/projects/{consensus_project.id}/quality/"
        in client.get(f"/projects/{consensus_project.id}/").content.decode()
    )
    client.force_login(labelers[0])
    assert "/quality/" not in client.get(f"/projects/{consensus_project.id}/").content.decode()


def test_dashboard_shows_scores_and_escapes(client, consensus_project, manager, disputed_row):
    row, _ = disputed_row
    client.force_login(manager)
    html = client.get(f"/projects/{consensus_project.id}/quality/").content.decode()
    assert 'id="consensus-mean"' in html and "q-labeler-2" in html
    assert "&lt;b&gt;hostile&lt;/b&gt;-0" in html and "<b>hostile</b>" not in html
    assert f"/projects/{consensus_project.id}/quality/rows/{row.id}/" in html


def test_overlay_draws_every_label_and_marks_the_reference(client, consensus_project, manager, disputed_row):
    row, labels = disputed_row
    client.force_login(manager)
    url = f"/projects/{consensus_project.id}/quality/rows/{row.id}/"
    html = client.get(url).content.decode()
    assert html.count('class="overlay-label"') == 3
    assert '<rect x="300.0" y="300.0" width="20.0" height="20.0">' in html or '<rect x="300" y="300"' in html
    assert "★ gold reference" not in html

    response = client.post(f"/labels/{labels[0].id}/benchmark")
    assert response.status_code == 302 and response["Location"] == url
    assert BenchmarkReference.objects.get(data_row=row).label_id == labels[0].id
    assert "★ gold reference" in client.get(url).content.decode()
    client.post(f"/labels/{labels[0].id}/benchmark", {"unset": "1"})
    assert not BenchmarkReference.objects.filter(data_row=row).exists()


def test_pages_are_guarded(client, consensus_project, labelers, disputed_row, org, other_org, make_user):
    row, labels = disputed_row
    pages = [f"/projects/{consensus_project.id}/quality/", f"/projects/{consensus_project.id}/quality/rows/{row.id}/"]
    client.force_login(labelers[0])
    for url in pages:
        assert client.get(url).status_code == 403
    assert client.post(f"/labels/{labels[0].id}/benchmark").status_code == 403
    client.force_login(make_user(role="admin", organization=other_org, username="q-foreign"))
    for url in pages:
        assert client.get(url).status_code == 404
    assert client.post(f"/labels/{labels[0].id}/benchmark").status_code == 404
    assert not BenchmarkReference.objects.exists()


def test_admin_lists_scores_and_offers_recompute(
    client, consensus_project, org_admin, disputed_row, django_capture_on_commit_callbacks
):
    org_admin.is_staff = True
    org_admin.save(update_fields=["is_staff"])
    client.force_login(org_admin)
    assert client.get("/admin/quality/consensusscore/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/labeling/project/",
            {"action": "recompute_quality", "_selected_action": [str(consensus_project.id)]},
            follow=True,
        )
    assert "Recomputing Consensus" in response.content.decode()
    from apps.core.models import Job

    job = Job.objects.get(kind="quality_recompute")
    assert job.status == "succeeded" and job.result == {"rows": 1}


def test_unknown_row_on_overlay_is_404(client, consensus_project, manager):
    client.force_login(manager)
    assert client.get(f"/projects/{consensus_project.id}/quality/rows/nope/").status_code == 404
