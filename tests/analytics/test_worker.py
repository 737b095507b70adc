"""End to end with a real `qcluster` of two workers: work lands on a day the rollup holds, two refresh tasks run at
once, and afterwards the rollup answers the same as the live computation, with no mark left on a closed day."""

from __future__ import annotations

import pytest
from django.utils import timezone
from django_q.conf import Conf
from django_q.models import Task as QTask
from django_q.tasks import async_task

from apps.analytics import services
from apps.analytics.models import DirtyDay, RollupDay
from apps.labeling import services as labeling_services
from apps.labeling.models import Task
from tests.analytics.test_rollup import answers, assert_same, live_answers, rolled_days
from tests.core.test_worker import wait_for
from tests.quality.conftest import weather
from tests.worker import running_qcluster

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_two_workers_refresh_the_marked_days(history, org_admin, monkeypatch):
    project = history["project"]
    services.rollup_rebuild(project=project)
    l1 = history["labels"][0]
    old_day = timezone.localdate(Task.objects.get(pk=l1.task_id).done_at)
    labeling_services.label_import(
        actor=org_admin, project=project, data_row=l1.data_row, annotations=weather("rain"), source="gt"
    )
    assert DirtyDay.objects.filter(project=project, day=old_day).exists()  # marked once the import committed
    # Also the day of the label it replaced (its scores stop counting); today stays live, so it is not refreshed.
    closed = DirtyDay.objects.filter(project=project, day__lt=timezone.localdate()).count()
    assert closed >= 1
    stale = RollupDay.objects.get(project=project, day=old_day).computed_at
    assert old_day not in {day for first, last in rolled_days(project) for day in (first, last)}

    monkeypatch.setattr(Conf, "SYNC", False)
    with running_qcluster({"Q_WORKERS": "2"}) as process:
        for _ in range(2):
            async_task("apps.analytics.tasks.refresh_dirty_days")
        try:
            wait_for(lambda: QTask.objects.filter(func="apps.analytics.tasks.refresh_dirty_days").count() == 2)
        except AssertionError:
            output = process.stdout.read1().decode() if process.stdout else ""
            raise AssertionError(f"the refresh did not run; worker output:\n{output}") from None

    runs = QTask.objects.filter(func="apps.analytics.tasks.refresh_dirty_days")
    # Each mark is claimed by exactly one of the two workers.
    assert all(run.success for run in runs) and sum(run.result for run in runs) == closed
    assert not DirtyDay.objects.filter(project=project, day__lt=timezone.localdate()).exists()
    assert RollupDay.objects.get(project=project, day=old_day).computed_at > stale
    assert_same(answers(project), live_answers(project, monkeypatch))
