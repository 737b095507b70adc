"""Reviewer pages without a browser: to-review section, start, review page (read-only label, issues panel),
decisions by form, the labeler's rework page showing the feedback."""

import json

import pytest

from apps.labeling.models import Label, Task
from apps.review.models import Review
from tests.labeling.conftest import good_label
from tests.review.conftest import submit

pytestmark = pytest.mark.django_db


def test_home_lists_projects_to_review_for_reviewers_only(client, project, members, queue):
    queue(low=1)
    submit(project, members["labeler"])
    client.force_login(members["reviewer"])
    html = client.get("/").content.decode()
    assert "To review" in html and f"/projects/{project.id}/review/" in html and "1 label(s) to review" in html
    client.force_login(members["labeler"])
    html = client.get("/").content.decode()
    # A labeler reviews nowhere: no "To review" section at all (not an empty one saying there is nothing to review).
    assert f"/projects/{project.id}/review/" not in html and "To review" not in html and "Nothing to review" not in html
    assert client.get(f"/projects/{project.id}/review/").status_code == 403
    client.force_login(members["outsider"])
    assert client.get(f"/projects/{project.id}/review/").status_code == 404


def test_review_page_reject_with_feedback_then_rework_page_shows_it(client, project, members, queue):
    queue(low=1)
    label = submit(project, members["labeler"])
    client.force_login(members["reviewer"])
    response = client.post(f"/projects/{project.id}/review/next")
    assert response.status_code == 302 and response["Location"] == f"/reviews/{label.task_id}/"
    html = client.get(response["Location"]).content.decode()
    assert 'data-readonly="true"' in html and 'id="issues-panel"' in html and "p-labeler" in html
    annotations = json.loads(html.split('id="annotations-data" type="application/json">')[1].split("</script>")[0])
    assert annotations[0]["name"] == "vehicle"
    # Reject without feedback: an error, nothing changes.
    client.post(f"/reviews/{label.task_id}/", {"decision": "reject", "feedback": ""})
    assert Task.objects.get(pk=label.task_id).state == "in_review"
    feedback = "<b>Box</b> the bumper too"
    response = client.post(f"/reviews/{label.task_id}/", {"decision": "reject", "feedback": feedback})
    assert response.status_code == 302 and response["Location"] == f"/projects/{project.id}/review/"
    assert Task.objects.get(pk=label.task_id).state == "in_rework"
    client.force_login(members["labeler"])
    response = client.post(f"/projects/{project.id}/next")
    html = client.get(response["Location"]).content.decode()
    assert 'id="review-feedback"' in html and "&lt;b&gt;Box&lt;/b&gt; the bumper too" in html


def test_review_page_edit_and_approve(client, project, members, queue):
    queue(low=1)
    label = submit(project, members["labeler"])
    client.force_login(members["reviewer"])
    client.post(f"/projects/{project.id}/review/next")
    corrected = good_label()
    corrected[0]["bbox"]["height"] = 70
    response = client.post(
        f"/reviews/{label.task_id}/",
        {"decision": "approve", "edited": "1", "annotations": json.dumps(corrected), "seconds_spent": "4.5"},
    )
    assert response.status_code == 302
    current = Label.objects.get(task_id=label.task_id, is_current=True)
    assert current.labeler == members["reviewer"] and current.annotations[0]["bbox"]["height"] == 70
    review = Review.objects.get()
    assert review.edited and review.seconds_spent == 4.5
    assert Task.objects.get(pk=label.task_id).state == "done"


def test_review_page_without_a_lease_redirects(client, project, members, queue):
    queue(low=1)
    label = submit(project, members["labeler"])
    client.force_login(members["reviewer"])
    response = client.get(f"/reviews/{label.task_id}/")
    assert response.status_code == 302 and response["Location"] == f"/projects/{project.id}/review/"
    client.force_login(members["labeler"])
    assert client.get(f"/reviews/{label.task_id}/").status_code == 403
