"""Exports REST API: the direct NDJSON stream, background exports (create, list, read, retry, download), the
NDJSON line schema and the COCO ground-truth import. Thin: parse → access → service/selector → serialize."""

from __future__ import annotations

from typing import Any

from django.core.files.storage import default_storage
from django.http import FileResponse, HttpResponseBase, HttpResponseRedirect, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.access import request_user
from apps.core.errors import Conflict
from apps.core.pagination import CursorPagination
from apps.core.serializers import StrictSerializer
from apps.exports import coco_ground_truth, selectors, services
from apps.exports.access import access_export, access_project_export
from apps.exports.domain.filters import query_to_raw
from apps.exports.domain.schema import NDJSON_LINE_SCHEMA
from apps.exports.models import Export, ExportFormat, ExportStatus
from apps.exports.selectors import RowQuery
from apps.labeling.access import access_project


class ExportOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    project = serializers.UUIDField(source="project_id")
    format = serializers.CharField()
    filters = serializers.JSONField()
    status = serializers.CharField()
    progress = serializers.SerializerMethodField()
    rows = serializers.IntegerField(source="row_count")
    annotations = serializers.IntegerField(source="annotation_count")
    skipped = serializers.IntegerField(source="skipped_count")
    skipped_rows = serializers.JSONField(source="skipped")
    file_name = serializers.SerializerMethodField()
    size = serializers.IntegerField(source="file_size")
    download_url = serializers.SerializerMethodField()
    job = serializers.UUIDField(source="job_id", allow_null=True)
    error = serializers.CharField()
    created_by = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)

    def get_progress(self, export: Export) -> dict[str, int]:
        return {"done": export.row_count + export.skipped_count, "total": export.rows_total}

    def get_file_name(self, export: Export) -> str:
        return export.file_name.rsplit("/", 1)[-1]

    def get_download_url(self, export: Export) -> str | None:
        return services.download_url(export) if export.status == ExportStatus.SUCCEEDED else None

    def get_created_by(self, export: Export) -> dict[str, str] | None:
        user = export.created_by
        return {"id": str(user.pk), "username": user.username} if user is not None else None


class ProjectExportStreamApi(APIView):
    """`GET /projects/{id}/export.ndjson?<filters>`: the export streamed as it is read, page by page."""

    page_size = selectors.DEFAULT_PAGE_SIZE

    @extend_schema(
        parameters=[
            OpenApiParameter("state", str, description="Workflow state(s), comma-separated."),
            OpenApiParameter("batch", str, description="Batch id(s), comma-separated."),
            OpenApiParameter("labeler", str, description="Labeler id(s), comma-separated."),
            OpenApiParameter("global_keys", str, many=True, description="Repeat for several keys."),
            OpenApiParameter("label_created_from", OpenApiTypes.DATETIME),
            OpenApiParameter("label_created_to", OpenApiTypes.DATETIME),
            OpenApiParameter("label", str, enum=["all", "approved", "consensus_winner"]),
        ],
        responses={(200, "application/x-ndjson"): OpenApiTypes.STR},
    )
    def get(self, request: Request, project_id: str) -> HttpResponseBase:
        actor = request_user(request)
        project = access_project_export(actor, project_id)
        filters = selectors.filters_or_400(query_to_raw(request.query_params.lists()), from_query=True)
        query = RowQuery.build(project, filters)
        services.export_stream_record(actor=actor, project=project, filters=filters)
        response = StreamingHttpResponse(
            selectors.ndjson_stream(query, page_size=self.page_size), content_type="application/x-ndjson"
        )
        response["Content-Disposition"] = f'attachment; filename="export-{project.pk}.ndjson"'
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "no-store"
        return response


class ProjectExportListCreateApi(APIView):
    pagination_class = CursorPagination  # the schema documents the GET list as pages

    class InputSerializer(StrictSerializer):
        format = serializers.ChoiceField(choices=ExportFormat.values)
        filters = serializers.JSONField(required=False, default=dict)

    @extend_schema(responses=ExportOutputSerializer(many=True))
    def get(self, request: Request, project_id: str) -> Response:
        actor = request_user(request)
        project = access_project_export(actor, project_id)
        paginator = CursorPagination()
        page = paginator.paginate_queryset(
            selectors.exports_visible_to(actor=actor, project=project), request, view=self
        )
        return paginator.get_paginated_response(ExportOutputSerializer(page, many=True).data)

    @extend_schema(
        request=InputSerializer,
        responses={
            202: inline_serializer("ExportStarted", {"job": serializers.UUIDField(), "export": serializers.UUIDField()})
        },
    )
    def post(self, request: Request, project_id: str) -> Response:
        actor = request_user(request)
        project = access_project_export(actor, project_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        export = services.export_create(
            actor=actor, project=project, fmt=data.validated_data["format"], filters=data.validated_data["filters"]
        )
        return Response({"job": str(export.job_id), "export": str(export.pk)}, status=status.HTTP_202_ACCEPTED)


class ExportDetailApi(APIView):
    @extend_schema(responses=ExportOutputSerializer)
    def get(self, request: Request, export_id: str) -> Response:
        return Response(ExportOutputSerializer(access_export(request_user(request), export_id)).data)


class ExportRetryApi(APIView):
    @extend_schema(
        request=None,
        responses={
            202: inline_serializer("ExportRetried", {"job": serializers.UUIDField(), "export": serializers.UUIDField()})
        },
    )
    def post(self, request: Request, export_id: str) -> Response:
        actor = request_user(request)
        export = services.export_retry(actor=actor, export=access_export(actor, export_id))
        return Response({"job": str(export.job_id), "export": str(export.pk)}, status=status.HTTP_202_ACCEPTED)


class ExportDownloadApi(APIView):
    """The finished file: served with a fixed content type as an attachment (local storage), or a redirect to a
    short-lived signed URL (cloud storage). Access is checked and audited on every download."""

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    def get(self, request: Request, export_id: str) -> HttpResponseBase:
        actor = request_user(request)
        export = access_export(actor, export_id)
        if export.status != ExportStatus.SUCCEEDED or not export.file_name:
            raise Conflict("The export is not finished.", code="export_not_ready", details={"status": export.status})
        services.export_download_record(actor=actor, export=export)
        filename = export.file_name.rsplit("/", 1)[-1]
        content_type = services.CONTENT_TYPES[export.format]
        try:
            default_storage.path(export.file_name)
        except NotImplementedError:
            url = default_storage.url(  # type: ignore[call-arg]  # S3Storage.url takes these
                export.file_name,
                parameters={
                    "ResponseContentDisposition": f'attachment; filename="{filename}"',
                    "ResponseContentType": content_type,
                },
                expire=300,
            )
            return HttpResponseRedirect(url)
        response = FileResponse(
            default_storage.open(export.file_name, "rb"),
            as_attachment=True,
            filename=filename,
            content_type=content_type,
        )
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, no-store"
        return response


class ExportNdjsonSchemaApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request) -> Response:
        return Response(NDJSON_LINE_SCHEMA)


class ProjectCocoGroundTruthApi(APIView):
    """`POST /projects/{id}/ground_truth/coco`: a COCO instances file (JSON body) stored as the project's labels."""

    @extend_schema(request=OpenApiTypes.OBJECT, responses={200: OpenApiTypes.OBJECT})
    def post(self, request: Request, project_id: str) -> Response:
        actor = request_user(request)
        project = access_project(actor, project_id, "manage")
        return Response(coco_ground_truth.ground_truth_import_coco(actor=actor, project=project, body=request.data))
