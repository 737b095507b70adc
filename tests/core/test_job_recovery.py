"""Jobs survive lost messages and dead workers: a job runs under an advisory lock held by its worker's database
session (a second delivery returns at once), and the stalled-job sweep requeues a running job nobody holds, or a
queued job whose message never came."""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest
from django.db import connection
from django.utils import timezone

from apps.core import jobs
from apps.core.models import Job

pytestmark = pytest.mark.django_db


@pytest.fixture
def other_session():
    """A second database session (another worker machine, as PostgreSQL sees it)."""
    s = connection.settings_dict
    conn = psycopg.connect(
        host=s["HOST"],
        port=s["PORT"],
        user=s["USER"],
        password=s["PASSWORD"] or None,
        dbname=s["NAME"],
        autocommit=True,
    )
    yield conn
    conn.close()


@pytest.fixture
def sent(monkeypatch):
    calls: list[tuple] = []
    monkeypatch.setattr(jobs, "enqueue", lambda func, *args, **kwargs: calls.append((func, *args)) or "task-id")
    return calls


def make_job(org_admin, status, age_seconds):
    job = Job.objects.create(
        organization=org_admin.organization,
        created_by=org_admin,
        kind="echo",
        func="apps.core.tasks.echo_job",
        params={"count": 1},
        status=status,
    )
    Job.objects.filter(pk=job.pk).update(updated_at=timezone.now() - timedelta(seconds=age_seconds))
    return job


def test_a_job_held_by_another_worker_is_not_run_again(org_admin, other_session):
    job = make_job(org_admin, Job.Status.QUEUED, 0)
    other_session.execute("SELECT pg_advisory_lock(%s)", [jobs._lock_key(job.pk)])
    ran = []
    jobs.run_job(str(job.pk), lambda j: ran.append(j) or {})
    assert ran == [] and Job.objects.get(pk=job.pk).status == Job.Status.QUEUED

    other_session.execute("SELECT pg_advisory_unlock_all()")
    jobs.run_job(str(job.pk), lambda j: ran.append(j) or {"ok": 1})
    assert len(ran) == 1 and Job.objects.get(pk=job.pk).status == Job.Status.SUCCEEDED
    # The lease was released: this session does not keep the lock.
    assert other_session.execute("SELECT pg_try_advisory_lock(%s)", [jobs._lock_key(job.pk)]).fetchone()[0]


def test_sweep_requeues_orphaned_running_jobs_and_old_queued_ones(org_admin, other_session, sent, settings):
    settings.TDP_JOB_REQUEUE_QUEUED_SECONDS = 300
    settings.TDP_JOB_REQUEUE_GRACE_SECONDS = 60
    orphan = make_job(org_admin, Job.Status.RUNNING, 120)  # its worker died: nobody holds its lease
    alive = make_job(org_admin, Job.Status.RUNNING, 120)  # slow, but its worker holds the lease
    lost = make_job(org_admin, Job.Status.QUEUED, 600)  # its message never came
    waiting = make_job(org_admin, Job.Status.QUEUED, 120)  # probably still in the queue
    fresh = make_job(org_admin, Job.Status.RUNNING, 5)  # just touched
    done = make_job(org_admin, Job.Status.SUCCEEDED, 600)
    other_session.execute("SELECT pg_advisory_lock(%s)", [jobs._lock_key(alive.pk)])

    requeued = jobs.jobs_requeue_stalled()

    assert sorted(requeued) == sorted([str(orphan.pk), str(lost.pk)])
    assert sorted(args[1] for args in sent) == sorted(requeued)
    assert all(args[0] == "apps.core.tasks.echo_job" for args in sent)
    # A requeued job is left alone for the grace period: the next sweep does not send it again.
    assert jobs.jobs_requeue_stalled() == []
    assert {alive.pk, waiting.pk, fresh.pk, done.pk}.isdisjoint(requeued)


def test_sweep_stops_while_the_broker_is_down(org_admin, monkeypatch):
    make_job(org_admin, Job.Status.QUEUED, 3600)
    monkeypatch.setattr(jobs, "enqueue", lambda *args, **kwargs: None)
    assert jobs.jobs_requeue_stalled() == []


def test_job_create_records_the_task_function(org_admin):
    job = jobs.job_create_and_enqueue(user=org_admin, kind="echo", func="apps.core.tasks.echo_job", params={})
    assert Job.objects.get(pk=job.pk).func == "apps.core.tasks.echo_job"
