"""Core API: background job status and the audit trail."""

from __future__ import annotations

import uuid

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.access import require_org_perm
from apps.accounts.roles import VIEW_AUDIT
from apps.core.access import get_in_organization
from apps.core.errors import ValidationFailed
from apps.core.models import Job
from apps.core.pagination import CursorPagination
from apps.core.selectors import audit_events_visible_to


class JobOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    kind = serializers.CharField()
    status = serializers.CharField()
    progress = serializers.SerializerMethodField()
    result = serializers.JSONField()
    error = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)

    def get_progress(self, job: Job) -> dict[str, int]:
        return {"done": job.progress_done, "total": job.progress_total}


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


def _parse_time(value: str | None, name: str):  # type: ignore[no-untyped-def]
    if not value:
        return None
    try:
        parsed = parse_datetime(value)
    except (ValueError, DjangoValidationError):
        parsed = None
    if parsed is None:
        raise ValidationFailed(f"{name} must be an ISO 8601 timestamp.", details={name: ["Invalid timestamp."]})
    return parsed


class AuditEventListApi(APIView):
    pagination_class = CursorPagination  # the schema documents the GET list as pages

    @extend_schema(
        parameters=[
            OpenApiParameter("action", str),
            OpenApiParameter("actor", str),
            OpenApiParameter("object_id", str),
            OpenApiParameter("from", str),
            OpenApiParameter("to", str),
        ],
        responses=AuditEventOutputSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        require_org_perm(request.user, VIEW_AUDIT, "Only organization admins may read the audit trail.")  # type: ignore[arg-type]
        params = request.query_params
        actor_id = params.get("actor")
        if actor_id:
            try:
                uuid.UUID(actor_id)
            except ValueError:
                raise ValidationFailed("actor must be a user id.", details={"actor": ["Not a UUID."]}) from None
        queryset = audit_events_visible_to(
            actor=request.user,  # type: ignore[arg-type]
            action=params.get("action"),
            actor_id=actor_id,
            object_id=params.get("object_id"),
            since=_parse_time(params.get("from"), "from"),
            until=_parse_time(params.get("to"), "to"),
        )
        paginator = CursorPagination()
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response(AuditEventOutputSerializer(page, many=True).data)
