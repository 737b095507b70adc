"""Catalog REST API: embedding spaces and vectors, similarity, projection/outliers, drift, slices, lineage."""

from __future__ import annotations

from typing import Any

import numpy as np
from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.access import request_user
from apps.catalog import registry, selectors, services
from apps.catalog.access import access_embedding_space, access_slice, require_manage_catalog
from apps.catalog.domain.vectors import MAX_DIMS
from apps.catalog.models import EmbeddingSpace
from apps.core import json_limits
from apps.core.counting import EXACT_UP_TO
from apps.core.errors import PayloadTooLarge, ValidationFailed
from apps.core.pagination import CursorPagination
from apps.core.serializers import StrictSerializer
from apps.datasets.access import access_data_row, access_dataset
from apps.datasets.models import DataRow, Dataset

MAX_VECTOR_BODY_BYTES = getattr(settings, "TDP_MAX_VECTOR_BODY_BYTES", 64 * 1024 * 1024)
MAX_POINTS = 50_000


def _int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValidationFailed(f"{name} must be an integer.", details={name: ["Not an integer."]}) from None
    if not low <= value <= high:
        raise ValidationFailed(f"{name} must be from {low} to {high}.", details={name: ["Out of range."]})
    return value


def _float_param(request: Request, name: str, default: float) -> float:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not np.isfinite(value) or value < 0:
        raise ValidationFailed(f"{name} must be a non-negative number.", details={name: ["Invalid."]})
    return value


# --- serializers ------------------------------------------------------------------------------------------------


class EmbeddingSpaceOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    dims = serializers.IntegerField()
    model_description = serializers.CharField()
    builtin = serializers.CharField()
    version = serializers.IntegerField()
    vector_count = serializers.IntegerField()
    # False when `vector_count` is the database's estimate (more than 10,000 vectors; 1,000 in lists).
    vector_count_exact = serializers.BooleanField(default=True)
    created_at = serializers.DateTimeField()


class CatalogDataRowSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    dataset = serializers.UUIDField(source="dataset_id")
    global_key = serializers.CharField()
    media_type = serializers.CharField()
    metadata = serializers.JSONField()


class NeighborOutputSerializer(serializers.Serializer):
    data_row = CatalogDataRowSerializer()
    score = serializers.FloatField()


class SimilarOutputSerializer(serializers.Serializer):
    embedding = serializers.UUIDField()
    results = NeighborOutputSerializer(many=True)


class SliceOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    dataset = serializers.UUIDField(source="dataset_id", allow_null=True)
    filters = serializers.JSONField()
    data_rows = serializers.ListField(child=serializers.UUIDField(), source="row_ids")
    created_by = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    def get_created_by(self, obj: Any) -> str | None:
        return obj.created_by.username if obj.created_by else None


VectorUploadResultSerializer = inline_serializer(
    "EmbeddingVectorUploadResult",
    {
        "created": serializers.IntegerField(),
        "updated": serializers.IntegerField(),
        "failed": serializers.IntegerField(),
        "errors": serializers.ListField(child=serializers.DictField()),
    },
)
CatalogJobRefSerializer = inline_serializer("CatalogJobRef", {"job": serializers.UUIDField()})
ProjectionOutputSerializer = inline_serializer(
    "CatalogProjection",
    {
        "analysis": serializers.DictField(),
        "total": serializers.IntegerField(),
        "sampled": serializers.BooleanField(),
        "points": serializers.ListField(child=serializers.DictField()),
    },
)
OutliersOutputSerializer = inline_serializer(
    "CatalogOutliers",
    {"analysis": serializers.DictField(), "results": serializers.ListField(child=serializers.DictField())},
)
DriftOutputSerializer = inline_serializer(
    "CatalogDrift",
    {
        "a": serializers.DictField(),
        "b": serializers.DictField(),
        "thresholds": serializers.DictField(),
        "fields": serializers.ListField(child=serializers.DictField()),
        "embedding": serializers.DictField(allow_null=True),
        "flagged": serializers.ListField(child=serializers.CharField()),
    },
)
LineageOutputSerializer = inline_serializer(
    "DataRowLineage",
    {"data_row": CatalogDataRowSerializer(), "sections": serializers.ListField(child=serializers.DictField())},
)
SelectionTargetsOutputSerializer = inline_serializer(
    "SelectionTargets", {"results": serializers.ListField(child=serializers.DictField())}
)
FILTER_PARAMS = [
    OpenApiParameter("metadata.<field>", str, description="exact metadata match (repeatable, one per field)"),
]


# --- embedding spaces -------------------------------------------------------------------------------------------


class EmbeddingListCreateApi(APIView):
    pagination_class = CursorPagination  # the schema documents the GET list as pages

    @extend_schema_serializer(component_name="EmbeddingCreateInput")
    class InputSerializer(StrictSerializer):
        name = serializers.CharField(max_length=200)
        dims = serializers.IntegerField(min_value=1, max_value=MAX_DIMS)
        model_description = serializers.CharField(required=False, allow_blank=True, default="", max_length=10000)

    @extend_schema(responses=EmbeddingSpaceOutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        paginator = CursorPagination()
        page = paginator.paginate_queryset(
            selectors.embedding_spaces_visible_to(actor=request_user(request)), request, view=self
        )
        page = selectors.with_vector_counts(page or [])
        return paginator.get_paginated_response(EmbeddingSpaceOutputSerializer(page, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: EmbeddingSpaceOutputSerializer})
    def post(self, request: Request) -> Response:
        actor = request_user(request)
        require_manage_catalog(actor)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        space = services.embedding_space_create(actor=actor, **data.validated_data)
        space.vector_count = 0  # type: ignore[attr-defined]
        return Response(EmbeddingSpaceOutputSerializer(space).data, status=status.HTTP_201_CREATED)


class EmbeddingDetailApi(APIView):
    @extend_schema(responses=EmbeddingSpaceOutputSerializer)
    def get(self, request: Request, space_id: str) -> Response:
        space = access_embedding_space(request_user(request), space_id)
        selectors.with_vector_counts([space], limit=EXACT_UP_TO)
        return Response(EmbeddingSpaceOutputSerializer(space).data)


class EmbeddingVectorsApi(APIView):
    parser_classes: list[type] = []  # the body is read by `post`, with the catalog's own size limit

    @extend_schema(
        request={"application/json": {"type": "array", "items": {"type": "object"}}},
        responses={200: VectorUploadResultSerializer},
    )
    def post(self, request: Request, space_id: str) -> Response:
        actor = request_user(request)
        space = access_embedding_space(actor, space_id, manage=True)
        content_type = (request.content_type or "").split(";")[0].strip()
        if content_type != "application/json":
            raise ValidationFailed("Send the vectors as application/json.", code="unsupported_media_type")
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > MAX_VECTOR_BODY_BYTES:
            raise PayloadTooLarge(f"The body is larger than {MAX_VECTOR_BODY_BYTES} bytes.")
        raw = request._request.read(MAX_VECTOR_BODY_BYTES + 1)
        if len(raw) > MAX_VECTOR_BODY_BYTES:
            raise PayloadTooLarge(f"The body is larger than {MAX_VECTOR_BODY_BYTES} bytes.")
        try:
            items = json_limits.loads(raw, max_depth=json_limits.MAX_JSON_DEPTH)
        except (UnicodeDecodeError, ValueError):
            raise ValidationFailed("The body is not valid JSON.", code="invalid_json") from None
        if not isinstance(items, list):
            raise ValidationFailed("The body must be a JSON array of {data_row|global_key, vector}.")
        return Response(services.embedding_vectors_upload(actor=actor, space=space, items=items))


class EmbeddingAnalysesApi(APIView):
    @extend_schema_serializer(component_name="EmbeddingAnalysisInput")
    class InputSerializer(StrictSerializer):
        clusters = serializers.IntegerField(required=False, default=8, min_value=1, max_value=services.MAX_CLUSTERS)
        neighbors = serializers.IntegerField(required=False, default=10, min_value=1, max_value=services.MAX_NEIGHBORS)

    @extend_schema(request=InputSerializer, responses={202: CatalogJobRefSerializer})
    def post(self, request: Request, space_id: str) -> Response:
        actor = request_user(request)
        space = access_embedding_space(actor, space_id, manage=True)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        job = services.space_analysis_enqueue(actor=actor, space=space, **data.validated_data)
        return Response({"job": str(job.pk)}, status=status.HTTP_202_ACCEPTED)


# --- similarity -------------------------------------------------------------------------------------------------


def _similar(request: Request, space: EmbeddingSpace, dataset: Dataset | None, body: dict[str, Any]) -> Response:
    actor = request_user(request)
    data_row: DataRow | None = None
    row_id = body.get("data_row")
    if row_id:
        data_row = access_data_row(actor, row_id)
    k = body.get("k", 10)
    if isinstance(k, str):
        try:
            k = int(k)
        except ValueError:
            raise ValidationFailed("k must be an integer.", details={"k": ["Not an integer."]}) from None
    if not isinstance(k, int) or isinstance(k, bool):
        raise ValidationFailed("k must be an integer.", details={"k": ["Not an integer."]})
    filters = body.get("filters") or {}
    if not isinstance(filters, dict):
        raise ValidationFailed("filters must be an object.", details={"filters": ["Not an object."]})
    neighbors = selectors.similar_rows(
        actor=actor,
        space=space,
        dataset=dataset,
        data_row=data_row,
        vector=body.get("vector"),
        k=k,
        filters={str(a): str(b) for a, b in filters.items()},
    )
    payload = {"embedding": space.pk, "results": [{"data_row": n.data_row, "score": n.score} for n in neighbors]}
    return Response(SimilarOutputSerializer(payload).data)


@extend_schema_serializer(component_name="SimilarSearchInput")
class SimilarInputSerializer(StrictSerializer):
    embedding = serializers.UUIDField(required=False)
    data_row = serializers.UUIDField(required=False)
    vector = serializers.ListField(child=serializers.JSONField(), required=False)
    k = serializers.IntegerField(required=False, default=10)
    filters = serializers.DictField(child=serializers.CharField(), required=False)


SIMILAR_PARAMS = [
    OpenApiParameter("embedding", str, required=True),
    OpenApiParameter("data_row", str, required=True),
    OpenApiParameter("k", int),
    *FILTER_PARAMS,
]


class DatasetSimilarApi(APIView):
    @extend_schema(parameters=SIMILAR_PARAMS, responses=SimilarOutputSerializer)
    def get(self, request: Request, dataset_id: str) -> Response:
        actor = request_user(request)
        dataset = access_dataset(actor, dataset_id)
        space = selectors.embedding_space_for(actor=actor, space_id=request.query_params.get("embedding"))
        if not request.query_params.get("data_row"):
            raise ValidationFailed("data_row is required (or POST a vector).", details={"data_row": ["Required."]})
        body = {
            "data_row": request.query_params.get("data_row"),
            "k": request.query_params.get("k", 10),
            "filters": selectors.row_filters(request.query_params),
        }
        return _similar(request, space, dataset, body)

    @extend_schema(request=SimilarInputSerializer, responses=SimilarOutputSerializer)
    def post(self, request: Request, dataset_id: str) -> Response:
        actor = request_user(request)
        dataset = access_dataset(actor, dataset_id)
        data = SimilarInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        body = dict(data.validated_data)
        space = selectors.embedding_space_for(actor=actor, space_id=str(body.pop("embedding", "") or ""))
        return _similar(request, space, dataset, body)


class EmbeddingSimilarApi(APIView):
    """Similarity across every dataset of the organization."""

    @extend_schema(
        parameters=[OpenApiParameter("data_row", str, required=True), OpenApiParameter("k", int), *FILTER_PARAMS],
        responses=SimilarOutputSerializer,
    )
    def get(self, request: Request, space_id: str) -> Response:
        space = access_embedding_space(request_user(request), space_id)
        if not request.query_params.get("data_row"):
            raise ValidationFailed("data_row is required (or POST a vector).", details={"data_row": ["Required."]})
        body = {
            "data_row": request.query_params.get("data_row"),
            "k": request.query_params.get("k", 10),
            "filters": selectors.row_filters(request.query_params),
        }
        return _similar(request, space, None, body)

    @extend_schema(request=SimilarInputSerializer, responses=SimilarOutputSerializer)
    def post(self, request: Request, space_id: str) -> Response:
        space = access_embedding_space(request_user(request), space_id)
        data = SimilarInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        body = dict(data.validated_data)
        body.pop("embedding", None)
        return _similar(request, space, None, body)


# --- projection, outliers ---------------------------------------------------------------------------------------


def _analysis_meta(view: selectors.AnalysisView) -> dict[str, Any]:
    found = view.analysis
    return {
        "id": str(found.pk),
        "embedding": str(found.space_id),
        "space_version": found.space_version,
        "stale": view.stale,
        "clusters": found.clusters,
        "neighbors": found.neighbors,
        "rows": found.rows,
        "summary": found.summary,
        "created_at": found.created_at.isoformat(),
    }


ANALYSIS_PARAMS = [OpenApiParameter("embedding", str, required=True), OpenApiParameter("clusters", int), *FILTER_PARAMS]


def _analysis_view(request: Request, dataset_id: str) -> selectors.AnalysisView:
    actor = request_user(request)
    dataset = access_dataset(actor, dataset_id)
    space = selectors.embedding_space_for(actor=actor, space_id=request.query_params.get("embedding"))
    clusters = request.query_params.get("clusters")
    return selectors.analysis_points(
        actor=actor,
        space=space,
        dataset=dataset,
        filters=selectors.row_filters(request.query_params),
        clusters=_int_param(request, "clusters", 8, 1, services.MAX_CLUSTERS) if clusters else None,
    )


class DatasetProjectionApi(APIView):
    @extend_schema(parameters=[*ANALYSIS_PARAMS, OpenApiParameter("limit", int)], responses=ProjectionOutputSerializer)
    def get(self, request: Request, dataset_id: str) -> Response:
        view = _analysis_view(request, dataset_id)
        limit = _int_param(request, "limit", MAX_POINTS, 1, MAX_POINTS)
        positions = view.positions
        sampled = positions.size > limit
        if sampled:
            rng = np.random.default_rng(0)
            positions = np.sort(rng.choice(positions, size=limit, replace=False))
        arrays = view.arrays
        points = []
        classes = registry.label_classes(request.user, [arrays.row_ids[p] for p in positions.tolist()])  # type: ignore[arg-type]
        for p in positions.tolist():
            row = view.rows[arrays.row_ids[p]]
            points.append(
                {
                    "data_row": row.pk,
                    "global_key": row.global_key,
                    "media_type": row.media_type,
                    "x": float(arrays.coords[p, 0]),
                    "y": float(arrays.coords[p, 1]),
                    "cluster": int(arrays.clusters[p]),
                    "outlier_score": float(arrays.outlier_scores[p]),
                    "outlier_rank": float(arrays.outlier_ranks[p]),
                    "metadata": row.metadata,
                    "label_class": classes.get(row.pk),
                }
            )
        return Response(
            {"analysis": _analysis_meta(view), "total": int(view.positions.size), "sampled": sampled, "points": points}
        )


class DatasetOutliersApi(APIView):
    @extend_schema(parameters=[*ANALYSIS_PARAMS, OpenApiParameter("limit", int)], responses=OutliersOutputSerializer)
    def get(self, request: Request, dataset_id: str) -> Response:
        view = _analysis_view(request, dataset_id)
        limit = _int_param(request, "limit", 100, 1, 1000)
        arrays = view.arrays
        positions = view.positions
        order = positions[np.lexsort((positions, -arrays.outlier_scores[positions]))][:limit]
        results = []
        for p in order.tolist():
            row = view.rows[arrays.row_ids[p]]
            results.append(
                {
                    "data_row": CatalogDataRowSerializer(row).data,
                    "outlier_score": float(arrays.outlier_scores[p]),
                    "outlier_rank": float(arrays.outlier_ranks[p]),
                    "cluster": int(arrays.clusters[p]),
                }
            )
        return Response({"analysis": _analysis_meta(view), "results": results})


# --- drift ------------------------------------------------------------------------------------------------------


class DatasetDriftApi(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("embedding", str),
            OpenApiParameter("a.<filter>", str, description="slice A (reference): a.metadata.<f>=, a.created_after="),
            OpenApiParameter("b.<filter>", str, description="slice B (current): b.metadata.<f>=, b.created_before="),
            OpenApiParameter("psi_threshold", float),
            OpenApiParameter("ks_threshold", float),
            OpenApiParameter("embedding_threshold", float),
        ],
        responses=DriftOutputSerializer,
    )
    def get(self, request: Request, dataset_id: str) -> Response:
        actor = request_user(request)
        dataset = access_dataset(actor, dataset_id)
        space_id = request.query_params.get("embedding")
        space = selectors.embedding_space_for(actor=actor, space_id=space_id) if space_id else None
        filters_a = selectors.row_filters(request.query_params, "a.")
        filters_b = selectors.row_filters(request.query_params, "b.")
        if not filters_a and not filters_b:
            raise ValidationFailed(
                "Describe the two slices with a.<filter> and b.<filter> parameters.",
                details={"a": ["Required."], "b": ["Required."]},
            )
        report = selectors.drift_report(
            actor=actor,
            dataset=dataset,
            filters_a=filters_a,
            filters_b=filters_b,
            space=space,
            psi_threshold=_float_param(request, "psi_threshold", 0.2),
            ks_threshold=_float_param(request, "ks_threshold", 0.2),
            embedding_threshold=_float_param(request, "embedding_threshold", 0.5),
        )
        return Response(report)


# --- slices -----------------------------------------------------------------------------------------------------


class SliceListCreateApi(APIView):
    pagination_class = CursorPagination  # the schema documents the GET list as pages

    @extend_schema_serializer(component_name="SliceCreateInput")
    class InputSerializer(StrictSerializer):
        name = serializers.CharField(max_length=200)
        dataset = serializers.UUIDField(required=False, allow_null=True)
        filters = serializers.DictField(child=serializers.CharField(), required=False, default=dict)
        data_rows = serializers.ListField(child=serializers.CharField(), required=False, default=list)

    @extend_schema(parameters=[OpenApiParameter("dataset", str)], responses=SliceOutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        actor = request_user(request)
        dataset_id = request.query_params.get("dataset")
        dataset = access_dataset(actor, dataset_id) if dataset_id else None
        paginator = CursorPagination()
        page = paginator.paginate_queryset(selectors.slices_visible_to(actor=actor, dataset=dataset), request, self)
        return paginator.get_paginated_response(SliceOutputSerializer(page, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: SliceOutputSerializer})
    def post(self, request: Request) -> Response:
        actor = request_user(request)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        dataset = access_dataset(actor, values["dataset"]) if values.get("dataset") else None
        created = services.slice_create(
            actor=actor, name=values["name"], dataset=dataset, filters=values["filters"], row_ids=values["data_rows"]
        )
        return Response(SliceOutputSerializer(created).data, status=status.HTTP_201_CREATED)


class SliceDetailApi(APIView):
    @extend_schema(responses=SliceOutputSerializer)
    def get(self, request: Request, slice_id: str) -> Response:
        return Response(SliceOutputSerializer(access_slice(request_user(request), slice_id)).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, slice_id: str) -> Response:
        actor = request_user(request)
        services.slice_delete(actor=actor, slice_=access_slice(actor, slice_id, manage=True))
        return Response(status=status.HTTP_204_NO_CONTENT)


class SliceSendApi(APIView):
    @extend_schema_serializer(component_name="SliceSendInput")
    class InputSerializer(StrictSerializer):
        target = serializers.CharField(max_length=100)
        option = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
        name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")

    @extend_schema(
        request=InputSerializer, responses=inline_serializer("SliceSendResult", {"result": serializers.DictField()})
    )
    def post(self, request: Request, slice_id: str) -> Response:
        actor = request_user(request)
        found = access_slice(actor, slice_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.slice_send(
            actor=actor,
            slice_=found,
            target_key=data.validated_data["target"],
            option=data.validated_data["option"],
            name=data.validated_data["name"],
        )
        return Response({"result": result})


class SelectionTargetsApi(APIView):
    @extend_schema(responses=SelectionTargetsOutputSerializer)
    def get(self, request: Request) -> Response:
        actor = request_user(request)
        return Response(
            {
                "results": [
                    {"key": t.key, "label": t.label, "options": t.options(actor)} for t in registry.selection_targets()
                ]
            }
        )


# --- lineage, built-in embedder ---------------------------------------------------------------------------------


class DataRowLineageApi(APIView):
    @extend_schema(responses=LineageOutputSerializer)
    def get(self, request: Request, data_row_id: str) -> Response:
        actor = request_user(request)
        row = access_data_row(actor, data_row_id)
        sections = selectors.data_row_lineage(actor=actor, data_row=row)
        return Response(
            {
                "data_row": CatalogDataRowSerializer(row).data,
                "sections": [
                    {"key": s.key, "title": s.title, "items": s.items, "empty_text": s.empty_text} for s in sections
                ],
            }
        )


class DatasetBuiltinEmbedApi(APIView):
    @extend_schema(request=None, responses={202: CatalogJobRefSerializer})
    def post(self, request: Request, dataset_id: str) -> Response:
        from apps.catalog import embedder

        actor = request_user(request)
        dataset = access_dataset(actor, dataset_id)
        require_manage_catalog(actor)
        job = embedder.embed_dataset_enqueue(actor=actor, dataset=dataset)
        return Response({"job": str(job.pk)}, status=status.HTTP_202_ACCEPTED)
