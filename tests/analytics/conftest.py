"""A seeded labeling history whose every figure the tests compute by hand.

Batches b1 (rows r1, r2) and b2 (r3, r4); labeler ann (hourly rate 20) labels b1 on 2026-11-20, labeler bob labels
b2 on 2026-11-21; reviewer rev approves r1, rejects r2, approves r3 and r4 on 2026-11-21; ann reworks r2 on
2026-11-22 and rev approves it that day; rev opens one issue on bob's r3 label (pinned to the vehicle box).

seconds (client / server → counted):
  ann  r1 30/40 → 30,  r2 50/45 → 45,  rework r2 25/30 → 25
  bob  r3 100/200 → 100,  r4 None/60 → 60
  rev  r1 10/12 → 10,  r2 20/15 → 15,  r3 5/5 → 5,  r4 8/9 → 8,  rework 4/4 → 4
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from apps.issues import services as issue_services
from apps.labeling import services
from apps.labeling.models import Label, ProjectMember, Task
from apps.review import services as review_services
from apps.review.models import Review
from tests.labeling.conftest import make_rows, members, ontology, project_factory  # noqa: F401
from tests.quality.conftest import boxes, weather

D1, D2, D3 = (datetime(2026, 11, day, 12, 0, tzinfo=UTC) for day in (20, 21, 22))


def _set_label(label: Label, client: float | None, server: float, when: datetime) -> None:
    Label.objects.filter(pk=label.pk).update(seconds_spent=client, server_seconds=server, created_at=when)


def _set_review(review: Review, client: float, server: float, when: datetime) -> None:
    Review.objects.filter(pk=review.pk).update(seconds_spent=client, server_seconds=server, created_at=when)


def _label(user, project, annotations):
    task = services.queue_claim(actor=user, project=project)
    return services.label_submit(actor=user, task=task, annotations=annotations)


def _review(reviewer, project, decision):
    task = review_services.review_claim(actor=reviewer, project=project)
    label = Label.objects.get(task=task, is_current=True)
    feedback = "redo the box" if decision == "reject" else ""
    return label, review_services.review_decide(actor=reviewer, label=label, decision=decision, feedback=feedback)


@pytest.fixture
def people(org, make_user):
    return {
        "ann": make_user(role="labeler", organization=org, username="ann"),
        "bob": make_user(role="labeler", organization=org, username="+bob"),  # a formula-looking name
        "rev": make_user(role="reviewer", organization=org, username="rev"),
        "boss": make_user(role="labeler", organization=org, username="boss"),
    }


@pytest.fixture
def history(project_factory, org_admin, people, make_rows):  # noqa: F811
    project = project_factory(name="Analytics", review={"sample_rate": 1.0, "rework_wait_hours": 0})
    for name, role in (("ann", "labeler"), ("bob", "labeler"), ("rev", "reviewer"), ("boss", "team_manager")):
        services.project_member_set(actor=org_admin, project=project, user=people[name], role=role)
    ProjectMember.objects.filter(project=project, user=people["ann"]).update(hourly_rate=Decimal("20.00"))
    r1, r2, r3, r4 = make_rows(4, prefix="row")
    b1 = services.batch_create(
        actor=org_admin, project=project, name="b1", data_row_ids=[str(r1.id), str(r2.id)], priority=5
    ).batch
    b2 = services.batch_create(actor=org_admin, project=project, name="b2", data_row_ids=[str(r3.id), str(r4.id)]).batch
    ann, bob, rev = people["ann"], people["bob"], people["rev"]

    l1 = _label(ann, project, weather("sunny"))
    l2 = _label(ann, project, weather("sunny"))
    l3 = _label(bob, project, boxes((1, 1, 10, 10)) + weather("rain"))
    l4 = _label(bob, project, weather("rain"))
    _set_label(l1, 30, 40, D1)
    _set_label(l2, 50, 45, D1)
    _set_label(l3, 100, 200, D2)
    _set_label(l4, None, 60, D2)

    reviews = {}
    for decision in ("approve", "reject", "approve", "approve"):
        label, review = _review(rev, project, decision)
        reviews[label.pk] = review
    _set_review(reviews[l1.pk], 10, 12, D2)
    _set_review(reviews[l2.pk], 20, 15, D2)
    _set_review(reviews[l3.pk], 5, 5, D2)
    _set_review(reviews[l4.pk], 8, 9, D2)

    rework = _label(ann, project, weather("rain"))
    assert rework.previous_id == l2.pk
    _set_label(rework, 25, 30, D3)
    _, last = _review(rev, project, "approve")
    _set_review(last, 4, 4, D3)

    issue = issue_services.issue_create(
        actor=rev, project=project, task=None, label=l3, data_row=l3.data_row, text="Is this a car?", annotation=0
    )
    type(issue).objects.filter(pk=issue.pk).update(created_at=D2)
    Task.objects.filter(project=project, data_row__in=[r1, r3, r4]).update(done_at=D2)
    Task.objects.filter(project=project, data_row=r2).update(done_at=D3)
    return {"project": project, "b1": b1, "b2": b2, "labels": (l1, l2, l3, l4, rework)}
