"""Datasets REST API. Thin: parse → access → service/selector → serialize.

The import endpoint reads the request body itself, as a stream (no DRF parser): JSON array, NDJSON or CSV.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import HttpResponse, HttpResponseRedirect, QueryDict
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiTypes,
    extend_schema,
    extend_schema_serializer,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.access import request_user
from apps.core.errors import ApplicationError, NotFound, PayloadTooLarge, ValidationFailed
from apps.core.pagination import CursorPagination
from apps.core.serializers import StrictSerializer
from apps.datasets import selectors, services, storage_imports
from apps.datasets.access import (
    access_data_row,
    access_dataset,
    access_storage_integration,
    access_storage_integration_for_import,
    require_manage_datasets,
    require_manage_storage,
)
from apps.datasets.domain.streams import FORMATS
from apps.datasets.http_content import inline_text_response, safe_headers, stored_file_response
from apps.datasets.models import DataRow, MetadataKind, StorageIntegration


class UnsupportedMediaType(ApplicationError):
    status_code = 415
    code = "unsupported_media_type"
    default_message = "Unsupported content type."


# --- serializers ------------------------------------------------------------------------------------------------


class DatasetOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    description = serializers.CharField()
    row_count = serializers.IntegerField()
    # False when `row_count` is the database's estimate (datasets of more than 10,000 rows; 1,000 in lists).
    row_count_exact = serializers.BooleanField(default=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class AttachmentSerializer(serializers.Serializer):
    type = serializers.CharField()
    value = serializers.CharField()
    name = serializers.CharField()


class DataRowOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    dataset = serializers.UUIDField(source="dataset_id")
    global_key = serializers.CharField()
    external_id = serializers.CharField()
    row_data = serializers.CharField()
    media_type = serializers.CharField()
    width = serializers.IntegerField(allow_null=True)
    height = serializers.IntegerField(allow_null=True)
    metadata = serializers.JSONField()
    attachments = AttachmentSerializer(many=True, source="attachments.all")
    content_url = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_content_url(self, row: DataRow) -> str:
        return f"/api/v1/data_rows/{row.id}/content"


class MetadataFieldOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    kind = serializers.CharField()
    options = serializers.JSONField()
    created_at = serializers.DateTimeField()


class StorageIntegrationOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    provider = serializers.CharField()
    bucket = serializers.CharField()
    region = serializers.CharField()
    role_arn = serializers.CharField()
    external_id = serializers.CharField()
    endpoint_url = serializers.CharField()
    last_validated_at = serializers.DateTimeField(allow_null=True)
    last_validation_ok = serializers.BooleanField(allow_null=True)
    last_validation_message = serializers.CharField()
    created_at = serializers.DateTimeField()


ImportResultSerializer = inline_serializer(
    "DataRowImportResult",
    {
        "created": serializers.IntegerField(),
        "updated": serializers.IntegerField(),
        "failed": serializers.IntegerField(),
        "errors": serializers.ListField(child=serializers.DictField()),
        "errors_truncated": serializers.BooleanField(),
    },
)
JobRefSerializer = inline_serializer("JobRef", {"job": serializers.UUIDField()})


# --- datasets ---------------------------------------------------------------------------------------------------


class DatasetListCreateApi(APIView):
    pagination_class = CursorPagination  # the schema documents the GET list as pages

    @extend_schema_serializer(component_name="DatasetCreateInput")
    class InputSerializer(StrictSerializer):
        name = serializers.CharField(max_length=200)
        description = serializers.CharField(required=False, allow_blank=True, default="", max_length=10000)

    @extend_schema(responses=DatasetOutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        queryset = selectors.datasets_visible_to(actor=request_user(request))
        paginator = CursorPagination()
        page = selectors.with_row_counts(paginator.paginate_queryset(queryset, request, view=self) or [])
        return paginator.get_paginated_response(DatasetOutputSerializer(page, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: DatasetOutputSerializer})
    def post(self, request: Request) -> Response:
        actor = request_user(request)
        require_manage_datasets(actor)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        dataset = services.dataset_create(actor=actor, **data.validated_data)
        dataset.row_count = 0  # type: ignore[attr-defined]
        return Response(DatasetOutputSerializer(dataset).data, status=status.HTTP_201_CREATED)


class DatasetDetailApi(APIView):
    @extend_schema_serializer(component_name="DatasetUpdateInput")
    class InputSerializer(StrictSerializer):
        name = serializers.CharField(max_length=200, required=False)
        description = serializers.CharField(required=False, allow_blank=True, max_length=10000)

    @extend_schema(responses=DatasetOutputSerializer)
    def get(self, request: Request, dataset_id: str) -> Response:
        dataset = access_dataset(request_user(request), dataset_id)
        selectors.with_row_counts([dataset], limit=selectors.EXACT_UP_TO)
        return Response(DatasetOutputSerializer(dataset).data)

    @extend_schema(request=InputSerializer, responses=DatasetOutputSerializer)
    def patch(self, request: Request, dataset_id: str) -> Response:
        actor = request_user(request)
        dataset = access_dataset(actor, dataset_id, manage=True)
        data = self.InputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        dataset = services.dataset_update(actor=actor, dataset=dataset, **data.validated_data)
        selectors.with_row_counts([dataset], limit=selectors.EXACT_UP_TO)
        return Response(DatasetOutputSerializer(dataset).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, dataset_id: str) -> Response:
        actor = request_user(request)
        services.dataset_delete(actor=actor, dataset=access_dataset(actor, dataset_id, manage=True))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- metadata fields --------------------------------------------------------------------------------------------


class MetadataFieldListCreateApi(APIView):
    pagination_class = CursorPagination  # the schema documents the GET list as pages

    @extend_schema_serializer(component_name="MetadataFieldCreateInput")
    class InputSerializer(StrictSerializer):
        name = serializers.CharField(max_length=100)
        kind = serializers.ChoiceField(choices=MetadataKind.choices)
        options = serializers.ListField(child=serializers.JSONField(), required=False, default=list)

    @extend_schema(responses=MetadataFieldOutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        queryset = selectors.metadata_fields_visible_to(actor=request_user(request))
        paginator = CursorPagination()
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response(MetadataFieldOutputSerializer(page, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: MetadataFieldOutputSerializer})
    def post(self, request: Request) -> Response:
        actor = request_user(request)
        require_manage_datasets(actor)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        field = services.metadata_field_create(actor=actor, **data.validated_data)
        return Response(MetadataFieldOutputSerializer(field).data, status=status.HTTP_201_CREATED)


# --- data rows --------------------------------------------------------------------------------------------------


def _import_format(request: Request) -> str:
    raw = request.META.get("CONTENT_TYPE", "")
    media_type, _, params = raw.partition(";")
    fmt = FORMATS.get(media_type.strip().lower())
    if fmt is None:
        raise UnsupportedMediaType(
            f"Send the rows as application/json (an array), application/x-ndjson or text/csv, not {raw[:100]!r}.",
            details={"accepted": sorted(FORMATS)},
        )
    for param in params.split(";"):
        key, _, value = param.strip().partition("=")
        if key.lower() == "charset" and value.strip().strip('"').lower() not in ("utf-8", "utf8"):
            raise UnsupportedMediaType("Import bodies must be UTF-8.", code="unsupported_charset")
    return fmt


def _content_length(request: Request) -> int | None:
    raw = request.META.get("CONTENT_LENGTH") or ""
    try:
        return int(raw) if raw else None
    except ValueError:
        raise ValidationFailed("Invalid Content-Length header.") from None


_list_params = [
    OpenApiParameter("media_type", str, enum=["image", "text", "video"]),
    OpenApiParameter("global_key", str),
    OpenApiParameter("external_id", str),
    OpenApiParameter("created_after", OpenApiTypes.DATETIME),
    OpenApiParameter("created_before", OpenApiTypes.DATETIME),
    OpenApiParameter("metadata.<field>", str, description="exact match on a metadata field, typed by its kind"),
]


class DataRowListImportApi(APIView):
    pagination_class = CursorPagination  # the schema documents the GET list as pages
    parser_classes: list[type] = []  # the body is read as a stream by `post`

    @extend_schema(parameters=_list_params, responses=DataRowOutputSerializer(many=True))
    def get(self, request: Request, dataset_id: str) -> Response:
        actor = request_user(request)
        dataset = access_dataset(actor, dataset_id)
        queryset = selectors.data_rows_visible_to(actor=actor, dataset=dataset, params=request.query_params)
        paginator = CursorPagination()
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response(DataRowOutputSerializer(page, many=True).data)

    @extend_schema(
        request={
            "application/json": {"type": "array", "items": {"type": "object"}},
            "application/x-ndjson": {"type": "string"},
            "text/csv": {"type": "string"},
        },
        responses={200: ImportResultSerializer, 202: JobRefSerializer},
    )
    def post(self, request: Request, dataset_id: str) -> Response:
        actor = request_user(request)
        dataset = access_dataset(actor, dataset_id, manage=True)
        fmt = _import_format(request)
        limit = settings.TDP_MAX_IMPORT_BYTES
        length = _content_length(request)
        if length is not None and length > limit:
            raise PayloadTooLarge(
                f"The import body is larger than the limit of {limit} bytes.", details={"limit": limit}
            )
        if not length:
            raise ValidationFailed("The request body is empty (a Content-Length is required).", code="empty_body")
        stream = request._request
        if length > settings.TDP_IMPORT_SYNC_MAX_BYTES:
            job = services.data_rows_import_enqueue(actor=actor, dataset=dataset, fmt=fmt, stream=stream)
            return Response({"job": str(job.pk)}, status=status.HTTP_202_ACCEPTED)
        result = services.data_rows_import(
            actor=actor, dataset=dataset, fmt=fmt, chunks=services.iter_chunks(stream, limit=limit)
        )
        return Response(result, status=status.HTTP_200_OK)


class DataRowUploadApi(APIView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        request={
            "multipart/form-data": {
                "type": "object",
                "properties": {
                    "files": {"type": "array", "items": {"type": "string", "format": "binary"}},
                    "global_key": {"type": "array", "items": {"type": "string"}},
                    "media_type": {"type": "string", "enum": ["image", "text", "video"]},
                },
            }
        },
        responses={201: ImportResultSerializer},
    )
    def post(self, request: Request, dataset_id: str) -> Response:
        actor = request_user(request)
        dataset = access_dataset(actor, dataset_id, manage=True)
        limit = settings.TDP_MAX_UPLOAD_FILE_BYTES * settings.TDP_MAX_UPLOAD_FILES
        length = _content_length(request)
        if length is not None and length > limit:
            raise PayloadTooLarge(f"The upload is larger than the limit of {limit} bytes.", details={"limit": limit})
        try:
            files = request.FILES.getlist("files")
            data = request.data
        except (SuspiciousOperation, RequestDataTooBig) as exc:
            raise PayloadTooLarge(
                f"Too many files or fields (at most {settings.TDP_MAX_UPLOAD_FILES} files per request)."
            ) from exc
        unknown = set(data.keys()) - {"files", "global_key", "media_type"}
        if unknown:
            raise ValidationFailed("Unknown fields.", details={k: ["Unknown field."] for k in sorted(unknown)})
        result = services.data_rows_upload(
            actor=actor,
            dataset=dataset,
            files=[services.UploadedFile(name=f.name or "file", file=f, size=f.size or 0) for f in files],
            # A body that is not multipart (or none) parses to a plain dict: no files, no keys.
            global_keys=(data.getlist("global_key") if isinstance(data, QueryDict) else []) or None,
            media_type=data.get("media_type") or "image",
        )
        return Response(result, status=status.HTTP_201_CREATED)


class DataRowFromStorageApi(APIView):
    """Rows from the objects under a prefix of a storage integration's bucket (one row per key)."""

    @extend_schema_serializer(component_name="DataRowFromStorageInput")
    class InputSerializer(StrictSerializer):
        integration = serializers.UUIDField()
        prefix = serializers.CharField(max_length=1024, required=False, allow_blank=True, default="")
        media_type = serializers.ChoiceField(choices=["image", "text", "video"], default="image")
        max_keys = serializers.IntegerField(
            min_value=1, max_value=storage_imports.MAX_KEYS, default=storage_imports.DEFAULT_MAX_KEYS
        )

    @extend_schema(
        request=InputSerializer,
        responses=inline_serializer(
            "DataRowFromStorageResult",
            {
                "created": serializers.IntegerField(),
                "updated": serializers.IntegerField(),
                "failed": serializers.IntegerField(),
                "errors": serializers.ListField(child=serializers.DictField()),
                "errors_truncated": serializers.BooleanField(),
                "listed": serializers.IntegerField(),
                "skipped": serializers.IntegerField(),
                "truncated": serializers.BooleanField(),
                "global_keys": serializers.ListField(child=serializers.CharField()),
            },
        ),
    )
    def post(self, request: Request, dataset_id: str) -> Response:
        actor = request_user(request)
        dataset = access_dataset(actor, dataset_id, manage=True)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        integration = access_storage_integration_for_import(actor, data.validated_data["integration"])
        result = storage_imports.data_rows_import_from_bucket(
            actor=actor,
            dataset=dataset,
            integration=integration,
            prefix=data.validated_data["prefix"],
            media_type=data.validated_data["media_type"],
            max_keys=data.validated_data["max_keys"],
        )
        return Response(result)


class DataRowSearchApi(APIView):
    pagination_class = CursorPagination  # the schema documents the GET list as pages

    @extend_schema(
        parameters=[OpenApiParameter("dataset", OpenApiTypes.UUID), *_list_params],
        responses=DataRowOutputSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        queryset = selectors.data_rows_visible_to(actor=request_user(request), params=request.query_params)
        paginator = CursorPagination()
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response(DataRowOutputSerializer(page, many=True).data)


class DataRowDetailApi(APIView):
    @extend_schema(responses=DataRowOutputSerializer)
    def get(self, request: Request, data_row_id: str) -> Response:
        return Response(DataRowOutputSerializer(access_data_row(request_user(request), data_row_id)).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, data_row_id: str) -> Response:
        actor = request_user(request)
        services.data_row_delete(actor=actor, data_row=access_data_row(actor, data_row_id, manage=True))
        return Response(status=status.HTTP_204_NO_CONTENT)


class DataRowContentApi(APIView):
    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY, 302: None})
    def get(self, request: Request, data_row_id: str) -> HttpResponse | Any:
        actor = request_user(request)
        data_row = access_data_row(actor, data_row_id)
        content = services.data_row_content(actor=actor, data_row=data_row)
        if content.kind == "redirect":
            response = safe_headers(HttpResponseRedirect(content.value))
            response["Cache-Control"] = "no-store"  # a signed URL must not outlive its audit trail in caches
            response["Referrer-Policy"] = "no-referrer"
            return response
        if content.kind == "file":
            try:
                return stored_file_response(content.value, content.media_type)
            except FileNotFoundError:  # removed between the check and the read
                raise NotFound(
                    "The uploaded file of this data row is missing from storage.", code="content_missing"
                ) from None
        return inline_text_response(content.value)


# --- storage integrations ---------------------------------------------------------------------------------------


class StorageIntegrationListCreateApi(APIView):
    pagination_class = CursorPagination  # the schema documents the GET list as pages

    @extend_schema_serializer(component_name="StorageIntegrationCreateInput")
    class InputSerializer(StrictSerializer):
        name = serializers.CharField(max_length=200)
        provider = serializers.ChoiceField(choices=StorageIntegration.Provider.choices, default="aws")
        bucket = serializers.CharField(max_length=63)
        region = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
        role_arn = serializers.CharField(max_length=2048)
        endpoint_url = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")

    @extend_schema(responses=StorageIntegrationOutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        actor = request_user(request)
        require_manage_storage(actor)
        paginator = CursorPagination()
        page = paginator.paginate_queryset(selectors.storage_integrations_visible_to(actor=actor), request, view=self)
        return paginator.get_paginated_response(StorageIntegrationOutputSerializer(page, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: StorageIntegrationOutputSerializer})
    def post(self, request: Request) -> Response:
        actor = request_user(request)
        require_manage_storage(actor)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        integration = services.storage_integration_create(actor=actor, **data.validated_data)
        return Response(StorageIntegrationOutputSerializer(integration).data, status=status.HTTP_201_CREATED)


class StorageIntegrationDetailApi(APIView):
    @extend_schema_serializer(component_name="StorageIntegrationEndpointInput")
    class InputSerializer(StrictSerializer):
        endpoint_url = serializers.CharField(max_length=500, allow_blank=True)

    @extend_schema(responses=StorageIntegrationOutputSerializer)
    def get(self, request: Request, integration_id: str) -> Response:
        integration = access_storage_integration(request_user(request), integration_id)
        return Response(StorageIntegrationOutputSerializer(integration).data)

    @extend_schema(request=InputSerializer, responses=StorageIntegrationOutputSerializer)
    def patch(self, request: Request, integration_id: str) -> Response:
        """Superusers only: set a custom S3 API endpoint (checked against private/loopback/link-local)."""
        actor = request_user(request)
        integration = access_storage_integration(actor, integration_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        integration = services.storage_integration_set_endpoint(
            actor=actor, integration=integration, endpoint_url=data.validated_data["endpoint_url"]
        )
        return Response(StorageIntegrationOutputSerializer(integration).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, integration_id: str) -> Response:
        actor = request_user(request)
        integration = access_storage_integration(actor, integration_id)
        services.storage_integration_delete(actor=actor, integration=integration)
        return Response(status=status.HTTP_204_NO_CONTENT)


class StorageIntegrationValidateApi(APIView):
    @extend_schema(request=None, responses=StorageIntegrationOutputSerializer)
    def post(self, request: Request, integration_id: str) -> Response:
        actor = request_user(request)
        integration = access_storage_integration(actor, integration_id)
        integration = services.storage_integration_validate(actor=actor, integration=integration)
        return Response(StorageIntegrationOutputSerializer(integration).data)
