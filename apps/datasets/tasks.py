"""Background tasks of the datasets app (django-q2). Ids in, re-fetch, safe to run twice."""

from __future__ import annotations

from typing import Any

from apps.core.jobs import job_progress, run_job
from apps.core.models import Job


def data_rows_import_job(job_id: str) -> None:
    """Import a spooled body. Upserts by global_key make a second run harmless."""
    from apps.datasets.services import data_rows_import_from_storage

    def work(job: Job) -> dict[str, Any]:
        total = int(job.params.get("bytes", 0))

        def progress(done: int) -> None:
            job_progress(job, done=done, total=total)

        return data_rows_import_from_storage(job=job, on_progress=progress)

    run_job(job_id, work)


def metadata_indexes_task() -> None:
    """Range indexes for number/datetime metadata fields (`metadata_indexes`); safe to run twice."""
    from django.db import connection

    from apps.datasets.metadata_indexes import metadata_indexes_ensure

    if connection.in_atomic_block:  # run synchronously inside a transaction (tests): CONCURRENTLY cannot run there
        return
    metadata_indexes_ensure()


def video_probes_pending(dataset_id: str) -> None:
    """After an import with video rows: one probe task per video row not probed yet."""
    from apps.datasets.video import video_probes_pending as pending

    pending(dataset_id=dataset_id)


def video_probe_task(data_row_id: str) -> None:
    """Probe one video row (PyAV); failures are stored on the row's `VideoAsset`, never raised."""
    from apps.datasets.video import video_probe_row

    video_probe_row(data_row_id=data_row_id)
