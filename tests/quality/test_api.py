"""Quality REST API: benchmark references, the project summary, a row's consensus, the rows list, recompute."""

from __future__ import annotations

import pytest

from apps.labeling import services as labeling_services
from apps.quality.models import BenchmarkReference
from tests.quality.conftest import add_batch, boxes, weather
from tests.quality.test_workflow import claim_and_submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def scored(consensus_project, org_admin, labelers, make_rows):
    """Two consensus rows: one agreed (sunny ×3), one disputed (sunny, sunny, rain)."""
    agreed, disputed = make_rows(2)
    add_batch(consensus_project, org_admin, [agreed], name="agreed")
    add_batch(consensus_project, org_admin, [disputed], name="disputed")
    labels = {}
    for index, user in enumerate(labelers):
        labels[("agreed", index)] = claim_and_submit(user, consensus_project, weather("sunny"))
        answer = "rain" if index == 2 else "sunny"
        labels[("disputed", index)] = claim_and_submit(user, consensus_project, weather(answer))
    return {"agreed": agreed, "disputed": disputed, "labels": labels}


def test_row_consensus_endpoint(consensus_project, scored, manager, client_for):
    url = f"/api/v1/projects/{consensus_project.id}/data_rows/{scored['disputed'].id}/consensus"
    body = client_for(manager).get(url).json()
    assert body["score"] == pytest.approx(2 / 3)
    assert body["winner"] == str(scored["labels"][("disputed", 0)].id)
    assert [entry["agreement"] for entry in body["labels"]] == [0.5, 0.5, 0.0]
    assert body["complete"] is True and body["flagged"] is True


def test_project_quality_summary(consensus_project, scored, manager, labelers, client_for):
    body = client_for(manager).get(f"/api/v1/projects/{consensus_project.id}/quality").json()
    consensus = body["consensus"]
    assert consensus["rows"] == 2 and consensus["flagged_rows"] == 1
    assert consensus["mean"] == pytest.approx((1 + 2 / 3) / 2)
    by_user = {row["username"]: (row["mean"], row["n"]) for row in consensus["by_labeler"]}
    assert by_user == {
        labelers[0].username: (pytest.approx(0.75), 2),
        labelers[1].username: (pytest.approx(0.75), 2),
        labelers[2].username: (pytest.approx(0.5), 2),
    }
    assert consensus["histogram"][6] == 1 and consensus["histogram"][9] == 1 and sum(consensus["histogram"]) == 2
    assert [(f["name"], f["n"]) for f in consensus["by_feature"]] == [("weather", 2)]
    assert consensus["by_feature"][0]["mean"] == pytest.approx((1 + 2 / 3) / 2)
    assert body["benchmark"]["rows"] == 0 and body["benchmark"]["mean"] is None


def test_lowest_rows_first_and_flag_filter(consensus_project, scored, manager, client_for):
    client = client_for(manager)
    rows = client.get(f"/api/v1/projects/{consensus_project.id}/quality/rows").json()["results"]
    assert [r["data_row"] for r in rows] == [str(scored["disputed"].id), str(scored["agreed"].id)]
    flagged = client.get(f"/api/v1/projects/{consensus_project.id}/quality/rows?flagged=true").json()["results"]
    assert [r["data_row"] for r in flagged] == [str(scored["disputed"].id)]
    bad = client.get(f"/api/v1/projects/{consensus_project.id}/quality/rows?flagged=maybe")
    assert bad.status_code == 400 and bad.json()["error"]["details"]["flagged"]


def test_unscored_row_is_404_with_reason(consensus_project, manager, make_rows, client_for):
    row = make_rows(1, prefix="lonely")[0]
    response = client_for(manager).get(f"/api/v1/projects/{consensus_project.id}/data_rows/{row.id}/consensus")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_scored"
    junk = client_for(manager).get(f"/api/v1/projects/{consensus_project.id}/data_rows/not-a-uuid/consensus")
    assert junk.status_code == 404


def test_benchmark_reference_api(project_factory, org_admin, labelers, manager, make_rows, client_for):
    project = project_factory(name="Gold API", review={"sample_rate": 0.0})
    labeling_services.project_member_set(actor=org_admin, project=project, user=labelers[0], role="labeler")
    labeling_services.project_member_set(actor=org_admin, project=project, user=manager, role="team_manager")
    add_batch(project, org_admin, make_rows(1))
    label = claim_and_submit(labelers[0], project, boxes((5, 5, 20, 20)))
    url = f"/api/v1/labels/{label.id}/benchmark"

    assert client_for(labelers[0]).post(url).status_code == 403
    created = client_for(manager).post(url)
    assert created.status_code == 201, created.content
    assert created.json()["label"] == str(label.id)
    assert BenchmarkReference.objects.filter(label=label).exists()
    assert client_for(manager).post(url).status_code == 201  # marking again keeps the one reference
    assert BenchmarkReference.objects.filter(project=project).count() == 1

    summary = client_for(manager).get(f"/api/v1/projects/{project.id}/quality").json()
    assert summary["benchmark"]["references"] == 1
    assert client_for(manager).delete(url).status_code == 204
    missing = client_for(manager).delete(url)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_benchmark"


def test_stale_revision_cannot_be_the_reference(project_factory, org_admin, labelers, manager, make_rows, client_for):
    project = project_factory(name="Stale", review={"sample_rate": 1.0})
    labeling_services.project_member_set(actor=org_admin, project=project, user=labelers[0], role="labeler")
    labeling_services.project_member_set(actor=org_admin, project=project, user=manager, role="team_manager")
    add_batch(project, org_admin, make_rows(1))
    first = claim_and_submit(labelers[0], project, weather("sunny"))
    labeling_services.label_edit(actor=labelers[0], label=first, annotations=weather("rain"))
    response = client_for(manager).post(f"/api/v1/labels/{first.id}/benchmark")
    assert response.status_code == 409 and response.json()["error"]["code"] == "stale_revision"


def test_recompute_runs_as_a_job(consensus_project, scored, manager, client_for, django_capture_on_commit_callbacks):
    client = client_for(manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/v1/projects/{consensus_project.id}/quality/recompute")
    assert response.status_code == 202
    job = client.get(f"/api/v1/jobs/{response.json()['job']}").json()
    assert job["status"] == "succeeded", job
    assert job["result"] == {"rows": 2} and job["progress"] == {"done": 2, "total": 2}


@pytest.mark.parametrize(
    ("who", "expected"),
    [("labeler", 403), ("outsider", 404), ("other_org", 404), ("anonymous", 401)],
)
def test_quality_endpoints_are_guarded(
    who, expected, consensus_project, scored, labelers, org, other_org, make_user, client_for, api_client
):
    users = {
        "labeler": labelers[0],
        "outsider": make_user(role="labeler", organization=org, username="q-outsider"),
        "other_org": make_user(role="admin", organization=other_org, username="q-foreign-admin"),
    }
    client = api_client if who == "anonymous" else client_for(users[who])
    project = consensus_project.id
    label = scored["labels"][("agreed", 0)].id
    checks = [
        ("get", f"/api/v1/projects/{project}/quality"),
        ("get", f"/api/v1/projects/{project}/quality/rows"),
        ("get", f"/api/v1/projects/{project}/data_rows/{scored['agreed'].id}/consensus"),
        ("post", f"/api/v1/projects/{project}/quality/recompute"),
        ("post", f"/api/v1/labels/{label}/benchmark"),
        ("delete", f"/api/v1/labels/{label}/benchmark"),
    ]
    for method, url in checks:
        status = getattr(client, method)(url).status_code
        assert status == expected, (method, url, status)
