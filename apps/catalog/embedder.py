"""The built-in embedder job: colour-histogram features of a dataset's locally uploaded images.

Only `upload://` rows are read (the server fetches no URLs in the background); other rows and text rows are counted
as skipped. See `domain.image_features` for what the feature captures and what it misses.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from django.core.files.storage import default_storage

from apps.accounts.models import User
from apps.catalog import services
from apps.catalog.domain.image_features import DIMS, ImageError, decode_image, image_features
from apps.catalog.models import EmbeddingSpace
from apps.core.audit import audit_record
from apps.core.jobs import job_create_and_enqueue, job_progress
from apps.core.models import Job
from apps.datasets.models import DataRow, Dataset, MediaType

BUILTIN_NAME = "Built-in colour histogram"
BUILTIN_KEY = "color_histogram_v1"
MAX_IMAGE_BYTES = 50 * 1024 * 1024
BATCH = 200


def builtin_space(*, actor: User) -> EmbeddingSpace:
    existing = EmbeddingSpace.objects.filter(organization=actor.organization, builtin=BUILTIN_KEY).first()
    if existing is not None:
        return existing
    return services.embedding_space_create(
        actor=actor,
        name=BUILTIN_NAME,
        dims=DIMS,
        model_description="64-bin RGB histogram + 8x8 grey thumbnail; colour and layout only, not semantics.",
        builtin=BUILTIN_KEY,
    )


def embed_dataset_enqueue(*, actor: User, dataset: Dataset) -> Job:
    space = builtin_space(actor=actor)
    return job_create_and_enqueue(
        user=actor,
        kind="catalog_builtin_embedding",
        func="apps.catalog.tasks.builtin_embedding_job",
        params={"dataset": str(dataset.pk), "space": str(space.pk)},
    )


def _read_upload(row: DataRow) -> bytes | None:
    name = row.row_data[len("upload://") :]
    if not name.startswith(f"uploads/{row.organization_id}/") or ".." in name:
        return None
    with default_storage.open(name, "rb") as handle:
        return handle.read(MAX_IMAGE_BYTES + 1)


def embed_rows(rows: list[DataRow]) -> tuple[dict[str, np.ndarray], list[dict[str, Any]]]:
    vectors: dict[str, np.ndarray] = {}
    errors: list[dict[str, Any]] = []
    for row in rows:
        try:
            blob = _read_upload(row)
            if blob is None or len(blob) > MAX_IMAGE_BYTES:
                errors.append({"data_row": str(row.pk), "message": "not a readable upload of this organization"})
                continue
            vectors[str(row.pk)] = image_features(decode_image(blob))
        except (ImageError, OSError) as exc:
            errors.append({"data_row": str(row.pk), "message": str(exc)})
    return vectors, errors


def embed_dataset_job(job: Job) -> dict[str, Any]:
    dataset = Dataset.objects.get(pk=job.params["dataset"], organization_id=job.organization_id)
    space = EmbeddingSpace.objects.get(pk=job.params["space"], organization_id=job.organization_id)
    rows = DataRow.objects.filter(dataset=dataset, media_type=MediaType.IMAGE).order_by("pk")
    total = DataRow.objects.filter(dataset=dataset).count()
    uploads = rows.filter(row_data__startswith="upload://")
    job_progress(job, done=0, total=total)
    stored, errors, done = 0, [], 0
    batch: list[DataRow] = []
    for row in uploads.iterator(chunk_size=BATCH):
        batch.append(row)
        if len(batch) >= BATCH:
            vectors, bad = embed_rows(batch)
            stored += services.embedding_vectors_store(space=space, vectors=vectors)
            errors += bad
            done += len(batch)
            job_progress(job, done=done)
            batch = []
    if batch:
        vectors, bad = embed_rows(batch)
        stored += services.embedding_vectors_store(space=space, vectors=vectors)
        errors += bad
    result = {
        "embedding": str(space.pk),
        "stored": stored,
        "failed": len(errors),
        "skipped": total - stored - len(errors),
        "errors": errors[:100],
    }
    audit_record(
        action="embedding.builtin_computed",
        actor=job.created_by,
        organization=dataset.organization,
        target=space,
        extra={k: result[k] for k in ("stored", "failed", "skipped")} | {"dataset": str(dataset.pk)},
    )
    job_progress(job, done=total, total=total)
    return result
