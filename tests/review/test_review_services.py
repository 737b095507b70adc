"""Review services: leased atomic claims, approve, reject with feedback into the rework loop, edit-and-approve."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.core.errors import Conflict, PermissionDenied, ValidationFailed
from apps.core.models import AuditEvent
from apps.issues import services as issue_services
from apps.labeling import services as labeling_services
from apps.labeling.models import Label, Task, TaskState
from apps.labeling.services import label_revision_create
from apps.review import services
from apps.review.models import Review, ReviewLease
from tests.labeling.conftest import good_label
from tests.review.conftest import submit

pytestmark = pytest.mark.django_db


def test_claim_takes_highest_batch_priority_first_and_keeps_the_live_lease(project, members, queue):
    queue(low=1, high=1)
    labeler, reviewer = members["labeler"], members["reviewer"]
    first = submit(project, labeler)  # the labeler also gets the high-priority row first
    second = submit(project, labeler)
    assert first.data_row.global_key.startswith("high")
    claimed = services.review_claim(actor=reviewer, project=project)
    assert claimed is not None and claimed.pk == first.task_id
    lease = ReviewLease.objects.get(task=claimed)
    assert lease.reviewer == reviewer and lease.expires_at > timezone.now()
    # Claiming again returns the same live lease, not a second task.
    assert services.review_claim(actor=reviewer, project=project).pk == first.task_id
    # Another reviewer gets the other label, then nothing.
    manager = members["team_manager"]
    assert services.review_claim(actor=manager, project=project).pk == second.task_id
    assert services.review_claim(actor=members["admin"], project=project) is None


def test_reviewer_never_gets_their_own_label(project, members, queue):
    queue(low=1)
    manager = members["team_manager"]  # may both label and review
    submit(project, manager)
    assert services.review_claim(actor=manager, project=project) is None
    assert services.review_claim(actor=members["reviewer"], project=project) is not None


def test_expired_review_lease_goes_to_the_next_reviewer(project, members, queue):
    queue(low=1)
    label = submit(project, members["labeler"])
    services.review_claim(actor=members["reviewer"], project=project)
    assert services.review_claim(actor=members["admin"], project=project) is None
    ReviewLease.objects.filter(task_id=label.task_id).update(expires_at=timezone.now() - timedelta(seconds=1))
    taken = services.review_claim(actor=members["admin"], project=project)
    assert taken is not None and taken.pk == label.task_id
    assert ReviewLease.objects.get(task_id=label.task_id).reviewer == members["admin"]


def test_approve_finishes_the_task_with_an_audit_event_and_review_time(project, members, queue):
    queue(low=1)
    label = submit(project, members["labeler"])
    reviewer = members["reviewer"]
    services.review_claim(actor=reviewer, project=project)
    ReviewLease.objects.filter(task_id=label.task_id).update(claimed_at=timezone.now() - timedelta(seconds=30))
    review = services.review_decide(actor=reviewer, label=label, decision="approve", seconds_spent=25)
    task = Task.objects.get(pk=label.task_id)
    assert task.state == TaskState.DONE and task.done_at is not None
    assert review.server_seconds is not None and 29 <= review.server_seconds < 120
    assert review.seconds_spent == 25
    assert not ReviewLease.objects.filter(task=task).exists()
    event = AuditEvent.objects.get(action="label.approved")
    assert event.actor == reviewer and event.object_id == str(label.pk) and event.extra["review"] == str(review.pk)


def test_reject_needs_feedback_and_sends_the_task_back_to_its_labeler_first(project, members, queue, second_labeler):
    queue(low=1)
    labeler, reviewer = members["labeler"], members["reviewer"]
    label = submit(project, labeler)
    with pytest.raises(ValidationFailed) as exc:
        services.review_decide(actor=reviewer, label=label, decision="reject", feedback="   ")
    assert exc.value.code == "feedback_required"
    assert Task.objects.get(pk=label.task_id).state == TaskState.IN_REVIEW

    before = timezone.now()
    services.review_decide(actor=reviewer, label=label, decision="reject", feedback="The box misses the bumper.")
    task = Task.objects.get(pk=label.task_id)
    assert task.state == TaskState.IN_REWORK and task.rework_user == labeler
    assert before + timedelta(hours=4) <= task.rework_open_at <= timezone.now() + timedelta(hours=4)
    assert AuditEvent.objects.filter(action="label.rejected", object_id=str(label.pk)).exists()
    # Another labeler does not get it while it waits for its labeler ...
    assert labeling_services.queue_claim(actor=second_labeler, project=project) is None
    # ... the labeler does, and fixes it.
    again = labeling_services.queue_claim(actor=labeler, project=project)
    assert again is not None and again.pk == task.pk
    fixed = labeling_services.label_submit(actor=labeler, task=again, annotations=good_label())
    assert fixed.revision == 2 and Task.objects.get(pk=task.pk).state == TaskState.IN_REVIEW
    services.review_claim(actor=reviewer, project=project)
    services.review_decide(actor=reviewer, label=fixed, decision="approve")
    assert Task.objects.get(pk=task.pk).state == TaskState.DONE


def test_rework_opens_to_anyone_after_the_wait(project, members, queue, second_labeler):
    queue(low=1)
    label = submit(project, members["labeler"])
    services.review_decide(actor=members["reviewer"], label=label, decision="reject", feedback="Redo it.")
    Task.objects.filter(pk=label.task_id).update(rework_open_at=timezone.now() - timedelta(minutes=1))
    # The labeling queue never hands a row to someone who labeled it; a second labeler takes the open rework.
    taken = labeling_services.queue_claim(actor=second_labeler, project=project)
    assert taken is not None and taken.pk == label.task_id


def test_edit_and_approve_stores_the_reviewers_revision(project, members, queue):
    queue(low=1)
    label = submit(project, members["labeler"])
    reviewer = members["reviewer"]
    corrected = good_label()
    corrected[0]["bbox"] = {"top": 12, "left": 22, "height": 60, "width": 90}
    review = services.review_decide(actor=reviewer, label=label, decision="approve", annotations=corrected)
    current = Label.objects.get(task_id=label.task_id, is_current=True)
    assert review.edited and review.result_label == current
    assert current.labeler == reviewer and current.revision == 2 and current.previous_id == label.pk
    assert current.annotations[0]["bbox"] == {"top": 12, "left": 22, "height": 60, "width": 90}
    assert current.annotation_rows.filter(kind="bbox", width=90).exists()
    assert Task.objects.get(pk=label.task_id).state == TaskState.DONE
    # The labeler's original revision is kept.
    assert Label.objects.get(pk=label.pk).annotations[0]["bbox"]["width"] == 80


def test_edit_with_invalid_geometry_is_a_400_and_changes_nothing(project, members, queue):
    queue(low=1)
    label = submit(project, members["labeler"])
    bad = good_label()
    bad[0]["bbox"] = {"top": 10, "left": 20, "height": 50, "width": 5000}
    with pytest.raises(ValidationFailed):
        services.review_decide(actor=members["reviewer"], label=label, decision="approve", annotations=bad)
    assert Label.objects.filter(task_id=label.task_id).count() == 1
    assert Task.objects.get(pk=label.task_id).state == TaskState.IN_REVIEW
    assert not Review.objects.exists()


def test_decisions_that_do_not_apply_are_conflicts(project, members, queue):
    queue(low=2)
    labeler, reviewer = members["labeler"], members["reviewer"]
    label = submit(project, labeler)
    with pytest.raises(PermissionDenied):
        services.review_decide(actor=labeler, label=label, decision="approve")
    # Someone else holds the review lease.
    services.review_claim(actor=members["admin"], project=project)
    with pytest.raises(Conflict) as exc:
        services.review_decide(actor=reviewer, label=label, decision="approve")
    assert exc.value.code == "review_leased"
    services.review_decide(actor=members["admin"], label=label, decision="approve")
    with pytest.raises(Conflict) as exc:
        services.review_decide(actor=reviewer, label=label, decision="approve")
    assert exc.value.code == "invalid_state"
    # A done label may still be rejected (sent back) ...
    services.review_decide(actor=reviewer, label=label, decision="reject", feedback="Found a miss later.")
    # ... and an old revision is stale once a new one exists.
    other = submit(project, labeler)
    task = Task.objects.select_related("project", "data_row").get(pk=other.task_id)
    label_revision_create(task=task, author=labeler, annotations=good_label())
    with pytest.raises(Conflict) as exc:
        services.review_decide(actor=reviewer, label=other, decision="approve")
    assert exc.value.code == "stale_revision"


def test_open_issues_block_approval_unless_the_project_allows_an_override(project, members, queue, org_admin):
    queue(low=1)
    labeler, reviewer = members["labeler"], members["reviewer"]
    label = submit(project, labeler)
    issue = issue_services.issue_create(
        actor=labeler, project=project, task=label.task, label=label, data_row=label.data_row, text="Is it a van?"
    )
    with pytest.raises(Conflict) as exc:
        services.review_decide(actor=reviewer, label=label, decision="approve", override_open_issues=True)
    assert exc.value.code == "open_issues" and exc.value.details["override_allowed"] is False
    labeling_services.project_update(
        actor=org_admin, project=project, data={"settings": {"review": {"allow_approve_with_open_issues": True}}}
    )
    label.task.project.refresh_from_db()
    with pytest.raises(Conflict):
        services.review_decide(actor=reviewer, label=label, decision="approve")
    review = services.review_decide(actor=reviewer, label=label, decision="approve", override_open_issues=True)
    assert review.overrode_open_issues == 1
    issue.refresh_from_db()
    assert issue.status == "open"


def test_resolving_the_issue_unblocks_approval(project, members, queue):
    queue(low=1)
    labeler, reviewer = members["labeler"], members["reviewer"]
    label = submit(project, labeler)
    issue = issue_services.issue_create(
        actor=labeler, project=project, task=label.task, label=None, data_row=label.data_row, text="Occluded?"
    )
    issue_services.issue_resolve(actor=reviewer, issue=issue)
    services.review_decide(actor=reviewer, label=label, decision="approve")
    assert Task.objects.get(pk=label.task_id).state == TaskState.DONE


def test_an_unchanged_correction_is_a_plain_approval(project, members, queue):
    queue(low=1)
    label = submit(project, members["labeler"])
    review = services.review_decide(
        actor=members["reviewer"], label=label, decision="approve", annotations=good_label()
    )
    assert not review.edited and review.result_label is None
    assert Label.objects.filter(task_id=label.task_id).count() == 1


def test_sample_rate_zero_skips_review(project_factory, members, org_admin, make_rows):
    from apps.labeling.services import batch_create, project_member_set

    unreviewed = project_factory(name="No review", review={"sample_rate": 0.0})
    project_member_set(actor=org_admin, project=unreviewed, user=members["labeler"], role="labeler")
    project_member_set(actor=org_admin, project=unreviewed, user=members["reviewer"], role="reviewer")
    rows = make_rows(2, prefix="nr")
    batch_create(actor=org_admin, project=unreviewed, name="b", data_row_ids=[str(r.id) for r in rows])
    label = submit(unreviewed, members["labeler"])
    assert Task.objects.get(pk=label.task_id).state == TaskState.DONE
    assert services.review_claim(actor=members["reviewer"], project=unreviewed) is None
