"""Predictions REST API (API.md "Predictions, model runs, diagnostics"): models, runs, their rows, prediction and
pre-label imports (NDJSON), pre-label figures. Thin: parse → access → service/selector → serialize."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.access import request_user
from apps.core.errors import PayloadTooLarge, ValidationFailed
from apps.core.pagination import CursorPagination
from apps.core.serializers import StrictSerializer
from apps.datasets.apis import UnsupportedMediaType
from apps.datasets.domain.streams import FORMATS
from apps.datasets.services import iter_chunks
from apps.labeling.access import access_label, access_project
from apps.ontologies.access import access_ontology
from apps.predictions import selectors, services
from apps.predictions.access import access_model, access_model_run, models_visible_to
from apps.predictions.models import AnnotationProvenance, LabelAssist, Model, ModelRun, Split
from apps.predictions.services.coco import coco_results_import
from apps.predictions.services.imports import Target

ImportResultSerializer = inline_serializer(
    "AnnotationImportResult",
    {
        "created": serializers.IntegerField(),
        "updated": serializers.IntegerField(),
        "failed": serializers.IntegerField(),
        "errors": serializers.ListField(child=serializers.DictField()),
        "errors_truncated": serializers.BooleanField(),
        "import": serializers.UUIDField(),
    },
)
JobRefSerializer = inline_serializer("PredictionJobRef", {"job": serializers.UUIDField()})
_NDJSON_REQUEST = {"application/x-ndjson": {"type": "string"}}


class ModelOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    description = serializers.CharField()
    ontology = serializers.UUIDField(source="ontology_id")
    created_by = serializers.UUIDField(source="created_by_id", allow_null=True)
    created_at = serializers.DateTimeField()


class ModelRunOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    model = serializers.UUIDField(source="model_id")
    name = serializers.CharField()
    config = serializers.JSONField()
    ontology_version = serializers.IntegerField(source="ontology_version.number")
    created_by = serializers.UUIDField(source="created_by_id", allow_null=True)
    created_at = serializers.DateTimeField()


class ModelListCreateApi(APIView):
    pagination_class = CursorPagination  # the schema documents the GET list as pages

    class InputSerializer(StrictSerializer):
        name = serializers.CharField(max_length=200)
        ontology = serializers.UUIDField()
        description = serializers.CharField(required=False, allow_blank=True, default="", max_length=10_000)

    @extend_schema(responses=ModelOutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        paginator = CursorPagination()
        page = paginator.paginate_queryset(models_visible_to(request_user(request)), request, view=self)
        return paginator.get_paginated_response(ModelOutputSerializer(page, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: ModelOutputSerializer})
    def post(self, request: Request) -> Response:
        actor = request_user(request)
        models_visible_to(actor)  # 403 before reading anything for those who may not
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        ontology = access_ontology(actor, data.validated_data["ontology"])
        model = services.model_create(
            actor=actor,
            name=data.validated_data["name"],
            ontology=ontology,
            description=data.validated_data["description"],
        )
        return Response(ModelOutputSerializer(model).data, status=status.HTTP_201_CREATED)


class ModelDetailApi(APIView):
    @extend_schema(responses=ModelOutputSerializer)
    def get(self, request: Request, model_id: str) -> Response:
        return Response(ModelOutputSerializer(access_model(request_user(request), model_id)).data)


class ModelRunsApi(APIView):
    pagination_class = CursorPagination  # the schema documents the GET list as pages

    class InputSerializer(StrictSerializer):
        name = serializers.CharField(max_length=200)
        config = serializers.JSONField(required=False)

    @extend_schema(responses=ModelRunOutputSerializer(many=True))
    def get(self, request: Request, model_id: str) -> Response:
        model: Model = access_model(request_user(request), model_id)
        paginator = CursorPagination()
        queryset = model.runs.select_related("ontology_version")
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response(ModelRunOutputSerializer(page, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: ModelRunOutputSerializer})
    def post(self, request: Request, model_id: str) -> Response:
        actor = request_user(request)
        model = access_model(actor, model_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        run = services.model_run_create(
            actor=actor, model=model, name=data.validated_data["name"], config=data.validated_data.get("config")
        )
        return Response(ModelRunOutputSerializer(run).data, status=status.HTTP_201_CREATED)


class ModelRunDetailApi(APIView):
    @extend_schema(
        responses=inline_serializer(
            "ModelRunDetail",
            {"data_rows": serializers.DictField(), "predictions": serializers.IntegerField()},
        )
    )
    def get(self, request: Request, run_id: str) -> Response:
        run: ModelRun = access_model_run(request_user(request), run_id)
        return Response({**ModelRunOutputSerializer(run).data, **selectors.run_summary(run=run)})


class ModelRunDataRowsApi(APIView):
    class InputSerializer(StrictSerializer):
        data_rows = serializers.ListField(child=serializers.CharField(max_length=64), required=False, allow_empty=False)
        global_keys = serializers.ListField(
            child=serializers.CharField(max_length=255), required=False, allow_empty=False
        )
        split = serializers.ChoiceField(choices=Split.choices, default=Split.UNASSIGNED)

    @extend_schema(
        request=InputSerializer,
        responses=inline_serializer(
            "ModelRunRowsResult",
            {
                "added": serializers.IntegerField(),
                "updated": serializers.IntegerField(),
                "not_found": serializers.ListField(child=serializers.CharField()),
            },
        ),
    )
    def post(self, request: Request, run_id: str) -> Response:
        actor = request_user(request)
        run = access_model_run(actor, run_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.model_run_rows_set(
            actor=actor,
            model_run=run,
            split=data.validated_data["split"],
            data_row_ids=data.validated_data.get("data_rows"),
            global_keys=data.validated_data.get("global_keys"),
        )
        return Response(result)


def _ndjson_import(request: Request, target: Target) -> Response:
    """Stream the NDJSON body into the importer: in the request when small, as a job (202) when large."""
    raw = request.META.get("CONTENT_TYPE", "")
    media_type, _, params = raw.partition(";")
    if FORMATS.get(media_type.strip().lower()) != "ndjson":
        raise UnsupportedMediaType(
            f"Send the annotations as application/x-ndjson (one JSON object per line), not {raw[:100]!r}.",
            details={"accepted": sorted(k for k, v in FORMATS.items() if v == "ndjson")},
        )
    for param in params.split(";"):
        key, _, value = param.strip().partition("=")
        if key.lower() == "charset" and value.strip().strip('"').lower() not in ("utf-8", "utf8"):
            raise UnsupportedMediaType("Import bodies must be UTF-8.", code="unsupported_charset")
    limit = settings.TDP_MAX_IMPORT_BYTES
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise ValidationFailed("Invalid Content-Length header.") from None
    if length > limit:
        raise PayloadTooLarge(f"The import body is larger than the limit of {limit} bytes.", details={"limit": limit})
    if not length:
        raise ValidationFailed("The request body is empty (a Content-Length is required).", code="empty_body")
    actor = request_user(request)
    stream = request._request
    if length > settings.TDP_IMPORT_SYNC_MAX_BYTES:
        job = services.annotations_import_enqueue(actor=actor, target=target, stream=stream)
        return Response({"job": str(job.pk)}, status=status.HTTP_202_ACCEPTED)
    result = services.annotations_import(
        actor=actor, target=target, chunks=iter_chunks(stream, limit=limit), size=length
    )
    return Response(result)


class ModelRunPredictionsApi(APIView):
    parser_classes: list[type] = []  # the body is read as a stream

    @extend_schema(
        request={
            **_NDJSON_REQUEST,
            "application/json": {
                "description": "COCO detection results: [{image_id, category_id, bbox, score}] or "
                "{annotations, images, categories} (docs/api-extensions.md)",
                "type": "object",
            },
        },
        responses={200: ImportResultSerializer, 202: JobRefSerializer},
    )
    def post(self, request: Request, run_id: str) -> Response:
        actor = request_user(request)
        run = access_model_run(actor, run_id)
        media_type = request.META.get("CONTENT_TYPE", "").partition(";")[0].strip().lower()
        if media_type == "application/json":
            limit = settings.TDP_IMPORT_SYNC_MAX_BYTES
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                raise ValidationFailed("Invalid Content-Length header.") from None
            if length > limit:
                raise PayloadTooLarge(
                    f"A COCO results file is read in one piece: at most {limit} bytes (send larger ones as NDJSON).",
                    details={"limit": limit},
                )
            if not length:
                raise ValidationFailed("The request body is empty.", code="empty_body")
            body = b"".join(iter_chunks(request._request, limit=limit))
            return Response(coco_results_import(actor=actor, model_run=run, body=body))
        return _ndjson_import(request, services.prediction_target(run))


class ProjectPrelabelsApi(APIView):
    parser_classes: list[type] = []

    @extend_schema(request=_NDJSON_REQUEST, responses={200: ImportResultSerializer, 202: JobRefSerializer})
    def post(self, request: Request, project_id: str) -> Response:
        project = access_project(request_user(request), project_id, "manage")
        return _ndjson_import(request, services.prelabel_target(project))


class ProjectPrelabelImportsApi(APIView):
    pagination_class = CursorPagination  # the schema documents the GET list as pages

    @extend_schema(responses=inline_serializer("PrelabelImport", {"id": serializers.UUIDField()}, many=True))
    def get(self, request: Request, project_id: str) -> Response:
        project = access_project(request_user(request), project_id, "manage")
        paginator = CursorPagination()
        page = paginator.paginate_queryset(selectors.imports_of_project(project=project), request, view=self)
        return paginator.get_paginated_response([serialize_import(record) for record in page or []])


def serialize_import(record: Any) -> dict[str, Any]:
    return {
        "id": str(record.id),
        "kind": record.kind,
        "status": record.status,
        "created_by": str(record.created_by_id) if record.created_by_id else None,
        "created_at": record.created_at.isoformat(),
        "finished_at": record.finished_at.isoformat() if record.finished_at else None,
        "bytes": record.bytes,
        "created": record.created,
        "updated": record.updated,
        "failed": record.failed,
        "errors": record.errors,
        "errors_truncated": record.errors_truncated,
        "job": str(record.job_id) if record.job_id else None,
    }


class ProjectPrelabelStatsApi(APIView):
    @extend_schema(
        responses=inline_serializer(
            "PrelabelStats",
            {"features": serializers.ListField(child=serializers.DictField()), "seconds": serializers.DictField()},
        )
    )
    def get(self, request: Request, project_id: str) -> Response:
        project = access_project(request_user(request), project_id, "view_work")
        return Response(selectors.prelabel_stats(project=project))


class LabelProvenanceApi(APIView):
    @extend_schema(
        responses=inline_serializer(
            "LabelProvenance",
            {
                "label": serializers.UUIDField(),
                "had_prelabels": serializers.BooleanField(allow_null=True),
                "annotations": serializers.ListField(child=serializers.DictField()),
            },
        )
    )
    def get(self, request: Request, label_id: str) -> Response:
        label = access_label(request_user(request), label_id)
        assist = LabelAssist.objects.filter(label=label).first()
        rows = AnnotationProvenance.objects.filter(label=label).order_by("id")
        return Response(
            {
                "label": str(label.id),
                "had_prelabels": assist.had_prelabels if assist is not None else None,
                "annotations": [
                    {
                        "index": row.index,
                        "prelabel": str(row.prelabel_uuid) if row.prelabel_uuid else None,
                        "schema_id": str(row.schema_id),
                        "name": row.name,
                        "outcome": row.outcome,
                        "confidence": row.confidence,
                    }
                    for row in rows
                ],
            }
        )


class ExpertQueuePagination(CursorPagination):
    ordering = ("confidence", "id")  # the expert queue order: lowest confidence first, then oldest (UUIDv7 ids)


class ProjectExpertTasksApi(APIView):
    pagination_class = ExpertQueuePagination  # the schema documents the GET list as pages

    @extend_schema(
        parameters=[OpenApiParameter("overdue", bool)],
        responses=inline_serializer("ExpertTask", {"task": serializers.UUIDField()}, many=True),
    )
    def get(self, request: Request, project_id: str) -> Response:
        project = access_project(request_user(request), project_id, "view_work")
        overdue = request.query_params.get("overdue", "").lower() in ("1", "true", "yes")
        paginator = ExpertQueuePagination()
        page = paginator.paginate_queryset(
            selectors.expert_queue(project=project, overdue_only=overdue), request, view=self
        )
        return paginator.get_paginated_response(
            [
                {
                    "task": str(task.id),
                    "data_row": str(task.data_row_id),
                    "global_key": task.data_row.global_key,
                    "state": task.state,
                    "confidence": task.confidence,
                    "due_at": task.due_at.isoformat() if task.due_at else None,
                    "overdue_notified_at": task.overdue_notified_at.isoformat() if task.overdue_notified_at else None,
                    "assignee": str(task.assignee_id) if task.assignee_id else None,
                }
                for task in page or []
            ]
        )


class ProjectQueueOrderApi(APIView):
    """Recompute the project's active learning queue order now (it is also recomputed when the `queue` setting
    changes and after predictions of a run it uses are imported)."""

    @extend_schema(request=None, responses={202: JobRefSerializer})
    def post(self, request: Request, project_id: str) -> Response:
        actor = request_user(request)
        project = access_project(actor, project_id, "manage")
        job = services.queue_order_request(actor=actor, project=project)
        return Response({"job": str(job.pk)}, status=status.HTTP_202_ACCEPTED)
