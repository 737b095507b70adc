"""Every write of the catalog: embedding spaces, vector upserts, analysis jobs, slices and sending selections."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from django.db import IntegrityError, transaction
from django.db.models import F

from apps.accounts.models import Organization, User
from apps.catalog import registry
from apps.catalog.domain import analysis as analysis_math
from apps.catalog.domain.packing import AnalysisArrays, pack
from apps.catalog.domain.vectors import MAX_DIMS, VectorError, encode, parse_vector
from apps.catalog.index import get_index
from apps.catalog.models import EmbeddingSpace, EmbeddingVector, Slice, SpaceAnalysis
from apps.core.audit import audit_record
from apps.core.errors import Conflict, NotFound, PayloadTooLarge, ValidationFailed
from apps.core.jobs import job_create_and_enqueue
from apps.core.models import Job
from apps.datasets.models import DataRow, Dataset

MAX_VECTORS_PER_REQUEST = 10_000
MAX_CLUSTERS = 50
MAX_NEIGHBORS = 100
MAX_SLICE_ROWS = 100_000
UPSERT_BATCH = 1000


def _organization(actor: User) -> Organization:
    if actor.organization is None:
        raise ValidationFailed("You belong to no organization.")
    return actor.organization


# --- embedding spaces -------------------------------------------------------------------------------------------


@transaction.atomic
def embedding_space_create(
    *, actor: User, name: str, dims: int, model_description: str = "", builtin: str = ""
) -> EmbeddingSpace:
    organization = _organization(actor)
    name = name.strip()
    if not name:
        raise ValidationFailed("name must not be blank.", details={"name": ["Blank."]})
    if not 1 <= dims <= MAX_DIMS:
        raise ValidationFailed(f"dims must be from 1 to {MAX_DIMS}.", details={"dims": ["Out of range."]})
    if EmbeddingSpace.objects.filter(organization=organization, name=name).exists():
        raise Conflict(f"An embedding named {name!r} exists already.", code="duplicate_name")
    try:
        with transaction.atomic():
            space = EmbeddingSpace.objects.create(
                organization=organization,
                name=name,
                dims=dims,
                model_description=model_description,
                builtin=builtin,
                created_by=actor,
            )
    except IntegrityError:
        raise Conflict(f"An embedding named {name!r} exists already.", code="duplicate_name") from None
    audit_record(action="embedding.created", actor=actor, organization=organization, target=space)
    return space


def _row_reference(item: Any) -> tuple[str, str]:
    if not isinstance(item, dict):
        raise VectorError("each item must be an object with data_row or global_key, and vector.")
    unknown = set(item) - {"data_row", "global_key", "vector"}
    if unknown:
        raise VectorError(f"unknown field(s): {', '.join(sorted(unknown))}.")
    has_id, has_key = item.get("data_row") is not None, item.get("global_key") is not None
    if has_id == has_key:
        raise VectorError("give exactly one of data_row or global_key.")
    if has_id:
        raw = item["data_row"]
        try:
            return "id", str(uuid.UUID(str(raw)))
        except ValueError:
            raise VectorError("data_row must be an id.") from None
    key = item["global_key"]
    if not isinstance(key, str) or not key:
        raise VectorError("global_key must be a non-empty string.")
    return "key", key


@transaction.atomic
def embedding_vectors_upload(*, actor: User, space: EmbeddingSpace, items: Sequence[Any]) -> dict[str, Any]:
    """Upsert vectors by (space, data row). Every good item is stored; each bad one is reported by its index."""
    if len(items) > MAX_VECTORS_PER_REQUEST:
        raise PayloadTooLarge(f"At most {MAX_VECTORS_PER_REQUEST} vectors per request; split the upload.")
    errors: list[dict[str, Any]] = []
    parsed: list[tuple[int, str, str, np.ndarray]] = []
    for index, item in enumerate(items):
        try:
            kind, ref = _row_reference(item)
            vector = parse_vector(item.get("vector"), space.dims)
        except VectorError as exc:
            errors.append({"index": index, "message": str(exc)})
            continue
        parsed.append((index, kind, ref, vector))
    ids = {ref for _, kind, ref, _ in parsed if kind == "id"}
    keys = {ref for _, kind, ref, _ in parsed if kind == "key"}
    by_id: dict[str, str] = {}
    by_key: dict[str, str] = {}
    if ids:
        for pk in DataRow.objects.filter(organization_id=space.organization_id, pk__in=ids).values_list(
            "pk", flat=True
        ):
            by_id[str(pk)] = str(pk)
    if keys:
        for pk, key in DataRow.objects.filter(organization_id=space.organization_id, global_key__in=keys).values_list(
            "pk", "global_key"
        ):
            by_key[key] = str(pk)
    chosen: dict[str, tuple[int, np.ndarray]] = {}
    for index, kind, ref, vector in parsed:
        row_id = (by_id if kind == "id" else by_key).get(ref)
        if row_id is None:
            what = "data_row" if kind == "id" else "global_key"
            errors.append({"index": index, "message": f"unknown {what} {ref!r} in this organization."})
            continue
        if row_id in chosen:
            errors.append({"index": index, "message": f"same data row as item {chosen[row_id][0]}."})
            continue
        chosen[row_id] = (index, vector)
    existing = {
        str(r)
        for r in EmbeddingVector.objects.filter(space=space, data_row_id__in=list(chosen)).values_list(
            "data_row_id", flat=True
        )
    }
    objects = [EmbeddingVector(space=space, data_row_id=row_id, vector=encode(v)) for row_id, (_, v) in chosen.items()]
    for start in range(0, len(objects), UPSERT_BATCH):
        EmbeddingVector.objects.bulk_create(
            objects[start : start + UPSERT_BATCH],
            update_conflicts=True,
            unique_fields=["space", "data_row"],
            update_fields=["vector", "updated_at"],
        )
    if objects:
        EmbeddingSpace.objects.filter(pk=space.pk).update(version=F("version") + 1)
        space.refresh_from_db(fields=["version"])
    errors.sort(key=lambda e: e["index"])
    result = {
        "created": len(chosen) - len(existing),
        "updated": len(existing),
        "failed": len(errors),
        "errors": errors,
    }
    audit_record(
        action="embedding.vectors_uploaded",
        actor=actor,
        organization=space.organization,
        target=space,
        extra={k: result[k] for k in ("created", "updated", "failed")},
    )
    return result


@transaction.atomic
def embedding_vectors_store(*, space: EmbeddingSpace, vectors: dict[str, np.ndarray]) -> int:
    """Upsert already-validated vectors by data row id (the built-in embedder's path)."""
    objects = [EmbeddingVector(space=space, data_row_id=r, vector=encode(v)) for r, v in vectors.items()]
    for start in range(0, len(objects), UPSERT_BATCH):
        EmbeddingVector.objects.bulk_create(
            objects[start : start + UPSERT_BATCH],
            update_conflicts=True,
            unique_fields=["space", "data_row"],
            update_fields=["vector", "updated_at"],
        )
    if objects:
        EmbeddingSpace.objects.filter(pk=space.pk).update(version=F("version") + 1)
        space.refresh_from_db(fields=["version"])
    return len(objects)


# --- analyses (projection, clusters, outliers) -----------------------------------------------------------------


def _check_analysis_params(clusters: int, neighbors: int) -> None:
    if not 1 <= clusters <= MAX_CLUSTERS:
        raise ValidationFailed(f"clusters must be from 1 to {MAX_CLUSTERS}.", details={"clusters": ["Out of range."]})
    if not 1 <= neighbors <= MAX_NEIGHBORS:
        raise ValidationFailed(
            f"neighbors must be from 1 to {MAX_NEIGHBORS}.", details={"neighbors": ["Out of range."]}
        )


def space_analysis_enqueue(*, actor: User, space: EmbeddingSpace, clusters: int = 8, neighbors: int = 10) -> Job:
    """Start (after commit) the job computing projection, clusters and outliers of the space at its version."""
    _check_analysis_params(clusters, neighbors)
    job = job_create_and_enqueue(
        user=actor,
        kind="catalog_analysis",
        func="apps.catalog.tasks.space_analysis_job",
        params={"space": str(space.pk), "clusters": clusters, "neighbors": neighbors},
    )
    audit_record(action="embedding.analysis_started", actor=actor, organization=space.organization, target=space)
    return job


def space_analysis_compute(
    *, space: EmbeddingSpace, clusters: int, neighbors: int, on_progress: Callable[[int, int], None] | None = None
) -> SpaceAnalysis:
    """Compute (or return the cached) analysis of the space at its current version. Safe to run twice."""
    _check_analysis_params(clusters, neighbors)
    space.refresh_from_db(fields=["version"])
    cached = SpaceAnalysis.objects.filter(
        space=space, space_version=space.version, clusters=clusters, neighbors=neighbors
    ).first()
    if cached is not None:
        return cached
    index = get_index(space)
    n = len(index)
    if n == 0:
        raise ValidationFailed("This embedding has no vectors yet.", code="no_vectors")
    progress = on_progress or (lambda done, total: None)
    progress(0, 3)
    coords, pca = analysis_math.project_2d(index.matrix)
    progress(1, 3)
    k = min(clusters, n)
    result = analysis_math.kmeans(index.matrix, k, seed=0)
    progress(2, 3)
    scores = analysis_math.knn_mean_distance(index.matrix, neighbors)
    ranks = analysis_math.percentile_rank(scores)
    progress(3, 3)
    blob = pack(
        AnalysisArrays(
            row_ids=index.row_ids,
            coords=coords,
            clusters=result.labels,
            outlier_scores=scores,
            outlier_ranks=ranks,
        )
    )
    summary = {
        "explained_variance_ratio": [float(x) for x in pca.explained_variance_ratio],
        "cluster_sizes": np.bincount(result.labels, minlength=k).tolist(),
        "kmeans_iterations": result.iterations,
        "outlier_reference_rows": min(n, analysis_math.OUTLIER_REFERENCE_MAX),
        "fit_sample_rows": min(n, analysis_math.FIT_SAMPLE_MAX),
    }
    analysis_row, _ = SpaceAnalysis.objects.get_or_create(
        space=space,
        space_version=index.version,
        clusters=clusters,
        neighbors=neighbors,
        defaults={"organization_id": space.organization_id, "rows": n, "summary": summary, "data": blob},
    )
    # older maps of the space are superseded (the newest one is kept, even when it is stale, until replaced)
    SpaceAnalysis.objects.filter(space=space, space_version__lt=index.version).delete()
    return analysis_row


# --- slices and selections ------------------------------------------------------------------------------------


def _clean_row_ids(organization_id: Any, row_ids: Sequence[Any], dataset: Dataset | None) -> list[str]:
    if len(row_ids) > MAX_SLICE_ROWS:
        raise PayloadTooLarge(f"A slice holds at most {MAX_SLICE_ROWS} explicit rows.")
    cleaned: list[str] = []
    for raw in row_ids:
        try:
            cleaned.append(str(uuid.UUID(str(raw))))
        except ValueError:
            raise ValidationFailed(
                "data_rows must be ids.", details={"data_rows": [f"{raw!r} is not an id."]}
            ) from None
    cleaned = list(dict.fromkeys(cleaned))
    queryset = DataRow.objects.filter(organization_id=organization_id, pk__in=cleaned)
    if dataset is not None:
        queryset = queryset.filter(dataset_id=dataset.pk)
    found = {str(pk) for pk in queryset.values_list("pk", flat=True)}
    missing = [r for r in cleaned if r not in found]
    if missing:
        raise ValidationFailed(
            "Some data rows do not exist or are not in this dataset.", details={"data_rows": missing[:100]}
        )
    return cleaned


@transaction.atomic
def slice_create(
    *,
    actor: User,
    name: str,
    dataset: Dataset | None = None,
    filters: dict[str, str] | None = None,
    row_ids: Sequence[Any] = (),
) -> Slice:
    from apps.catalog.selectors import slice_filter_rows

    organization = _organization(actor)
    name = name.strip()
    if not name:
        raise ValidationFailed("name must not be blank.", details={"name": ["Blank."]})
    filters = {str(k): str(v) for k, v in (filters or {}).items()}
    slice_filter_rows(actor=actor, dataset=dataset, filters=filters).exists()  # validates the filters (400)
    cleaned = _clean_row_ids(organization.pk, row_ids, dataset)
    created = Slice.objects.create(
        organization=organization, name=name, dataset=dataset, filters=filters, row_ids=cleaned, created_by=actor
    )
    audit_record(
        action="slice.created", actor=actor, organization=organization, target=created, extra={"rows": len(cleaned)}
    )
    return created


@transaction.atomic
def slice_delete(*, actor: User, slice_: Slice) -> None:
    audit_record(action="slice.deleted", actor=actor, organization=slice_.organization, target=slice_)
    slice_.delete()


def slice_send(*, actor: User, slice_: Slice, target_key: str, option: str, name: str = "") -> dict[str, Any]:
    """Hand the slice's rows to a registered selection target (e.g. "create a batch in project X")."""
    from apps.catalog.selectors import slice_row_ids

    target = registry.selection_target(target_key)
    if target is None:
        raise NotFound(f"No selection target {target_key!r} is installed.", code="unknown_target")
    row_ids = slice_row_ids(actor=actor, slice_=slice_)
    if not row_ids:
        raise ValidationFailed("The slice is empty.", code="empty_slice")
    result = target.send(actor, row_ids, option, name or slice_.name)
    audit_record(
        action="slice.sent",
        actor=actor,
        organization=slice_.organization,
        target=slice_,
        extra={"target": target_key, "option": option, "rows": len(row_ids)},
    )
    return result
