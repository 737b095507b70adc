"""Issue pages without a browser: thread page, project list, inbox; user text renders inert; access rules."""

import pytest

from apps.accounts.models import User
from apps.issues import services
from apps.issues.models import Issue
from tests.review.conftest import submit

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"
ATTR = '"><img src=x onerror=alert(2)>'


@pytest.fixture
def issue(project, members, queue):
    queue(low=1)
    label = submit(project, members["labeler"])
    return services.issue_create(
        actor=members["labeler"],
        project=project,
        task=label.task,
        label=label,
        data_row=label.data_row,
        text=f"{SCRIPT} @p-reviewer",
        position={"x": 10, "y": 20},
    )


def test_comments_with_markup_render_inert_everywhere(
    client, project, members, issue, django_capture_on_commit_callbacks
):
    services.comment_create(actor=members["reviewer"], issue=issue, text=f"{ATTR} @p-labeler")
    client.force_login(members["labeler"])
    pages = [
        client.get(f"/issues/{issue.id}/"),
        client.get(f"/projects/{project.id}/issues/"),
        client.get("/inbox/"),
        client.get("/"),
    ]
    for response in pages:
        assert response.status_code == 200
        html = response.content.decode()
        assert SCRIPT not in html and "<img src=x" not in html
    thread = pages[0].content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in thread
    assert "&quot;&gt;&lt;img src=x onerror=alert(2)&gt;" in thread
    assert "&quot;&gt;&lt;img src=x onerror=alert(2)&gt;" in pages[2].content.decode()


def test_thread_page_comment_resolve_reopen(client, members, issue):
    client.force_login(members["reviewer"])
    response = client.post(f"/issues/{issue.id}/", {"text": "It is a van."})
    assert response.status_code == 302
    assert issue.comments.get().text == "It is a van."
    assert client.post(f"/issues/{issue.id}/resolve").status_code == 302
    assert Issue.objects.get(pk=issue.pk).status == "resolved"
    html = client.get(f"/issues/{issue.id}/").content.decode()
    assert 'id="reopen-issue"' in html and "It is a van." in html
    client.post(f"/issues/{issue.id}/reopen")
    assert Issue.objects.get(pk=issue.pk).status == "open"


def test_issue_pages_access(client, project, members, issue, second_labeler, other_org):
    client.force_login(second_labeler)
    assert client.get(f"/issues/{issue.id}/").status_code == 403
    assert client.post(f"/issues/{issue.id}/resolve").status_code == 403
    assert "No issues match." in client.get(f"/projects/{project.id}/issues/").content.decode()
    for user in (members["outsider"], User.objects.get(organization=other_org, role="admin")):
        client.force_login(user)
        assert client.get(f"/issues/{issue.id}/").status_code == 404
        assert client.get(f"/projects/{project.id}/issues/").status_code == 404
        assert client.post(f"/issues/{issue.id}/", {"text": "x"}).status_code == 404
    assert Issue.objects.get(pk=issue.pk).comments.count() == 0


def test_inbox_page_lists_mentions_and_marks_them_read(client, members, issue):
    client.force_login(members["reviewer"])
    home = client.get("/").content.decode()
    assert "My inbox" in home and "p-labeler mentioned you in Vehicles" in home
    html = client.get("/inbox/").content.decode()
    assert f"/issues/{issue.id}/" in html and 'class="unread"' in html
    assert 'class="unread"' not in client.get("/inbox/").content.decode()
    assert "No new mentions." in client.get("/").content.decode()


def test_project_page_shows_open_issue_count(client, project, members, issue):
    client.force_login(members["reviewer"])
    html = client.get(f"/projects/{project.id}/").content.decode()
    assert "<strong>1</strong> open issue(s)" in html
    html = client.get(f"/projects/{project.id}/issues/?status=resolved").content.decode()
    assert "No issues match." in html
    html = client.get(f"/projects/{project.id}/issues/?status=open&feature=&labeler=&data_row=").content.decode()
    assert f"/issues/{issue.id}/" in html
