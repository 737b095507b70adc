"""The label page's progress line ("3 of 120 in this batch · 117 left for you", two queries whatever the size) and
"Previous task": the labeler reopens their last label and corrects it while it is unreviewed, as a new revision."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.labeling import selectors, services
from apps.labeling.models import Label, Task, TaskState
from tests.labeling.conftest import good_label

pytestmark = pytest.mark.django_db


@pytest.fixture
def reviewed_project(project_factory, org_admin, members, make_rows):
    project = project_factory(name="Reviewed", review={"sample_rate": 1.0})
    services.project_member_set(actor=org_admin, project=project, user=members["labeler"], role="labeler")
    services.project_member_set(actor=org_admin, project=project, user=members["reviewer"], role="reviewer")
    return project


def _queue(project, org_admin, make_rows, n, prefix):
    rows = make_rows(n, prefix=prefix)
    services.batch_create(actor=org_admin, project=project, name=prefix, data_row_ids=[str(r.pk) for r in rows])


def test_progress_line_counts_the_batch_and_what_is_left(client, reviewed_project, org_admin, members, make_rows):
    project = reviewed_project
    _queue(project, org_admin, make_rows, 5, "p")
    labeler = members["labeler"]
    for _ in range(2):
        task = services.queue_claim(actor=labeler, project=project)
        services.label_submit(actor=labeler, task=task, annotations=good_label())
    task = services.queue_claim(actor=labeler, project=project)
    client.force_login(labeler)
    html = client.get(f"/tasks/{task.pk}/label").content.decode()
    assert "3 of 5 in this batch · 3 left for you" in html
    # What the page's scripts key the local draft on and where they save and submit.
    assert f'data-user-id="{labeler.pk}"' in html and f'data-draft-url="/api/v1/tasks/{task.pk}/draft"' in html
    assert f'data-submit-url="/api/v1/tasks/{task.pk}/labels"' in html and 'data-submit-method="POST"' in html
    # Another labeler's live lease is not "left for you"; neither are rows I labeled.
    other = members["team_manager"]
    services.queue_claim(actor=other, project=project)
    assert selectors.label_progress(actor=labeler, task=task)["left_for_you"] == 2


@pytest.mark.parametrize("rows", [5, 60])
def test_progress_is_two_queries_whatever_the_size(reviewed_project, org_admin, members, make_rows, rows):
    _queue(reviewed_project, org_admin, make_rows, rows, f"q{rows}")
    task = services.queue_claim(actor=members["labeler"], project=reviewed_project)
    with CaptureQueriesContext(connection) as queries:
        progress = selectors.label_progress(actor=members["labeler"], task=task)
    assert len(queries) == 2
    assert progress == {"position": 1, "batch_total": rows, "left_for_you": rows}


def test_label_page_query_count_is_flat(client, reviewed_project, org_admin, members, make_rows):
    """The whole label page (claim already done): the same number of queries for 5 or 60 rows in the batch."""
    counts = []
    for n in (5, 60):
        _queue(reviewed_project, org_admin, make_rows, n, f"f{n}")
        labeler = members["labeler"]
        task = services.queue_claim(actor=labeler, project=reviewed_project)
        client.force_login(labeler)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/tasks/{task.pk}/label").status_code == 200
        counts.append(len(queries))
        services.label_submit(actor=labeler, task=task, annotations=[])
    assert counts[0] == counts[1], counts


def test_previous_task_reopens_my_label_and_keeps_history(client, reviewed_project, org_admin, members, make_rows):
    project = reviewed_project
    _queue(project, org_admin, make_rows, 3, "h")
    labeler = members["labeler"]
    first = services.queue_claim(actor=labeler, project=project)
    label = services.label_submit(actor=labeler, task=first, annotations=good_label())
    current = services.queue_claim(actor=labeler, project=project)
    client.force_login(labeler)
    html = client.get(f"/tasks/{current.pk}/label").content.decode()
    assert f'href="/labels/{label.pk}/edit"' in html and "Previous task" in html
    page = client.get(f"/labels/{label.pk}/edit")
    assert page.status_code == 200
    body = page.content.decode()
    assert "Editing your label · revision 1" in body and "Skip with a reason" not in body
    assert f'data-submit-url="/api/v1/labels/{label.pk}"' in body and 'data-submit-method="PATCH"' in body
    shown = json.loads(body.split('id="annotations-data" type="application/json">')[1].split("</script>")[0])
    assert shown[0]["name"] == "vehicle"
    # A bad edit is a 400 on the page and changes nothing.
    bad = client.post(f"/labels/{label.pk}/edit", {"annotations": json.dumps([{"name": "nope"}])})
    assert bad.status_code == 400 and Label.objects.filter(task=first).count() == 1
    saved = client.post(f"/labels/{label.pk}/edit", {"annotations": json.dumps(good_label()[1:])})
    assert saved.status_code == 302
    revisions = list(Label.objects.filter(task=first).order_by("revision"))
    assert [(r.revision, r.is_current) for r in revisions] == [(1, False), (2, True)]
    assert revisions[1].annotations[0]["name"] == "weather"
    # Reviewed: no longer editable here (the page says so and goes back to the project).
    reviewer = members["reviewer"]
    Task.objects.filter(pk=first.pk).update(state=TaskState.DONE)
    gone = client.get(f"/labels/{revisions[1].pk}/edit")
    assert gone.status_code == 302 and gone["Location"] == f"/projects/{project.pk}/"
    # Someone else's label: 403 even for a reviewer who may see it.
    client.force_login(reviewer)
    assert client.get(f"/labels/{revisions[1].pk}/edit").status_code == 403
