"""Scale-out: two gunicorn web processes and two `qcluster` workers on one PostgreSQL, with Redis as the broker and
S3 (moto) as shared storage. Three labelers label a consensus project through both web processes while an export
runs: every row gets its consensus score, the export completes, the work was spread over both workers, and no task
was done twice."""

from __future__ import annotations

import threading
import time

from apps.exports.models import Export
from apps.labeling.models import Label
from tests.scale.checks import (
    all_scored,
    assert_no_task_done_twice,
    downloaded_ndjson,
    export_finished_once,
)
from tests.scale.client import Api, Stats, export_and_wait, label_until
from tests.scale.seed import seed_project
from tests.scale.stack import wait_until

ROWS = 24


def test_two_web_processes_and_two_workers_share_the_work(on_stack):
    stack = on_stack
    t0 = time.monotonic()
    seeded = seed_project(rows=ROWS, labelers=3, consensus=3)
    bases, _ = stack.up(2, ["w1", "w2"])
    web_a, web_b = bases
    print("setup", time.monotonic() - t0)
    stats = Stats()
    submitted: list[str] = []
    stop_at = time.monotonic() + 120
    threads = [
        threading.Thread(
            target=label_until,
            args=(Api(bases, token, stats), str(seeded.project.pk)),
            kwargs={"stop_at": stop_at, "submitted": submitted, "answer": "sunny" if i < 2 else "rain"},
        )
        for i, (_, token) in enumerate(seeded.labelers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not stats.errors, stats.errors
    assert len(submitted) == ROWS * 3
    print("labeled", time.monotonic() - t0, stats.report(1))

    # An export through the other web process, run by whichever worker takes it.
    job = export_and_wait(Api([web_b], seeded.admin_token, stats), str(seeded.project.pk))
    assert job is not None and job["status"] == "succeeded", (job, stats.errors, stack.logs())

    print("exported", time.monotonic() - t0)
    try:
        wait_until(lambda: all_scored(seeded.project, consensus_rows=ROWS), timeout=120, what="all rows scored")
    except AssertionError:
        raise AssertionError(stack.logs()) from None

    print("scored", time.monotonic() - t0)
    assert Label.objects.filter(project=seeded.project).count() == ROWS * 3
    export = Export.objects.get(pk=job["export"])
    export_finished_once(export)
    lines = downloaded_ndjson(web_a, seeded.admin_token, export)
    assert len(lines) == ROWS
    assert len({line["data_row"]["id"] for line in lines}) == ROWS

    done = assert_no_task_done_twice(str(stack.trace_file))
    workers = {e["worker"] for e in done}
    assert workers == {"w1", "w2"}, f"work was not spread over both workers: {workers}"
    scored_by = {e["worker"] for e in done if e["func"] == "apps.quality.tasks.score_data_row"}
    assert scored_by == {"w1", "w2"}, scored_by
    assert sum(e["func"] == "apps.exports.tasks.export_job" for e in done) == 1
