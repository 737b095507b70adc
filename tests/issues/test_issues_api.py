"""Issues & comments API: create on a label or a task's data row, threads, resolve/reopen, the project list with
filters, mentions → inbox + email; permissions for every role and another organization."""

import pytest
from django.core import mail

from apps.accounts.models import User
from apps.core.models import AuditEvent
from apps.issues.models import Issue, Mention
from apps.labeling import services as labeling_services
from tests.review.conftest import submit

pytestmark = pytest.mark.django_db


def open_issue(client, label, **body):
    return client.post(f"/api/v1/labels/{label.id}/issues", {"text": "Is this a van?", **body}, format="json")


def test_labeler_opens_an_issue_on_their_label_at_a_spot_and_on_an_annotation(project, members, queue, client_for):
    queue(low=1)
    label = submit(project, members["labeler"])
    response = open_issue(client_for(members["labeler"]), label, position={"x": 30.5, "y": 40}, annotation=0)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["position"] == {"x": 30.5, "y": 40.0} and body["annotation"] == 0
    assert body["feature"]["name"] == "vehicle" and body["status"] == "open"
    assert body["label"] == str(label.id) and body["task"] == str(label.task_id)
    assert body["created_by"]["username"] == "p-labeler" and body["comments"] == []
    assert AuditEvent.objects.filter(action="issue.created", object_id=body["id"]).exists()
    overview = client_for(members["reviewer"]).get(f"/api/v1/projects/{project.id}/overview").json()
    assert overview["open_issues"] == 1


def test_labeler_opens_an_issue_on_the_task_before_submitting(project, members, queue, client_for):
    queue(low=1)
    labeler = members["labeler"]
    task = labeling_services.queue_claim(actor=labeler, project=project)
    client = client_for(labeler)
    response = client.post(
        f"/api/v1/tasks/{task.id}/issues", {"text": "Half hidden car", "position": {"x": 5, "y": 6}}, format="json"
    )
    assert response.status_code == 201 and response.json()["label"] is None
    labeling_services.label_submit(actor=labeler, task=task, annotations=[])
    # The reviewer sees it on the task and in the review claim.
    claim = client_for(members["reviewer"]).post(f"/api/v1/projects/{project.id}/review/next").json()
    assert [i["text"] for i in claim["issues"]] == ["Half hidden car"]


@pytest.mark.parametrize(
    "body",
    [
        {"text": ""},
        {"text": "x" * 10_001},
        {"text": "ok", "position": {"x": 1}},
        {"text": "ok", "position": {"x": "1", "y": 2}},
        {"text": "ok", "position": {"x": -1, "y": 2}},
        {"text": "ok", "position": {"x": 641, "y": 2}},
        {"text": "ok", "annotation": 7},
        {"text": "ok", "annotation": True},
        {"text": "ok", "text_offset": -3},
        {"text": "ok", "color": "red"},
    ],
)
def test_bad_issue_input_is_a_400(project, members, queue, client_for, body):
    queue(low=1)
    label = submit(project, members["labeler"])
    response = client_for(members["reviewer"]).post(f"/api/v1/labels/{label.id}/issues", body, format="json")
    assert response.status_code == 400, response.content
    assert not Issue.objects.exists()


def test_non_finite_position_is_a_400(project, members, queue, client_for):
    queue(low=1)
    label = submit(project, members["labeler"])
    response = client_for(members["reviewer"]).post(
        f"/api/v1/labels/{label.id}/issues",
        data='{"text": "nan", "position": {"x": NaN, "y": 1}}',
        content_type="application/json",
    )
    assert response.status_code == 400


def test_thread_resolve_reopen(project, members, queue, client_for):
    queue(low=1)
    label = submit(project, members["labeler"])
    labeler, reviewer = client_for(members["labeler"]), client_for(members["reviewer"])
    issue = open_issue(labeler, label).json()
    reply = reviewer.post(f"/api/v1/issues/{issue['id']}/comments", {"text": "Yes, a van."}, format="json")
    assert reply.status_code == 201 and reply.json()["author"]["username"] == "p-reviewer"
    assert labeler.post(f"/api/v1/issues/{issue['id']}/comments", {"text": "Thanks"}, format="json").status_code == 201
    resolved = labeler.post(f"/api/v1/issues/{issue['id']}/resolve")
    assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"
    assert resolved.json()["resolved_by"]["username"] == "p-labeler"
    assert [c["text"] for c in resolved.json()["comments"]] == ["Yes, a van.", "Thanks"]
    assert labeler.post(f"/api/v1/issues/{issue['id']}/resolve").status_code == 409
    reopened = reviewer.post(f"/api/v1/issues/{issue['id']}/reopen")
    assert (
        reopened.status_code == 200 and reopened.json()["status"] == "open" and reopened.json()["resolved_by"] is None
    )
    assert reviewer.post(f"/api/v1/issues/{issue['id']}/reopen").status_code == 409
    assert reviewer.get(f"/api/v1/issues/{issue['id']}").json()["status"] == "open"
    assert reviewer.post(f"/api/v1/issues/{issue['id']}/comments", {"text": " "}, format="json").status_code == 400


def test_permissions_on_issues(project, members, queue, client_for, second_labeler, other_org):
    queue(low=2)
    label = submit(project, members["labeler"])
    issue = open_issue(client_for(members["labeler"]), label).json()
    other_labeler = client_for(second_labeler)
    # Another labeler of the project: sees the project, not someone else's label or its issues.
    assert open_issue(other_labeler, label).status_code == 403
    assert other_labeler.get(f"/api/v1/issues/{issue['id']}").status_code == 403
    for action in ("resolve", "reopen"):
        assert other_labeler.post(f"/api/v1/issues/{issue['id']}/{action}").status_code == 403
    comment = other_labeler.post(f"/api/v1/issues/{issue['id']}/comments", {"text": "hi"}, format="json")
    assert comment.status_code == 403
    assert other_labeler.get(f"/api/v1/projects/{project.id}/issues").json()["results"] == []
    # A member of the organization who is not in the project, and another organization: nothing exists.
    globex = client_for(User.objects.get(organization=other_org, role="admin"))
    for client in (client_for(members["outsider"]), globex):
        assert client.get(f"/api/v1/issues/{issue['id']}").status_code == 404
        assert client.post(f"/api/v1/issues/{issue['id']}/resolve").status_code == 404
        assert client.post(f"/api/v1/issues/{issue['id']}/comments", {"text": "x"}, format="json").status_code == 404
        assert open_issue(client, label).status_code == 404
        assert client.get(f"/api/v1/projects/{project.id}/issues").status_code == 404
        assert client.get(f"/api/v1/tasks/{label.task_id}/issues").status_code == 404
    # Reviewers, team managers and admins work on any issue of the project.
    for role in ("reviewer", "team_manager", "admin"):
        client = client_for(members[role])
        assert client.get(f"/api/v1/issues/{issue['id']}").status_code == 200
        assert open_issue(client, label).status_code == 201
    assert Issue.objects.get(pk=issue["id"]).status == "open"


def test_project_issue_list_filters(project, members, queue, client_for, second_labeler):
    queue(low=2)
    first = submit(project, members["labeler"])
    second = submit(project, second_labeler)
    reviewer = client_for(members["reviewer"])
    a = open_issue(reviewer, first, annotation=0).json()
    b = open_issue(reviewer, second, text="weather?", annotation=1).json()
    reviewer.post(f"/api/v1/issues/{b['id']}/resolve")
    url = f"/api/v1/projects/{project.id}/issues"

    def ids(**params):
        response = reviewer.get(url, params)
        assert response.status_code == 200, response.content
        return {i["id"] for i in response.json()["results"]}

    assert ids() == {a["id"], b["id"]}
    assert ids(status="open") == {a["id"]} and ids(status="resolved") == {b["id"]}
    assert ids(feature="weather") == {b["id"]} and ids(feature=a["feature"]["schema_id"]) == {a["id"]}
    assert ids(labeler=str(second_labeler.id)) == {b["id"]}
    assert ids(data_row=str(first.data_row_id)) == {a["id"]}
    assert reviewer.get(url, {"status": "closed"}).status_code == 400
    assert reviewer.get(url, {"labeler": "nope"}).status_code == 400
    # A labeler lists only the issues on their own work.
    mine = client_for(members["labeler"]).get(url).json()["results"]
    assert [i["id"] for i in mine] == [a["id"]]


def test_mentions_notify_members_by_email_and_inbox(
    project, members, queue, client_for, make_user, other_org, django_capture_on_commit_callbacks
):
    queue(low=1)
    label = submit(project, members["labeler"])
    make_user(role="labeler", organization=other_org, username="globex-guy")
    with django_capture_on_commit_callbacks(execute=True):
        response = open_issue(
            client_for(members["labeler"]),
            label,
            text="@p-reviewer is this a van? cc @not-a-member @globex-guy @nobody and mail me at lana@p-admin",
        )
    assert response.status_code == 201
    assert [m.user.username for m in Mention.objects.all()] == ["p-reviewer"]
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [members["reviewer"].email] and "p-labeler" in message.subject
    assert "is this a van?" in message.body and f"/issues/{response.json()['id']}/" in message.body
    # Replies mention too; the author is never notified of their own mention.
    with django_capture_on_commit_callbacks(execute=True):
        client_for(members["reviewer"]).post(
            f"/api/v1/issues/{response.json()['id']}/comments", {"text": "@p-labeler yes. @p-reviewer"}, format="json"
        )
    assert [m.to for m in mail.outbox] == [[members["reviewer"].email], [members["labeler"].email]]
    inbox = client_for(members["labeler"]).get("/api/v1/inbox").json()["results"]
    assert len(inbox) == 1 and inbox[0]["text"] == "@p-labeler yes. @p-reviewer"
    assert inbox[0]["mentioned_by"] == "p-reviewer" and inbox[0]["read_at"] is None
    assert client_for(members["outsider"]).get("/api/v1/inbox").json()["results"] == []


def test_mention_email_task_is_safe_to_run_twice(
    project, members, queue, client_for, django_capture_on_commit_callbacks
):
    from apps.issues.tasks import send_mention_email

    queue(low=1)
    label = submit(project, members["labeler"])
    with django_capture_on_commit_callbacks(execute=True):
        open_issue(client_for(members["labeler"]), label, text="@p-reviewer look")
    mention = Mention.objects.get()
    assert mention.emailed_at is not None and len(mail.outbox) == 1
    assert send_mention_email(str(mention.pk)) is False
    assert len(mail.outbox) == 1


def test_project_issue_list_query_count_does_not_grow_with_issues(
    project, members, queue, client_for, django_assert_max_num_queries
):
    queue(low=3)
    reviewer = client_for(members["reviewer"])
    for _ in range(3):
        label = submit(project, members["labeler"])
        issue = open_issue(reviewer, label).json()
        reviewer.post(f"/api/v1/issues/{issue['id']}/comments", {"text": "more"}, format="json")
    with django_assert_max_num_queries(12):
        response = reviewer.get(f"/api/v1/projects/{project.id}/issues")
    assert len(response.json()["results"]) == 3


def test_open_issue_counts_per_task(project, members, queue, client_for, second_labeler):
    queue(low=2)
    first = submit(project, members["labeler"])
    second = submit(project, second_labeler)
    reviewer = client_for(members["reviewer"])
    open_issue(reviewer, first)
    open_issue(reviewer, first, text="and this?")
    closed = open_issue(reviewer, second).json()
    reviewer.post(f"/api/v1/issues/{closed['id']}/resolve")
    rows = reviewer.get(f"/api/v1/projects/{project.id}/issues/open_by_task").json()
    assert rows == [
        {
            "task": str(first.task_id),
            "data_row": str(first.data_row_id),
            "global_key": first.data_row.global_key,
            "state": "in_review",
            "open_issues": 2,
        }
    ]
    assert client_for(second_labeler).get(f"/api/v1/projects/{project.id}/issues/open_by_task").json() == []
    assert client_for(members["outsider"]).get(f"/api/v1/projects/{project.id}/issues/open_by_task").status_code == 404


def test_mentions_reach_only_users_who_may_open_the_issue(
    project, members, queue, client_for, second_labeler, django_capture_on_commit_callbacks
):
    """A project member who may not open this issue (another labeler: not theirs, they cannot review) is not
    notified: the inbox entry and the e-mail would hand them the text."""
    queue(low=1)
    label = submit(project, members["labeler"])
    with django_capture_on_commit_callbacks(execute=True):
        response = open_issue(
            client_for(members["labeler"]), label, text=f"@{second_labeler.username} and @p-reviewer: a van?"
        )
    assert response.status_code == 201
    assert client_for(second_labeler).get(f"/api/v1/issues/{response.json()['id']}").status_code == 403
    assert [m.user.username for m in Mention.objects.all()] == ["p-reviewer"]
    assert [m.to for m in mail.outbox] == [[members["reviewer"].email]]
    assert client_for(second_labeler).get("/api/v1/inbox").json()["results"] == []
