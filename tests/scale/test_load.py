"""Load, bounded in time: simulated labelers and reviewers work through two web processes while one client imports
rows and another exports, all at once; zero errors, zero lost or duplicated labels, and p50/p95 per endpoint.

`make test` runs a short version (45 s, 5,000 imported rows); `make loadtest` the full one (3 minutes, 100,000
rows). Sizes come from the environment: TDP_LOAD_SECONDS, TDP_LOAD_LABELERS, TDP_LOAD_REVIEWERS,
TDP_LOAD_IMPORT_ROWS, TDP_LOAD_LABEL_ROWS; the JSON report is printed and written to TDP_LOAD_REPORT if set."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

from django.db import connections

from apps.datasets.models import DataRow
from apps.labeling.models import Label
from apps.review.models import Review
from tests.scale.client import Api, Stats, export_and_wait, label_until, review_until
from tests.scale.seed import seed_project

SECONDS = float(os.environ.get("TDP_LOAD_SECONDS", "45"))
LABELERS = int(os.environ.get("TDP_LOAD_LABELERS", "50"))
REVIEWERS = int(os.environ.get("TDP_LOAD_REVIEWERS", "5"))
IMPORT_ROWS = int(os.environ.get("TDP_LOAD_IMPORT_ROWS", "5000"))
LABEL_ROWS = int(os.environ.get("TDP_LOAD_LABEL_ROWS", "3000"))
IMPORT_CHUNK = 5000


def _importer(api: Api, dataset_id: str, prefix: str, done: list[int]) -> None:
    sent = 0
    while sent < IMPORT_ROWS:  # all of it, even if that outlasts the labelers
        count = min(IMPORT_CHUNK, IMPORT_ROWS - sent)
        body = "".join(
            json.dumps({"row_data": f"https://example.com/{prefix}/{i}.jpg", "global_key": f"{prefix}-{i}"}) + "\n"
            for i in range(sent, sent + count)
        )
        response = api.call(
            "POST",
            f"/api/v1/datasets/{dataset_id}/data_rows",
            endpoint="import_5000_rows",
            expect=(200,),
            data=body.encode(),
            headers={"Content-Type": "application/x-ndjson"},
        )
        if response is None:
            return
        sent += count
        done.append(count)


def _exporter(api: Api, project_id: str, stop: threading.Event, finished: list[dict]) -> None:
    while not stop.is_set():
        # The first export is always waited for (the check needs one); later ones are left when the run ends.
        job = export_and_wait(api, project_id, timeout=max(120.0, SECONDS), stop=stop if finished else None)
        if job is None:
            return  # an error (recorded) or the end of the run
        if job["status"] != "succeeded":
            api.stats.error(f"export failed: {job}")
            return
        finished.append(job)


def test_labelers_reviewers_import_and_export_at_once(on_stack):
    stack = on_stack
    seeded = seed_project(rows=LABEL_ROWS, labelers=LABELERS, reviewers=REVIEWERS, review_rate=0.3)
    imports = seed_project(rows=0, labelers=0)
    bases, _ = stack.up(2, ["w1", "w2"])
    for proc in stack.procs:
        assert proc.alive()
    stats = Stats()
    project_id = str(seeded.project.pk)
    stop = threading.Event()
    started = time.monotonic()
    stop_at = started + SECONDS
    submitted: list[str] = []
    reviewed: list[str] = []
    imported: list[int] = []
    exports: list[dict] = []
    threads = [
        threading.Thread(
            target=label_until,
            args=(Api(bases, token, stats), project_id),
            kwargs={"stop_at": stop_at, "submitted": submitted},
        )
        for _, token in seeded.labelers
    ]
    threads += [
        threading.Thread(
            target=review_until,
            args=(Api(bases, token, stats), project_id),
            kwargs={"stop_at": stop_at, "reviewed": reviewed},
        )
        for _, token in seeded.reviewers
    ]
    side = [
        threading.Thread(
            target=_importer,
            args=(
                Api(bases, imports.admin_token, stats),
                str(imports.dataset.pk),
                imports.project.pk.hex,
                imported,
            ),
        ),
        threading.Thread(target=_exporter, args=(Api(bases, seeded.admin_token, stats), project_id, stop, exports)),
    ]
    for thread in threads + side:
        thread.start()
    for thread in threads:
        thread.join()
    stop.set()
    wall = time.monotonic() - started
    for thread in side:
        thread.join()
    connections.close_all()

    report = {
        "labelers": LABELERS,
        "reviewers": REVIEWERS,
        "labels_submitted": len(submitted),
        "labels_reviewed": len(reviewed),
        "rows_imported": sum(imported),
        "exports_finished": len(exports),
        **stats.report(wall),
    }
    print(json.dumps(report, indent=2))
    if path := os.environ.get("TDP_LOAD_REPORT"):
        Path(path).write_text(json.dumps(report, indent=2))

    assert not stats.errors, stats.errors[:20]
    stored = [str(i) for i in Label.objects.filter(project=seeded.project).values_list("id", flat=True)]
    assert len(stored) == len(set(stored))
    assert sorted(stored) == sorted(submitted), "labels lost or duplicated"
    assert Review.objects.filter(project=seeded.project).count() == len(reviewed)
    assert DataRow.objects.filter(dataset=imports.dataset).count() == sum(imported) == IMPORT_ROWS
    assert exports, "no export finished during the run"
    assert len(submitted) > LABELERS
