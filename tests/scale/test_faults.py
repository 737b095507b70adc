"""Faults on the scaled-out stack: a worker SIGKILLed in the middle of scoring and of an export, the database
restarted while people label, Redis down while people label. Nothing is lost, nothing is done twice."""

from __future__ import annotations

import threading
import time
import zlib

import psycopg
import requests
from django.db import connections

from apps.core.models import Job
from apps.exports.models import Export
from apps.labeling.models import Label
from tests.scale.checks import (
    all_scored,
    assert_no_task_done_twice,
    downloaded_ndjson,
    export_finished_once,
    unscored_labels,
)
from tests.scale.client import Api, Stats, label_until
from tests.scale.seed import schedules_due, seed_project
from tests.scale.stack import wait_until
from tests.scale.trace import read_trace


def _label_all(bases, seeded, stats, submitted, *, seconds=120.0, answers=("sunny", "sunny", "rain")):
    stop_at = time.monotonic() + seconds
    threads = [
        threading.Thread(
            target=label_until,
            args=(Api(bases, token, stats), str(seeded.project.pk)),
            kwargs={"stop_at": stop_at, "submitted": submitted, "answer": answers[i % len(answers)]},
        )
        for i, (_, token) in enumerate(seeded.labelers)
    ]
    for thread in threads:
        thread.start()
    return threads


def _waiting_on_locks(conn: psycopg.Connection) -> int:
    row = conn.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
    ).fetchone()
    return int(row[0]) if row else 0


def test_worker_killed_mid_scoring_and_mid_export_completes_exactly_once(on_stack):
    stack = on_stack
    scored = seed_project(rows=5, labelers=3, consensus=3)
    exported = seed_project(rows=1000, labelers=0)
    bases, _ = stack.up(1, [])  # no worker yet: the export and the scoring tasks wait in Redis
    stats = Stats()
    start = Api(bases, exported.admin_token, stats).call(
        "POST",
        f"/api/v1/projects/{exported.project.pk}/exports",
        endpoint="export",
        expect=(202,),
        json={"format": "ndjson"},
    )
    assert start is not None, stats.errors
    export_id, job_id = start.json()["export"], start.json()["job"]
    submitted: list[str] = []
    for thread in _label_all(bases, scored, stats, submitted):
        thread.join()
    assert not stats.errors and len(submitted) == 15, stats.errors

    # Hold the scoring of the last labeled row (its per-row advisory lock) so a worker is stuck inside it.
    last_row = Label.objects.filter(project=scored.project).latest("created_at").data_row_id
    row_key = zlib.crc32(f"quality:{scored.project.pk}:{last_row}".encode())
    holder = psycopg.connect(stack.pg.url.replace("postgres://", "postgresql://"), autocommit=True)
    checkpoint = psycopg.connect(stack.pg.url.replace("postgres://", "postgresql://"))
    try:
        holder.execute("SELECT pg_advisory_lock(%s)", [row_key])
        doomed = stack.worker("doomed", workers=2)
        stack.wait_workers_running(doomed)
        # Once some pages are written, hold the export's checkpoint row: the exporting worker blocks there.
        wait_until(
            lambda: Export.objects.filter(pk=export_id, chunks_written__gte=2).exists(),
            timeout=90,
            interval=0.02,
            what="export pages written",
        )
        checkpoint.execute("SELECT id FROM exports_export WHERE id = %s FOR UPDATE", [export_id])
        wait_until(lambda: _waiting_on_locks(holder) >= 2, timeout=60, what="both workers stuck mid-task")
        pages_before_kill = Export.objects.get(pk=export_id).chunks_written
        doomed.kill()
    finally:
        checkpoint.rollback()
        checkpoint.close()
        holder.execute("SELECT pg_advisory_unlock_all()")
        holder.close()

    started_by_doomed = {e["func"] for e in read_trace(str(stack.trace_file)) if e["worker"] == "doomed"}
    assert {"apps.exports.tasks.export_job", "apps.quality.tasks.score_data_row"} <= started_by_doomed
    export = Export.objects.get(pk=export_id)
    assert export.status == "running" and 2 <= pages_before_kill < 40, (export.status, pages_before_kill)
    assert Job.objects.get(pk=job_id).status == Job.Status.RUNNING
    assert unscored_labels(scored.project) > 0

    # A new worker: its schedules find the orphaned job (nobody holds its lease) and the unscored labels.
    schedules_due()
    stack.wait_workers_running(stack.worker("rescuer", workers=1))
    try:
        wait_until(
            lambda: (
                Job.objects.filter(pk=job_id, status=Job.Status.SUCCEEDED).exists()
                and all_scored(scored.project, consensus_rows=5)
            ),
            timeout=150,
            what="export finished and every label scored after the restart",
        )
    except AssertionError:
        raise AssertionError(stack.logs()) from None

    export = Export.objects.get(pk=export_id)
    export_finished_once(export)
    assert Job.objects.get(pk=job_id).status == Job.Status.SUCCEEDED
    lines = downloaded_ndjson(bases[0], exported.admin_token, export)
    assert len(lines) == 1000 and len({line["data_row"]["id"] for line in lines}) == 1000
    done = assert_no_task_done_twice(str(stack.trace_file))
    export_runs = [e for e in done if e["func"] == "apps.exports.tasks.export_job"]
    assert [e["worker"] for e in export_runs] == ["rescuer"]
    assert Label.objects.filter(project=scored.project).count() == 15


def test_database_restart_during_labeling_gives_503_and_loses_nothing(on_stack):
    stack = on_stack
    seeded = seed_project(rows=80, labelers=6)
    bases, _ = stack.up(2, ["w1"])
    # A page needs the database too: a login form posted while it is down (CSRF cookie and token fetched before).
    browser = requests.Session()
    login_url = f"{bases[1]}/login/"
    assert browser.get(login_url, timeout=30).status_code == 200
    csrf = browser.cookies["csrftoken"]
    stats = Stats()
    submitted: list[str] = []
    threads = _label_all(bases, seeded, stats, submitted, seconds=150)
    wait_until(lambda: len(submitted) >= 10, timeout=90, what="labeling under way")

    stack.pg.stop("fast")
    try:
        ready = requests.get(f"{bases[0]}/healthz/ready", timeout=10)
        page = browser.post(
            login_url,
            data={"username": "nobody", "password": "wrong-password", "csrfmiddlewaretoken": csrf},
            headers={"Referer": login_url},
            allow_redirects=False,
            timeout=10,
        )
        time.sleep(1.5)  # clients keep retrying meanwhile
    finally:
        stack.pg.start()
    for thread in threads:
        thread.join()
    connections.close_all()

    assert ready.status_code == 503 and ready.json()["checks"]["database"]["ok"] is False
    assert page.status_code == 503 and page.headers["Retry-After"] == "1"
    assert not stats.errors, stats.errors
    assert stats.unavailable, "no client saw the database restart"
    for seen in stats.unavailable:
        assert seen["retry_after"] == "1"
        assert seen["body"]["error"]["code"] == "database_unavailable"
    stored = list(Label.objects.filter(project=seeded.project).values_list("id", flat=True))
    assert len(submitted) == len(set(submitted)), "a label was confirmed twice"
    assert sorted(map(str, stored)) == sorted(submitted), "labels lost or duplicated"
    assert len(stored) == 80


def test_redis_down_submit_stores_label_loudly_and_scoring_catches_up(on_stack):
    stack = on_stack
    seeded = seed_project(rows=4, labelers=3, consensus=3)
    bases, (worker,) = stack.up(1, ["w1"])
    web = stack.procs[0]
    stats = Stats()
    stack.redis.stop()

    submitted: list[str] = []
    for thread in _label_all(bases, seeded, stats, submitted):
        thread.join()
    export = Api(bases, seeded.admin_token, stats).call(
        "POST",
        f"/api/v1/projects/{seeded.project.pk}/exports",
        endpoint="export",
        expect=(202,),
        json={"format": "ndjson"},
    )
    assert not stats.errors, stats.errors
    assert len(submitted) == 12 and Label.objects.filter(project=seeded.project).count() == 12
    assert export is not None
    assert "Could not enqueue apps.quality.tasks.score_data_row" in web.output()
    assert "Could not enqueue apps.exports.tasks.export_job" in web.output()
    ready = requests.get(f"{bases[0]}/healthz/ready", timeout=10)
    assert ready.status_code == 503 and ready.json()["checks"]["broker"]["ok"] is False
    assert unscored_labels(seeded.project) == 12

    stack.redis.start()
    schedules_due()
    try:
        wait_until(
            lambda: (
                all_scored(seeded.project, consensus_rows=4)
                and Export.objects.filter(pk=export.json()["export"], status="succeeded").exists()
            ),
            timeout=150,
            what="scores and the export caught up after Redis came back",
        )
    except AssertionError:
        raise AssertionError(stack.logs()) from None
    assert requests.get(f"{bases[0]}/healthz/ready", timeout=10).status_code == 200
    assert worker.alive()
    assert_no_task_done_twice(str(stack.trace_file))
