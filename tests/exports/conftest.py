"""Export fixtures: the labeling fixtures, storage in a temporary folder, and a project with real lineage (labels,
a rejection with feedback, rework, approval, an issue with a comment) made through the real services."""

from __future__ import annotations

import json

import pytest

from apps.issues import services as issue_services
from apps.labeling import services
from apps.review import services as review_services
from tests.labeling.conftest import good_label, make_rows, members, ontology, project_factory  # noqa: F401


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def project(project_factory):  # noqa: F811
    return project_factory(review={"sample_rate": 1.0})


def box(left=20, top=10, width=80, height=50, kind="police"):
    return {
        "name": "vehicle",
        "bbox": {"top": top, "left": left, "height": height, "width": width},
        "classifications": [{"name": "kind", "answer": {"name": kind}}],
    }


def submit(project, user, annotations=None, seconds=12):
    task = services.queue_claim(actor=user, project=project)
    assert task is not None, "nothing to label"
    return services.label_submit(actor=user, task=task, annotations=annotations or good_label(), seconds_spent=seconds)


@pytest.fixture
def lineage(project, members, org_admin, make_rows):  # noqa: F811
    """Five rows in two batches. Row `approved`: labeled, rejected with feedback, reworked, approved. Row
    `in_review`: labeled, an open issue with a comment. The other three are still to label."""
    rows = make_rows(4, prefix="b1")
    services.batch_create(
        actor=org_admin, project=project, name="b1", data_row_ids=[str(r.id) for r in rows], priority=2
    )
    other = make_rows(1, prefix="b2")
    services.batch_create(actor=org_admin, project=project, name="b2", data_row_ids=[str(other[0].id)], priority=5)
    labeler, reviewer = members["labeler"], members["reviewer"]
    first = submit(project, labeler, [box(), box(left=200, kind="ambulance")], seconds=12)
    second = submit(project, labeler, [box(left=5, top=5, width=10, height=10)], seconds=7)
    review_services.review_decide(actor=reviewer, label=first, decision="reject", feedback="Box too <loose> & late")
    task = services.queue_claim(actor=labeler, project=project)
    assert task is not None and task.pk == first.task_id, "the rework comes back to its labeler first"
    reworked = services.label_submit(actor=labeler, task=task, annotations=[box(left=22)], seconds_spent=5)
    review_services.review_decide(actor=reviewer, label=reworked, decision="approve", feedback="ok", seconds_spent=3)
    issue = issue_services.issue_create(
        actor=reviewer,
        project=project,
        task=second.task,
        label=second,
        data_row=second.data_row,
        text="Is this a car?",
        position={"x": 6, "y": 6},
    )
    issue_services.comment_create(actor=labeler, issue=issue, text="Yes, a small one.")
    return {
        "approved": reworked,
        "first": first,
        "in_review": second,
        "issue": issue,
        "rows": rows + other,
        "labeler": labeler,
        "reviewer": reviewer,
    }


def parse_ndjson(content: bytes) -> list[dict]:
    text = content.decode()
    assert text.endswith("\n") or text == ""
    return [json.loads(line) for line in text.splitlines()]
