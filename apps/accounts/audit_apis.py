"""The organization's background job status and audit trail over HTTP (the models and `audit_record` are core's;
the role checks are this app's, so the endpoints live here: core never imports accounts)."""

from __future__ import annotations

import csv
import json
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.access import request_user, require_org_perm
from apps.accounts.roles import VIEW_AUDIT
from apps.core.access import get_in_organization
from apps.core.audit import audit_record
from apps.core.domain.csv_cells import csv_safe
from apps.core.errors import ValidationFailed
from apps.core.models import AuditEvent, Job
from apps.core.pagination import CursorPagination
from apps.core.public_url import absolute_links
from apps.core.selectors import audit_events_visible_to


class JobOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    kind = serializers.CharField()
    status = serializers.CharField()
    progress = serializers.SerializerMethodField()
    result = serializers.SerializerMethodField()
    error = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)

    def get_progress(self, job: Job) -> dict[str, int]:
        return {"done": job.progress_done, "total": job.progress_total}

    @extend_schema_field(serializers.JSONField())
    def get_result(self, job: Job) -> Any:
        return absolute_links(job.result)


class JobDetailApi(APIView):
    @extend_schema(responses=JobOutputSerializer)
    def get(self, request: Request, job_id: str) -> Response:
        job = get_in_organization(Job.objects.all(), request.user, job_id)  # type: ignore[arg-type]
        if job.created_by_id != request.user.pk:
            require_org_perm(request.user, VIEW_AUDIT, "Only the job's creator or an admin may read it.")  # type: ignore[arg-type]
        return Response(JobOutputSerializer(job).data)


class AuditEventOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    created_at = serializers.DateTimeField()
    action = serializers.CharField()
    actor = serializers.SerializerMethodField()
    object_type = serializers.CharField()
    object_id = serializers.CharField()
    object_repr = serializers.CharField()
    ip = serializers.IPAddressField(allow_null=True)
    user_agent = serializers.CharField()
    extra = serializers.JSONField()

    def get_actor(self, event) -> dict[str, str] | None:  # type: ignore[no-untyped-def]
        if event.actor is None:
            return None
        return {"id": str(event.actor.id), "username": event.actor.username}


def _parse_time(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parse_datetime(value)
    except (ValueError, DjangoValidationError):
        parsed = None
    if parsed is None:
        raise ValidationFailed(f"{name} must be an ISO 8601 timestamp.", details={name: ["Invalid timestamp."]})
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


AUDIT_FILTERS = ("actor", "action", "object_type", "object_id", "from", "to")
_AUDIT_PARAMETERS = [
    OpenApiParameter("actor", str, description="User id."),
    OpenApiParameter("action", str, description="e.g. auth.login_failed, data_row.content_accessed."),
    OpenApiParameter("object_type", str, description="app_label.model, e.g. datasets.datarow."),
    OpenApiParameter("object_id", str),
    OpenApiParameter("from", str, description="ISO 8601, inclusive."),
    OpenApiParameter("to", str, description="ISO 8601, exclusive."),
]


def _filtered_audit_events(request: Request, *, paged: bool) -> QuerySet[AuditEvent]:
    """The caller's organization's events, filtered by the allow-listed parameters only (anything else: 400)."""
    actor = request_user(request)
    require_org_perm(actor, VIEW_AUDIT, "Only organization admins may read the audit trail.")
    params = request.query_params
    unknown = set(params) - set(AUDIT_FILTERS) - ({"cursor", "page_size"} if paged else set())
    if unknown:
        raise ValidationFailed("Unknown parameter.", details={name: ["Not a filter here."] for name in sorted(unknown)})
    actor_id = params.get("actor")
    if actor_id:
        try:
            uuid.UUID(actor_id)
        except ValueError:
            raise ValidationFailed("actor must be a user id.", details={"actor": ["Not a UUID."]}) from None
    for name in ("action", "object_type", "object_id"):
        if len(params.get(name, "")) > 100:
            raise ValidationFailed(f"{name} is too long.", details={name: ["At most 100 characters."]})
    return audit_events_visible_to(
        actor=actor,
        action=params.get("action"),
        actor_id=actor_id,
        object_id=params.get("object_id"),
        object_type=params.get("object_type"),
        since=_parse_time(params.get("from"), "from"),
        until=_parse_time(params.get("to"), "to"),
    )


class AuditEventListApi(APIView):
    pagination_class = CursorPagination  # the schema documents the GET list as pages

    @extend_schema(parameters=_AUDIT_PARAMETERS, responses=AuditEventOutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        queryset = _filtered_audit_events(request, paged=True)
        paginator = CursorPagination()
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response(AuditEventOutputSerializer(page, many=True).data)


class _Echo:
    def write(self, value: str) -> str:
        return value


AUDIT_CSV_COLUMNS = (
    "created_at",
    "action",
    "actor_id",
    "actor",
    "object_type",
    "object_id",
    "object_repr",
    "ip",
    "user_agent",
    "extra",
)


def audit_csv_lines(events: Iterable[AuditEvent]) -> Iterator[str]:
    """CSV lines, every text cell neutralised against spreadsheet formulas (`csv_safe`)."""
    writer = csv.writer(_Echo())
    yield writer.writerow(AUDIT_CSV_COLUMNS)
    for event in events:
        row = [
            event.created_at.isoformat(),
            event.action,
            str(event.actor_id or ""),
            event.actor.username if event.actor is not None else "",
            event.object_type,
            event.object_id,
            event.object_repr,
            event.ip or "",
            event.user_agent,
            json.dumps(event.extra, sort_keys=True, default=str),
        ]
        yield writer.writerow([csv_safe(cell) for cell in row])


class AuditEventCsvApi(APIView):
    """The filtered trail as a streamed CSV (no page limit). The export itself is audited."""

    @extend_schema(parameters=_AUDIT_PARAMETERS, responses={(200, "text/csv"): str})
    def get(self, request: Request) -> StreamingHttpResponse:
        queryset = _filtered_audit_events(request, paged=False)
        audit_record(
            action="audit_events.exported",
            actor=request_user(request),
            extra={name: request.query_params[name] for name in AUDIT_FILTERS if name in request.query_params},
        )
        events = queryset.order_by("-created_at", "-id").iterator(chunk_size=2000)
        response = StreamingHttpResponse(audit_csv_lines(events), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="audit-events.csv"'
        response["Cache-Control"] = "no-store"
        return response
