"""Concurrent review claims on PostgreSQL: reviewers claiming at the same moment each get a different label."""

import threading

import pytest
from django.db import connection

from apps.labeling import services as labeling_services
from apps.review import services
from apps.review.models import ReviewLease
from tests.review.conftest import submit

pytestmark = pytest.mark.django_db(transaction=True)


def test_simultaneous_claims_take_distinct_tasks(project, members, queue, org, org_admin, make_user):
    queue(low=4)
    for _ in range(4):
        submit(project, members["labeler"])
    reviewers = []
    for i in range(6):
        user = make_user(role="reviewer", organization=org, username=f"rev-{i}")
        labeling_services.project_member_set(actor=org_admin, project=project, user=user, role="reviewer")
        reviewers.append(user)
    barrier = threading.Barrier(len(reviewers))
    results: dict[str, str | None] = {}
    failures: list[BaseException] = []

    def claim(user):
        try:
            barrier.wait(timeout=10)
            task = services.review_claim(actor=user, project=project)
            results[user.username] = str(task.pk) if task else None
        except BaseException as exc:
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=(user,)) for user in reviewers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert failures == []
    claimed = [task for task in results.values() if task is not None]
    assert len(claimed) == 4 and len(set(claimed)) == 4
    assert sorted(results.values(), key=lambda v: v is None)[4:] == [None, None]
    assert ReviewLease.objects.count() == 4
