"""Reads of the catalog, limited to the caller's organization: spaces, similarity, analyses, drift, lineage."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
from django.db import connection
from django.db.models import Q, QuerySet

from apps.accounts.models import User
from apps.catalog import ann, registry
from apps.catalog.domain import drift as drift_math
from apps.catalog.domain.analysis import kmeans, sample_positions
from apps.catalog.domain.packing import AnalysisArrays, unpack
from apps.catalog.domain.search import knn, knn_any
from apps.catalog.domain.vectors import VectorError, normalize_rows, parse_vector
from apps.catalog.index import SpaceIndex, get_index
from apps.catalog.models import EmbeddingSpace, EmbeddingVector, Slice, SpaceAnalysis
from apps.core.counting import bounded_count
from apps.core.errors import NotFound, ValidationFailed
from apps.core.models import AuditEvent
from apps.datasets.importer import metadata_specs
from apps.datasets.models import DataRow, Dataset, StorageIntegration
from apps.datasets.selectors import data_rows_visible_to

MAX_K = 1000
FILTER_KEYS = ("media_type", "global_key", "external_id", "created_after", "created_before")
MAX_DRIFT_ROWS = 200_000
DRIFT_CLUSTER_SAMPLE = 20_000


def _org_filter(actor: User) -> Q:
    if actor.is_superuser and actor.organization_id is None:
        return Q()
    return Q(organization_id=actor.organization_id)


def embedding_spaces_visible_to(*, actor: User) -> QuerySet[EmbeddingSpace]:
    return EmbeddingSpace.objects.filter(_org_filter(actor))


def with_vector_counts(spaces: Iterable[EmbeddingSpace], *, limit: int = 1_000) -> list[EmbeddingSpace]:
    """The spaces with `vector_count` (exact up to `limit`, else the database's estimate), `vector_count_exact` and
    `vector_count_text` ("about 1.2 million"): no count of a million vectors per space on a page load."""
    out = []
    for space in spaces:
        counted = bounded_count(EmbeddingVector.objects.filter(space_id=space.pk), limit)
        space.vector_count = counted.value  # type: ignore[attr-defined]
        space.vector_count_exact = counted.exact  # type: ignore[attr-defined]
        space.vector_count_text = str(counted)  # type: ignore[attr-defined]
        out.append(space)
    return out


def embedding_space_for(*, actor: User, space_id: str | None) -> EmbeddingSpace:
    """The `embedding=` query parameter: a space of the caller's organization, else 400/404."""
    from apps.catalog.access import access_embedding_space

    if not space_id:
        raise ValidationFailed("embedding is required.", details={"embedding": ["Required."]})
    return access_embedding_space(actor, space_id)


def row_filters(params: Mapping[str, str], prefix: str = "") -> dict[str, str]:
    """The data-row filters (`metadata.<field>`, `media_type`, `created_after`…) among query params."""
    found: dict[str, str] = {}
    for key, value in params.items():
        if not key.startswith(prefix):
            continue
        name = key[len(prefix) :]
        if name.startswith("metadata.") or name in FILTER_KEYS:
            found[name] = value
    return found


def slice_filter_rows(*, actor: User, dataset: Dataset | None, filters: Mapping[str, str]) -> QuerySet[DataRow]:
    return data_rows_visible_to(actor=actor, dataset=dataset, params=dict(filters))


# --- similarity -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Neighbor:
    data_row: DataRow
    score: float


def _mask(
    *, actor: User, index: SpaceIndex, dataset: Dataset | None, filters: Mapping[str, str]
) -> npt.NDArray[np.bool_] | None:
    mask: npt.NDArray[np.bool_] | None = None
    if dataset is not None:
        mask = index.dataset_mask(str(dataset.pk))
    if filters:
        ids = slice_filter_rows(actor=actor, dataset=dataset, filters=filters).values_list("pk", flat=True)
        rows = index.rows_mask(str(pk) for pk in ids.iterator(chunk_size=10_000))
        mask = rows if mask is None else (mask & rows)
    return mask


def similar_rows(
    *,
    actor: User,
    space: EmbeddingSpace,
    dataset: Dataset | None = None,
    data_row: DataRow | None = None,
    vector: Any = None,
    k: int = 10,
    filters: Mapping[str, str] | None = None,
    exact: bool = False,
) -> list[Neighbor]:
    """The `k` rows most similar (cosine) to a row of the space or to a given vector, best first. Spaces of
    `TDP_CATALOG_ANN_MIN_VECTORS` or more vectors answer through their approximate index (`apps.catalog.ann`) once
    it is built, exactly until then; `exact=True` always searches exactly."""
    if not 1 <= k <= MAX_K:
        raise ValidationFailed(f"k must be from 1 to {MAX_K}.", details={"k": ["Out of range."]})
    index = get_index(space)
    exclude: int | None = None
    if data_row is not None:
        position = index.position.get(str(data_row.pk))
        if position is None:
            raise ValidationFailed(
                "This data row has no vector in this embedding.", code="no_vector", details={"data_row": ["No vector."]}
            )
        query = index.matrix[position]
        exclude = position
    elif vector is not None:
        try:
            query = normalize_rows(parse_vector(vector, space.dims)[None, :])[0]
        except VectorError as exc:
            raise ValidationFailed(str(exc), details={"vector": [str(exc)]}) from None
    else:
        raise ValidationFailed("Give data_row or vector.", details={"data_row": ["Required."]})
    mask = _mask(actor=actor, index=index, dataset=dataset, filters=filters or {})
    found = None
    graph = None if exact else ann.searcher(index)
    if graph is not None:
        found = ann.search(graph, index, query, k, mask=mask, exclude=exclude)
    positions, scores = found if found is not None else knn(index.matrix, query, k, mask=mask, exclude=exclude)
    ids = [index.row_ids[p] for p in positions]
    rows = {str(r.pk): r for r in DataRow.objects.filter(_org_filter(actor), pk__in=ids)}
    return [Neighbor(rows[i], float(s)) for i, s in zip(ids, scores, strict=True) if i in rows]


def uses_approximate_index(space: EmbeddingSpace) -> bool:
    """Whether similarity queries of the space are answered by its approximate index right now."""
    return ann.searcher(get_index(space)) is not None


def row_vectors(*, space: EmbeddingSpace, row_ids: Any) -> tuple[npt.NDArray[np.float32], list[int]]:
    """The unit vectors of the given rows that have one in the space, and the positions (in `row_ids`) they are
    for: for callers that do their own vector math (active learning's distances to labeled rows)."""
    index = get_index(space)
    found = [(i, p) for i, p in enumerate(index.position.get(str(r)) for r in row_ids) if p is not None]
    positions = np.asarray([p for _, p in found], dtype=np.intp)
    return index.matrix[positions], [i for i, _ in found]


def rows_similar_to(
    *, actor: User, space: EmbeddingSpace, seed_row_ids: Any, k: int, exclude_row_ids: Any = ()
) -> list[Neighbor]:
    """The `k` rows most similar to any of the seed rows (the best cosine to one of them), best first; seeds and
    `exclude_row_ids` are never returned. Raises 400 when no seed has a vector in the space."""
    if not 1 <= k <= MAX_K:
        raise ValidationFailed(f"k must be from 1 to {MAX_K}.", details={"k": ["Out of range."]})
    index = get_index(space)
    seeds = [p for p in (index.position.get(str(r)) for r in seed_row_ids) if p is not None]
    if not seeds:
        raise ValidationFailed(
            "None of these rows has a vector in this embedding.",
            code="no_vector",
            details={"embedding": ["No vector."]},
        )
    mask = ~index.rows_mask(list(exclude_row_ids)) & ~index.rows_mask(index.row_ids[p] for p in seeds)
    positions, scores = knn_any(index.matrix, index.matrix[np.asarray(seeds, dtype=np.intp)], k, mask=mask)
    ids = [index.row_ids[p] for p in positions]
    rows = {str(r.pk): r for r in DataRow.objects.filter(_org_filter(actor), pk__in=ids)}
    return [Neighbor(rows[i], float(s)) for i, s in zip(ids, scores, strict=True) if i in rows]


# --- analyses ---------------------------------------------------------------------------------------------------


def latest_analysis(*, space: EmbeddingSpace, clusters: int | None = None) -> SpaceAnalysis | None:
    queryset = SpaceAnalysis.objects.filter(space=space)
    if clusters is not None:
        queryset = queryset.filter(clusters=clusters)
    return queryset.order_by("-space_version", "-created_at").first()


@dataclass
class AnalysisView:
    analysis: SpaceAnalysis
    arrays: AnalysisArrays
    positions: npt.NDArray[np.intp]
    rows: dict[str, DataRow]

    @property
    def stale(self) -> bool:
        return self.analysis.space_version != self.analysis.space.version


def analysis_points(
    *,
    actor: User,
    space: EmbeddingSpace,
    dataset: Dataset,
    filters: Mapping[str, str] | None = None,
    clusters: int | None = None,
) -> AnalysisView:
    """The cached analysis restricted to the dataset (and filters): 404 `not_computed` when there is none."""
    found = latest_analysis(space=space, clusters=clusters)
    if found is None:
        raise NotFound(
            "This embedding has not been analysed yet: POST /api/v1/embeddings/{id}/analyses starts the job.",
            code="not_computed",
        )
    found.space = space
    arrays = unpack(found.data)
    rows_qs = slice_filter_rows(actor=actor, dataset=dataset, filters=filters or {}).only(
        "id", "global_key", "media_type", "metadata", "dataset_id", "row_data"
    )
    rows = {str(r.pk): r for r in rows_qs.prefetch_related(None).iterator(chunk_size=10_000)}
    positions = np.asarray([i for i, r in enumerate(arrays.row_ids) if r in rows], dtype=np.intp)
    return AnalysisView(analysis=found, arrays=arrays, positions=positions, rows=rows)


# --- drift ------------------------------------------------------------------------------------------------------


def _slice_rows(
    actor: User, dataset: Dataset, filters: Mapping[str, str], name: str
) -> tuple[list[str], list[dict[str, Any]]]:
    qs = slice_filter_rows(actor=actor, dataset=dataset, filters=filters).prefetch_related(None)
    pairs = list(qs.order_by("pk").values_list("pk", "metadata")[:MAX_DRIFT_ROWS])
    if not pairs:
        raise ValidationFailed(f"Slice {name} has no rows.", code="empty_slice", details={name: ["No rows."]})
    return [str(p) for p, _ in pairs], [m or {} for _, m in pairs]


def _values(metadata: list[dict[str, Any]], name: str) -> list[Any]:
    values: list[Any] = []
    for m in metadata:
        value = m.get(name)
        if value is None:
            continue
        if isinstance(value, list):
            values.extend(str(v) for v in value)
        else:
            values.append(value)
    return values


def _numbers(values: list[Any], kind: str) -> npt.NDArray[np.float64]:
    out: list[float] = []
    for value in values:
        try:
            number = datetime.fromisoformat(str(value)).timestamp() if kind == "datetime" else float(value)
        except (TypeError, ValueError):
            continue
        if np.isfinite(number):
            out.append(number)
    return np.asarray(out, dtype=np.float64)


def drift_report(
    *,
    actor: User,
    dataset: Dataset,
    filters_a: Mapping[str, str],
    filters_b: Mapping[str, str],
    space: EmbeddingSpace | None = None,
    psi_threshold: float = drift_math.PSI_THRESHOLD,
    ks_threshold: float = drift_math.KS_THRESHOLD,
    embedding_threshold: float = drift_math.EMBEDDING_THRESHOLD,
) -> dict[str, Any]:
    """Compare slice A (reference) with slice B per metadata field and, given an embedding, in embedding space."""
    ids_a, meta_a = _slice_rows(actor, dataset, filters_a, "a")
    ids_b, meta_b = _slice_rows(actor, dataset, filters_b, "b")
    fields: list[dict[str, Any]] = []
    for name, spec in sorted(metadata_specs(dataset.organization_id).items()):
        values_a, values_b = _values(meta_a, name), _values(meta_b, name)
        entry: dict[str, Any] = {"field": name, "kind": spec.kind, "count_a": len(values_a), "count_b": len(values_b)}
        if not values_a or not values_b:
            entry.update({"psi": None, "ks": None, "flagged": False, "note": "no values in one of the slices"})
            fields.append(entry)
            continue
        if spec.kind in ("number", "datetime"):
            a = _numbers(values_a, spec.kind)
            b = _numbers(values_b, spec.kind)
            if a.size == 0 or b.size == 0:
                entry.update({"psi": None, "ks": None, "flagged": False, "note": "no numeric values in one slice"})
                fields.append(entry)
                continue
            ks = drift_math.ks_statistic(a, b)
            psi = drift_math.psi_numeric(a, b)
            entry.update({"ks": ks, "psi": psi, "mean_a": float(a.mean()), "mean_b": float(b.mean())})
            entry["flagged"] = bool(ks >= ks_threshold or psi >= psi_threshold)
        else:
            categories, share_a, share_b = drift_math.category_shares(
                [str(v) for v in values_a], [str(v) for v in values_b]
            )
            psi = drift_math.psi_from_shares(share_a, share_b)
            entry.update(
                {
                    "ks": None,
                    "psi": psi,
                    "categories": [
                        {"value": str(c), "share_a": float(x), "share_b": float(y)}
                        for c, x, y in list(zip(categories, share_a, share_b, strict=True))[:50]
                    ],
                    "flagged": bool(psi >= psi_threshold),
                }
            )
        fields.append(entry)
    report: dict[str, Any] = {
        "a": {"rows": len(ids_a), "filters": dict(filters_a)},
        "b": {"rows": len(ids_b), "filters": dict(filters_b)},
        "thresholds": {"psi": psi_threshold, "ks": ks_threshold, "embedding": embedding_threshold},
        "fields": fields,
        "embedding": None,
    }
    if space is not None:
        report["embedding"] = _embedding_drift(space, ids_a, ids_b, embedding_threshold, psi_threshold)
    report["flagged"] = [f["field"] for f in fields if f["flagged"]] + (
        ["embedding"] if report["embedding"] and report["embedding"]["flagged"] else []
    )
    return report


def _embedding_drift(
    space: EmbeddingSpace, ids_a: list[str], ids_b: list[str], threshold: float, psi_threshold: float
) -> dict[str, Any]:
    index = get_index(space)
    pos_a = np.flatnonzero(index.rows_mask(ids_a))
    pos_b = np.flatnonzero(index.rows_mask(ids_b))
    if pos_a.size == 0 or pos_b.size == 0:
        return {"space": str(space.pk), "rows_a": int(pos_a.size), "rows_b": int(pos_b.size), "flagged": False,
                "note": "one of the slices has no vectors in this embedding"}  # fmt: skip
    a, b = index.matrix[pos_a], index.matrix[pos_b]
    shift = drift_math.embedding_shift(a, b)
    cached = SpaceAnalysis.objects.filter(space=space, space_version=index.version).order_by("-created_at").first()
    if cached is not None:  # the clusters of the map the user sees
        arrays = unpack(cached.data)
        cluster_of = dict(zip(arrays.row_ids, arrays.clusters.tolist(), strict=True))
        k = int(cached.clusters)
        labels_a = np.asarray([cluster_of[index.row_ids[p]] for p in pos_a.tolist()])
        labels_b = np.asarray([cluster_of[index.row_ids[p]] for p in pos_b.tolist()])
        source: dict[str, str | None] = {"analysis": str(cached.pk)}
    else:  # no map at this version: cluster the two slices together (seeded)
        union = np.vstack([a, b])
        sample = sample_positions(union.shape[0], DRIFT_CLUSTER_SAMPLE, 0)
        k = int(min(8, sample.size))
        centers = kmeans(union[sample], k, seed=0).centers
        labels = np.argmin(
            (union**2).sum(axis=1)[:, None] - 2 * union @ centers.T + (centers**2).sum(axis=1)[None, :], axis=1
        )
        labels_a, labels_b = labels[: a.shape[0]], labels[a.shape[0] :]
        source = {"analysis": None}
    shares = drift_math.cluster_shares(labels_a, labels_b, k)
    return {
        **source,
        "space": str(space.pk),
        "rows_a": int(pos_a.size),
        "rows_b": int(pos_b.size),
        **shift.as_dict(),
        "cluster_shares": shares["clusters"],
        "cluster_psi": shares["psi"],
        "flagged": bool(shift.relative_shift >= threshold or shares["psi"] >= psi_threshold),
    }


# --- slices -----------------------------------------------------------------------------------------------------


def slices_visible_to(*, actor: User, dataset: Dataset | None = None) -> QuerySet[Slice]:
    queryset = Slice.objects.filter(_org_filter(actor)).select_related("dataset", "created_by")
    if dataset is not None:
        queryset = queryset.filter(dataset=dataset)
    return queryset


def slice_row_ids(*, actor: User, slice_: Slice, limit: int = 100_000) -> list[str]:
    """Explicit rows of the slice when it has some, else the rows its filters select (still visible ones)."""
    if slice_.row_ids:
        visible = DataRow.objects.filter(_org_filter(actor), pk__in=slice_.row_ids).values_list("pk", flat=True)
        found = {str(pk) for pk in visible}
        return [r for r in slice_.row_ids if r in found][:limit]
    rows = slice_filter_rows(actor=actor, dataset=slice_.dataset, filters=slice_.filters or {}).prefetch_related(None)
    return [str(pk) for pk in rows.order_by("pk").values_list("pk", flat=True)[:limit]]


# --- lineage ----------------------------------------------------------------------------------------------------


def _source(row: DataRow) -> dict[str, Any]:
    data = row.row_data
    if data.startswith("s3://"):
        bucket = data[5:].partition("/")[0]
        integration = StorageIntegration.objects.filter(organization_id=row.organization_id, bucket=bucket).first()
        return {
            "kind": "storage_integration",
            "location": data,
            "integration": {"id": str(integration.pk), "name": integration.name} if integration else None,
        }
    if data.startswith("upload://"):
        return {"kind": "upload", "location": data[len("upload://") :], "integration": None}
    if data.startswith(("http://", "https://")):
        return {"kind": "url", "location": data, "integration": None}
    return {"kind": "inline", "location": None, "integration": None}


def data_row_lineage(*, actor: User, data_row: DataRow) -> list[registry.LineageSection]:
    """Where a row came from (import, uploader, storage), which embeddings and slices hold it, plus sections that
    other apps register (projects, batches, labels, reviews, issues, model runs)."""
    source = _source(data_row)
    imports = (
        AuditEvent.objects.filter(
            organization_id=data_row.organization_id,
            object_type="datasets.dataset",
            object_id=str(data_row.dataset_id),
            action__in=["data_rows.imported", "data_rows.uploaded"],
            created_at__gte=data_row.created_at,
        )
        .select_related("actor")
        .order_by("created_at")
    )
    first = imports.first()
    last = imports.filter(created_at__gte=data_row.updated_at).first() if data_row.updated_at else None
    items: list[dict[str, Any]] = [
        {"label": "Dataset", "value": data_row.dataset.name, "url": f"/api/v1/datasets/{data_row.dataset_id}"},
        {"label": "Source", "value": source["kind"], "detail": source["location"] or ""},
        {"label": "Created", "value": data_row.created_at.isoformat()},
        {"label": "Last updated", "value": data_row.updated_at.isoformat()},
    ]
    if source["integration"]:
        items.append({"label": "Storage integration", "value": source["integration"]["name"]})
    for label, event in (("Imported by", first), ("Last import by", last)):
        if event is None or (label == "Last import by" and first is not None and event.pk == first.pk):
            continue
        items.append(
            {
                "label": label,
                "value": event.actor.username if event.actor else "(system)",
                "detail": f"{event.action} at {event.created_at.isoformat()}"
                + (f", job {event.extra['job']}" if event.extra.get("job") else ""),
            }
        )
    sections = [registry.LineageSection(key="origin", title="Origin", items=items)]
    spaces = EmbeddingVector.objects.filter(data_row=data_row, space__organization_id=data_row.organization_id)
    sections.append(
        registry.LineageSection(
            key="embeddings",
            title="Embeddings",
            items=[
                {"label": name, "value": f"vector updated {updated.isoformat()}", "id": str(space_id)}
                for space_id, name, updated in spaces.values_list("space_id", "space__name", "updated_at")
            ],
            empty_text="No embedding has a vector for this row.",
        )
    )
    slices: Any = Slice.objects.filter(_org_filter(actor)).order_by("-created_at")
    if connection.vendor == "postgresql":
        slices = slices.filter(row_ids__contains=[str(data_row.pk)])  # jsonb @>
    else:
        slices = [s for s in slices if str(data_row.pk) in (s.row_ids or [])]
    sections.append(
        registry.LineageSection(
            key="slices",
            title="Saved slices",
            items=[{"label": s.name, "value": s.created_at.isoformat(), "id": str(s.pk)} for s in slices[:50]],
            empty_text="In no saved slice.",
        )
    )
    for provider in registry.lineage_providers():
        section = provider(actor, data_row)
        if section is not None:
            sections.append(section)
    return sections
