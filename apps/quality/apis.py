"""Quality REST API (API.md "Quality"): benchmark references, the project summary, one row's consensus; plus the
lowest-agreement rows and a full recompute."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.access import request_user
from apps.core.errors import NotFound, ValidationFailed
from apps.core.ids import is_uuid
from apps.core.pagination import CursorPagination
from apps.labeling.access import access_label, access_project
from apps.quality import selectors, services
from apps.quality.models import BenchmarkReference
from apps.quality.serialization import serialize_consensus

_LABELER = inline_serializer(
    "QualityByLabeler",
    {
        "user": serializers.UUIDField(),
        "username": serializers.CharField(),
        "mean": serializers.FloatField(),
        "n": serializers.IntegerField(),
        "trend": serializers.FloatField(allow_null=True),
        "below_threshold": serializers.BooleanField(),
    },
    many=True,
)
_FEATURE = inline_serializer(
    "QualityByFeature",
    {
        "schema_id": serializers.CharField(),
        "name": serializers.CharField(),
        "mean": serializers.FloatField(),
        "n": serializers.IntegerField(),
    },
    many=True,
)


def _block(name: str, extra: dict[str, Any]) -> Any:
    return inline_serializer(
        name,
        {
            "mean": serializers.FloatField(allow_null=True),
            "rows": serializers.IntegerField(),
            "threshold": serializers.FloatField(allow_null=True),
            "by_labeler": _LABELER,
            "by_feature": _FEATURE,
            "histogram": serializers.ListField(child=serializers.IntegerField()),
            **extra,
        },
    )


def serialize_reference(reference: BenchmarkReference) -> dict[str, Any]:
    return {
        "id": str(reference.id),
        "project": str(reference.project_id),
        "data_row": str(reference.data_row_id),
        "label": str(reference.label_id),
        "created_by": str(reference.created_by_id) if reference.created_by_id else None,
        "created_at": reference.created_at.isoformat(),
    }


_CONSENSUS = inline_serializer(
    "RowConsensus",
    {
        "data_row": serializers.UUIDField(),
        "score": serializers.FloatField(),
        "winner": serializers.UUIDField(allow_null=True),
        "labels": inline_serializer(
            "RowConsensusLabel",
            {
                "label": serializers.UUIDField(),
                "labeler": serializers.UUIDField(),
                "agreement": serializers.FloatField(),
            },
            many=True,
        ),
        "features": serializers.DictField(child=serializers.FloatField()),
        "label_count": serializers.IntegerField(),
        "complete": serializers.BooleanField(),
        "flagged": serializers.BooleanField(),
        "computed_at": serializers.DateTimeField(),
    },
)
_REFERENCE = inline_serializer(
    "BenchmarkReference",
    {
        "id": serializers.UUIDField(),
        "project": serializers.UUIDField(),
        "data_row": serializers.UUIDField(),
        "label": serializers.UUIDField(),
        "created_by": serializers.UUIDField(allow_null=True),
        "created_at": serializers.DateTimeField(),
    },
)


class LabelBenchmarkApi(APIView):
    @extend_schema(request=None, responses={201: _REFERENCE})
    def post(self, request: Request, label_id: str) -> Response:
        actor = request_user(request)
        label = access_label(actor, label_id, "manage")
        reference = services.benchmark_set(actor=actor, label=label)
        return Response(serialize_reference(reference), status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, label_id: str) -> Response:
        actor = request_user(request)
        label = access_label(actor, label_id, "manage")
        services.benchmark_unset(actor=actor, label=label)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ProjectQualityApi(APIView):
    @extend_schema(
        responses=inline_serializer(
            "ProjectQuality",
            {
                "consensus": _block("ProjectConsensusQuality", {"flagged_rows": serializers.IntegerField()}),
                "benchmark": _block("ProjectBenchmarkQuality", {"references": serializers.IntegerField()}),
            },
        )
    )
    def get(self, request: Request, project_id: str) -> Response:
        project = access_project(request_user(request), project_id, "view_work")
        return Response(selectors.project_quality(project=project))


class RowConsensusApi(APIView):
    @extend_schema(responses=_CONSENSUS)
    def get(self, request: Request, project_id: str, data_row_id: str) -> Response:
        project = access_project(request_user(request), project_id, "view_work")
        row = selectors.row_consensus(project=project, data_row_id=data_row_id) if is_uuid(data_row_id) else None
        if row is None:
            raise NotFound(
                "No consensus score for this data row in this project (it needs at least two labels).",
                code="not_scored",
            )
        return Response(serialize_consensus(row))


class ConsensusRowsApi(APIView):
    pagination_class = CursorPagination  # the schema documents the GET list as pages

    @extend_schema(
        parameters=[OpenApiParameter("flagged", bool, description="only rows under (true) or over the threshold")],
        responses=_CONSENSUS.__class__(many=True),
    )
    def get(self, request: Request, project_id: str) -> Response:
        project = access_project(request_user(request), project_id, "view_work")
        raw = request.query_params.get("flagged")
        if raw not in (None, "true", "false"):
            raise ValidationFailed("Invalid filter.", details={"flagged": ["true or false."]})
        flagged = None if raw is None else raw == "true"
        paginator = CursorPagination()
        paginator.ordering = ("score", "id")
        page = paginator.paginate_queryset(selectors.consensus_rows(project=project, flagged=flagged), request, self)
        return paginator.get_paginated_response([serialize_consensus(row) for row in page or []])


class ProjectQualityRecomputeApi(APIView):
    @extend_schema(
        request=None, responses={202: inline_serializer("QualityRecomputeJob", {"job": serializers.UUIDField()})}
    )
    def post(self, request: Request, project_id: str) -> Response:
        actor = request_user(request)
        project = access_project(actor, project_id, "manage")
        job = services.project_recompute(actor=actor, project=project)
        return Response({"job": str(job.id)}, status=status.HTTP_202_ACCEPTED)
