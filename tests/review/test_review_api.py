"""Review API: claim, decide, history; every permission rule, including another organization."""

import pytest

from apps.accounts.models import User
from apps.labeling.models import Task
from apps.review.models import Review
from tests.labeling.conftest import good_label
from tests.review.conftest import submit

pytestmark = pytest.mark.django_db


def test_review_next_returns_the_label_with_issues_then_204(project, members, queue, client_for):
    queue(low=1)
    label = submit(project, members["labeler"])
    client = client_for(members["reviewer"])
    response = client.post(f"/api/v1/projects/{project.id}/review/next")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["task"] == str(label.task_id) and body["label"]["id"] == str(label.id)
    assert body["label"]["annotations"][0]["name"] == "vehicle" and body["issues"] == []
    assert body["lease_expires_at"]
    assert client_for(members["admin"]).post(f"/api/v1/projects/{project.id}/review/next").status_code == 204


@pytest.mark.parametrize("who, expected", [("labeler", 403), ("expert", 403), ("outsider", 404)])
def test_review_next_forbidden(project, members, queue, client_for, who, expected):
    response = client_for(members[who]).post(f"/api/v1/projects/{project.id}/review/next")
    assert response.status_code == expected
    assert response.json()["error"]["code"] in {"permission_denied", "not_found"}


def test_other_organization_sees_nothing(project, members, queue, client_for, other_org):
    queue(low=1)
    label = submit(project, members["labeler"])
    globex_admin = User.objects.get(organization=other_org, role="admin")
    client = client_for(globex_admin)
    assert client.post(f"/api/v1/projects/{project.id}/review/next").status_code == 404
    response = client.post(f"/api/v1/labels/{label.id}/reviews", {"decision": "approve"}, format="json")
    assert response.status_code == 404
    assert client.get(f"/api/v1/labels/{label.id}/reviews").status_code == 404
    assert Task.objects.get(pk=label.task_id).state == "in_review"


def test_reject_then_rework_claim_shows_feedback_and_history_shows_decisions(project, members, queue, client_for):
    queue(low=1)
    labeler = members["labeler"]
    label = submit(project, labeler)
    reviewer = client_for(members["reviewer"])
    missing = reviewer.post(f"/api/v1/labels/{label.id}/reviews", {"decision": "reject"}, format="json")
    assert missing.status_code == 400 and missing.json()["error"]["code"] == "feedback_required"
    response = reviewer.post(
        f"/api/v1/labels/{label.id}/reviews",
        {"decision": "reject", "feedback": "Box the whole <b>bus</b>.", "seconds_spent": 9.5},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["decision"] == "reject" and response.json()["seconds_spent"] == 9.5

    claim = client_for(labeler).post(f"/api/v1/projects/{project.id}/queue/next")
    assert claim.status_code == 200
    body = claim.json()
    assert body["kind"] == "rework" and body["task"] == str(label.task_id)
    assert body["feedback"]["text"] == "Box the whole <b>bus</b>." and body["feedback"]["reviewer"] == "p-reviewer"
    assert body["previous_label"]["id"] == str(label.id)

    fixed = client_for(labeler).post(
        f"/api/v1/tasks/{label.task_id}/labels", {"annotations": good_label()}, format="json"
    )
    assert fixed.status_code == 201
    new_id = fixed.json()["id"]
    approve = reviewer.post(f"/api/v1/labels/{new_id}/reviews", {"decision": "approve"}, format="json")
    assert approve.status_code == 201
    detail = client_for(labeler).get(f"/api/v1/labels/{new_id}").json()
    assert [r["decision"] for r in detail["reviews"]] == ["reject", "approve"]
    assert detail["reviews"][0]["feedback"] == "Box the whole <b>bus</b>." and detail["status"] == "done"
    assert [h["revision"] for h in detail["history"]] == [1, 2]


def test_edit_and_approve_through_the_api_with_idempotency(project, members, queue, client_for):
    queue(low=1)
    label = submit(project, members["labeler"])
    corrected = good_label()
    corrected[0]["bbox"]["width"] = 100
    client = client_for(members["reviewer"])
    payload = {"decision": "approve", "annotations": corrected}
    first = client.post(f"/api/v1/labels/{label.id}/reviews", payload, format="json", HTTP_IDEMPOTENCY_KEY="r-1")
    again = client.post(f"/api/v1/labels/{label.id}/reviews", payload, format="json", HTTP_IDEMPOTENCY_KEY="r-1")
    assert first.status_code == 201 and again.status_code == 201
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert Review.objects.count() == 1
    result = first.json()["result_label"]
    detail = client.get(f"/api/v1/labels/{result}").json()
    assert detail["labeler"] == str(members["reviewer"].id) and detail["revision"] == 2
    assert detail["annotations"][0]["bbox"]["width"] == 100


def test_bad_review_input_is_a_400(project, members, queue, client_for):
    queue(low=1)
    label = submit(project, members["labeler"])
    client = client_for(members["reviewer"])
    for body in (
        {"decision": "maybe"},
        {"decision": "approve", "extra": 1},
        {"decision": "reject", "feedback": "x", "annotations": good_label()},
        {"decision": "approve", "seconds_spent": -1},
        {"decision": "approve", "annotations": [{"name": "nope"}]},
    ):
        response = client.post(f"/api/v1/labels/{label.id}/reviews", body, format="json")
        assert response.status_code == 400, (body, response.content)
    assert Task.objects.get(pk=label.task_id).state == "in_review"


def test_who_may_decide(project, members, queue, client_for):
    queue(low=1)
    label = submit(project, members["labeler"])
    url = f"/api/v1/labels/{label.id}/reviews"
    # The labeler sees their label but may not review it; a non-member does not see it.
    assert client_for(members["labeler"]).post(url, {"decision": "approve"}, format="json").status_code == 403
    assert client_for(members["outsider"]).post(url, {"decision": "approve"}, format="json").status_code == 404
    assert client_for(members["expert"]).post(url, {"decision": "approve"}, format="json").status_code == 403
    assert client_for(members["labeler"]).get(url).status_code == 200
    # Team managers and admins review like reviewers.
    response = client_for(members["team_manager"]).post(url, {"decision": "approve"}, format="json")
    assert response.status_code == 201


def test_a_reviewer_cannot_review_their_own_label(project, members, queue, client_for):
    queue(low=1)
    label = submit(project, members["team_manager"])
    response = client_for(members["team_manager"]).post(
        f"/api/v1/labels/{label.id}/reviews", {"decision": "approve"}, format="json"
    )
    assert response.status_code == 403 and response.json()["error"]["code"] == "own_label"


def test_project_settings_expose_the_open_issue_override(project, org_admin, client_for):
    client = client_for(org_admin)
    body = client.get(f"/api/v1/projects/{project.id}").json()
    assert body["review"]["allow_approve_with_open_issues"] is False
    response = client.patch(
        f"/api/v1/projects/{project.id}", {"review": {"allow_approve_with_open_issues": "yes"}}, format="json"
    )
    assert response.status_code == 400
    response = client.patch(
        f"/api/v1/projects/{project.id}", {"review": {"allow_approve_with_open_issues": True}}, format="json"
    )
    assert response.status_code == 200 and response.json()["review"]["allow_approve_with_open_issues"] is True
