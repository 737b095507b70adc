"""Diagnostics REST API (API.md "Predictions, model runs, diagnostics"): ground truth of a run, metrics (cached;
a background job for large runs), the per-match rows with filters, the error analysis, and sending rows back to
labeling. Thin: parse → access → service/selector → serialize."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpResponseBase, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.access import request_user
from apps.accounts.models import User
from apps.catalog.access import access_embedding_space
from apps.core.errors import ValidationFailed
from apps.core.models import Job
from apps.core.pagination import CursorPagination
from apps.core.serializers import StrictSerializer
from apps.diagnostics import comparison, ground_truth, metric_slices, selectors, send_back, services
from apps.diagnostics.domain import comparison as comparison_domain
from apps.diagnostics.models import MatchRecord, MetricsResult
from apps.diagnostics.training_data import training_data_lines
from apps.diagnostics.training_links import training_link_run
from apps.labeling.access import access_project
from apps.predictions.access import access_model_run
from apps.predictions.models import ModelRun

JobRefSerializer = inline_serializer("DiagnosticsJobRef", {"job": serializers.UUIDField()})
_THRESHOLDS = [
    OpenApiParameter("iou", float, description="IoU threshold in (0, 1], default 0.5"),
    OpenApiParameter("confidence", float, description="confidence threshold in [0, 1], default 0"),
]
_ROW_FILTERS = [
    OpenApiParameter("class", str, description="schema_id or name of either side's class (unknown: 400)"),
    OpenApiParameter("iou_lt", float),
    OpenApiParameter("iou_gt", float),
    OpenApiParameter("confidence_lt", float),
    OpenApiParameter("confidence_gt", float),
    OpenApiParameter("status", str, enum=list(selectors.STATUSES)),
    OpenApiParameter("split", str, enum=["train", "valid", "test", "unassigned"]),
    OpenApiParameter("order", str, enum=["iou", "-iou", "confidence", "-confidence"]),
]


def access_run(actor: User, run_id: str) -> ModelRun:
    """Runs are for organization admins and team managers (403 otherwise); another organization's run is a 404."""
    return access_model_run(actor, run_id)


def result_or_job(actor: User, run: ModelRun, iou: Any, confidence: Any) -> MetricsResult | Response:
    value, conf = services.parse_thresholds(iou, confidence)
    found = services.metrics_get_or_enqueue(actor=actor, model_run=run, iou=value, confidence=conf)
    if isinstance(found, Job):
        return Response({"job": str(found.id)}, status=status.HTTP_202_ACCEPTED)
    return found


class GroundTruthApi(APIView):
    class InputSerializer(StrictSerializer):
        project = serializers.UUIDField()
        scope = serializers.ChoiceField(choices=list(ground_truth.SCOPES), default="project")

    @extend_schema(responses=inline_serializer("GroundTruthSummary", {"rows": serializers.IntegerField()}))
    def get(self, request: Request, run_id: str) -> Response:
        run = access_run(request_user(request), run_id)
        return Response(selectors.ground_truth_summary(model_run=run))

    @extend_schema(request=InputSerializer, responses={201: dict})
    def post(self, request: Request, run_id: str) -> Response:
        actor = request_user(request)
        run = access_run(actor, run_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        project = access_project(actor, data.validated_data["project"], "view_work")
        result = ground_truth.ground_truth_snapshot(
            actor=actor, model_run=run, project=project, scope=data.validated_data["scope"]
        )
        return Response(result, status=status.HTTP_201_CREATED)


class MetricsApi(APIView):
    @extend_schema(
        parameters=[
            *_THRESHOLDS,
            OpenApiParameter("split", str, enum=["train", "valid", "test", "unassigned"]),
            OpenApiParameter("metadata.<field>", str, description="exact match on a metadata field"),
            OpenApiParameter("slice_by", str, description="split or metadata.<field>: metrics per value"),
        ],
        responses={200: dict, 202: JobRefSerializer},
    )
    def get(self, request: Request, run_id: str) -> Response:
        actor = request_user(request)
        run = access_run(actor, run_id)
        params = request.query_params
        selectors.check_params(params.keys(), ("iou", "confidence", *metric_slices.FILTER_PARAMS))
        if metric_slices.wants_filtered(params):  # applied (computed now, not cached) or refused: never ignored
            iou, confidence = services.parse_thresholds(params.get("iou"), params.get("confidence"))
            return Response(
                metric_slices.metrics_filtered(
                    actor=actor, model_run=run, iou=iou, confidence=confidence, params=params.dict()
                )
            )
        found = result_or_job(actor, run, params.get("iou"), params.get("confidence"))
        if isinstance(found, Response):
            return found
        return Response(
            {
                **found.metrics,
                "thresholds": services.thresholds_echo(found.iou, found.confidence),
                "computed_at": found.updated_at.isoformat(),
                "seconds": found.seconds,
            }
        )


def serialize_record(record: MatchRecord) -> dict[str, Any]:
    row = record.data_row
    return {
        "index": record.index,
        "data_row": {
            "id": str(record.data_row_id),
            "global_key": row.global_key if row else None,
            "external_id": row.external_id if row else None,
            "split": getattr(record, "split", None),
        },
        "class": record.schema_id,
        "gt_class": record.gt_schema_id or None,
        "pred_class": record.pred_schema_id or None,
        "status": record.status,
        "localisation": record.localisation,
        "iou": record.iou,
        "confidence": record.confidence,
        "gt_box": record.gt_box,
        "pred_box": record.pred_box,
    }


class RowsApi(APIView):
    pagination_class = CursorPagination  # the schema documents the GET list as pages

    @extend_schema(
        parameters=[
            *_THRESHOLDS,
            *_ROW_FILTERS,
            OpenApiParameter("metadata.<field>", str, description="exact match on a metadata field"),
        ],
        responses={200: dict, 202: JobRefSerializer},
    )
    def get(self, request: Request, run_id: str) -> Response:
        actor = request_user(request)
        run = access_run(actor, run_id)
        params = request.query_params
        selectors.check_params(params.keys(), selectors.ROW_FILTERS + selectors.PAGE_PARAMS)
        ordering = selectors.order_of(params.get("order"))
        found = result_or_job(actor, run, params.get("iou"), params.get("confidence"))
        if isinstance(found, Response):
            return found
        filters = {k: v for k, v in params.items() if k not in selectors.PAGE_PARAMS}
        queryset = selectors.with_row_fields(selectors.match_records(actor=actor, result=found, filters=filters), run)
        paginator = CursorPagination()
        paginator.ordering = ordering  # type: ignore[assignment]
        page = paginator.paginate_queryset(queryset, request, view=self)
        response = paginator.get_paginated_response([serialize_record(r) for r in page or []])
        response.data["thresholds"] = services.thresholds_echo(found.iou, found.confidence)
        return response


class ErrorsApi(APIView):
    @extend_schema(
        parameters=[
            *_THRESHOLDS,
            OpenApiParameter("embedding", str, description="an embedding space: its catalog outliers among the rows"),
        ],
        responses={200: dict, 202: JobRefSerializer},
    )
    def get(self, request: Request, run_id: str) -> Response:
        actor = request_user(request)
        run = access_run(actor, run_id)
        selectors.check_params(request.query_params.keys(), ("iou", "confidence", "embedding"))
        found = result_or_job(actor, run, request.query_params.get("iou"), request.query_params.get("confidence"))
        if isinstance(found, Response):
            return found
        embedding = request.query_params.get("embedding")
        report = selectors.error_report(result=found, actor=actor, embedding=embedding)
        return Response({**report, "thresholds": services.thresholds_echo(found.iou, found.confidence)})


class SendToLabelingApi(APIView):
    class InputSerializer(StrictSerializer):
        project = serializers.UUIDField()
        rows = serializers.DictField(required=False, help_text="The filters of /rows (class, iou_lt, …, metadata.*)")
        slice = serializers.DictField(
            required=False, help_text='{"priority": n} (the ranked list) or {"field", "value"} (a data slice)'
        )
        iou = serializers.FloatField(required=False)
        confidence = serializers.FloatField(required=False)
        batch_name = serializers.CharField(max_length=200)
        priority = serializers.IntegerField(default=3, min_value=1, max_value=5)

    @extend_schema(request=InputSerializer, responses={201: dict, 202: JobRefSerializer})
    def post(self, request: Request, run_id: str) -> Response:
        actor = request_user(request)
        run = access_run(actor, run_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        if ("rows" in values) == ("slice" in values):
            raise ValidationFailed("Give either rows or slice.", details={"rows": ["One of rows and slice."]})
        project = access_project(actor, values["project"], "manage")
        found = result_or_job(actor, run, values.get("iou"), values.get("confidence"))
        if isinstance(found, Response):
            return found
        if "rows" in values:
            filters = {str(k): v for k, v in values["rows"].items()}
            selectors.check_params(filters.keys(), selectors.ROW_FILTERS)
            row_ids = selectors.filtered_row_ids(actor=actor, result=found, filters=filters)
        else:
            row_ids = selectors.slice_row_ids(result=found, slice_spec=values["slice"])
        batch = send_back.send_to_labeling(
            actor=actor,
            model_run=run,
            project=project,
            data_row_ids=row_ids,
            batch_name=values["batch_name"],
            priority=values["priority"],
        )
        return Response(
            {
                "batch": str(batch.batch.id),
                "project": str(project.id),
                "name": batch.batch.name,
                "rows": len(row_ids),
                "added": batch.added,
                "already_in_project": batch.already_in_project,
                "not_found": batch.not_found,
            },
            status=status.HTTP_201_CREATED,
        )


def _compare_or_job(actor: User, params: Any) -> tuple[comparison.Comparison, float, float] | Response:
    runs = comparison.runs_or_400(actor, params.get("runs"))
    iou, confidence = services.parse_thresholds(params.get("iou"), params.get("confidence"))
    found = comparison.compare_prepare(actor=actor, runs=runs, iou=iou, confidence=confidence)
    if isinstance(found, Job):
        return Response({"job": str(found.id)}, status=status.HTTP_202_ACCEPTED)
    return found, iou, confidence


_RUNS = OpenApiParameter(
    "runs", str, required=True, description="2 to 5 model run ids, comma-separated; the first is the baseline"
)


class CompareApi(APIView):
    @extend_schema(
        parameters=[
            _RUNS,
            *_THRESHOLDS,
            OpenApiParameter("slice_by", str, description="split or metadata.<field>: deltas per value too"),
        ],
        responses={200: dict, 202: JobRefSerializer},
    )
    def get(self, request: Request) -> Response:
        actor = request_user(request)
        selectors.check_params(request.query_params.keys(), ("runs", "iou", "confidence", "slice_by"))
        found = _compare_or_job(actor, request.query_params)
        if isinstance(found, Response):
            return found
        cmp, iou, confidence = found
        slice_by = (request.query_params.get("slice_by") or "").strip()[:200] or None
        return Response(comparison.compare_report(cmp, iou=iou, confidence=confidence, slice_by=slice_by))


class FlippedRowsApi(APIView):
    @extend_schema(
        parameters=[
            _RUNS,
            *_THRESHOLDS,
            OpenApiParameter("run", str, description="the run compared with the baseline (default: the second)"),
            OpenApiParameter("direction", str, enum=list(comparison_domain.DIRECTIONS)),
            OpenApiParameter("class", str, description="schema_id: flips of this class only"),
            OpenApiParameter("cursor", str),
            OpenApiParameter("page_size", int),
        ],
        responses={200: dict, 202: JobRefSerializer},
    )
    def get(self, request: Request) -> Response:
        actor = request_user(request)
        params = request.query_params
        selectors.check_params(
            params.keys(), ("runs", "iou", "confidence", "run", "direction", "class", "cursor", "page_size")
        )
        direction = params.get("direction") or None
        if direction is not None and direction not in comparison_domain.DIRECTIONS:
            raise ValidationFailed(
                "Unknown direction.", details={"direction": [f"One of: {', '.join(comparison_domain.DIRECTIONS)}."]}
            )
        found = _compare_or_job(actor, params)
        if isinstance(found, Response):
            return found
        cmp, _, _ = found
        other = comparison.other_index(cmp, params.get("run"))
        flips = comparison.flipped(cmp, other, klass=params.get("class") or None, direction=direction)
        page, next_cursor = comparison.page_of(flips, params.get("cursor"), params.get("page_size"))
        next_url = None
        if next_cursor is not None:
            query = params.copy()
            query["cursor"] = next_cursor
            next_url = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
        return Response(
            {
                "run": str(cmp.runs[other].pk),
                "against": str(cmp.runs[0].pk),
                "count": len(flips),
                "next": next_url,
                "results": comparison.serialize_flips(page),
            }
        )


class TrainingDataApi(APIView):
    @extend_schema(responses={(200, "application/x-ndjson"): OpenApiTypes.STR})
    def get(self, request: Request, run_id: str) -> HttpResponseBase:
        run = access_run(request_user(request), run_id)
        selectors.check_params(request.query_params.keys(), ())
        response = StreamingHttpResponse(training_data_lines(model_run=run), content_type="application/x-ndjson")
        response["Content-Disposition"] = f'attachment; filename="training-data-{run.pk}.ndjson"'
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "no-store"
        return response


class TrainingDataLinkApi(APIView):
    """A run's `training_data` export by the signed, expiring token a retraining call carried (no credentials)."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    @extend_schema(responses={(200, "application/x-ndjson"): OpenApiTypes.STR})
    def get(self, request: Request, token: str) -> HttpResponseBase:
        run = training_link_run(token)
        if run is None:
            raise Http404
        response = StreamingHttpResponse(training_data_lines(model_run=run), content_type="application/x-ndjson")
        response["Content-Disposition"] = f'attachment; filename="training-data-{run.pk}.ndjson"'
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, no-store"
        return response


# `class` is a Python keyword: the serializer is built with `type()` so the field can carry that name.
MineSimilarInput = type(
    "MineSimilarInput",
    (StrictSerializer,),
    {
        "project": serializers.UUIDField(),
        "embedding": serializers.UUIDField(),
        "class": serializers.CharField(max_length=64, help_text="schema_id of a box class of the run's ontology"),
        "limit": serializers.IntegerField(default=100, min_value=1, max_value=send_back.MAX_MINED),
        "priority": serializers.IntegerField(default=4, min_value=1, max_value=5),
        "batch_name": serializers.CharField(max_length=200, required=False, allow_blank=True, default=""),
    },
)


class MineSimilarApi(APIView):
    InputSerializer = MineSimilarInput

    @extend_schema(request=InputSerializer, responses={201: dict})
    def post(self, request: Request, run_id: str) -> Response:
        actor = request_user(request)
        run = access_run(actor, run_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        project = access_project(actor, values["project"], "manage")
        space = access_embedding_space(actor, values["embedding"])
        result = send_back.mine_similar(
            actor=actor,
            model_run=run,
            project=project,
            space=space,
            schema_id=values["class"],
            limit=values["limit"],
            priority=values["priority"],
            batch_name=values["batch_name"],
        )
        return Response(result, status=status.HTTP_201_CREATED)
