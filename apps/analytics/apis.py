"""Analytics REST API: `GET /api/v1/projects/{id}/performance` (JSON or CSV) and the summary with the projection."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any

from django.http import StreamingHttpResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.access import request_user
from apps.analytics import selectors
from apps.analytics.access import access_performance
from apps.core.domain.csv_cells import csv_safe
from apps.core.errors import ValidationFailed

_PARAMS = [
    OpenApiParameter("group_by", str, enum=list(selectors.GROUPS)),
    OpenApiParameter("from", str, description="ISO date or datetime (inclusive)"),
    OpenApiParameter("to", str, description="ISO date (inclusive) or datetime (exclusive)"),
]


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_rows(rows: list[dict[str, Any]]) -> Iterator[str]:
    """CSV lines of the rows (columns of the first row), every text cell neutralised against formulas."""
    writer = csv.writer(_Echo())
    columns = list(rows[0]) if rows else ["key"]
    yield writer.writerow(columns)
    for row in rows:
        yield writer.writerow([csv_safe(row.get(column)) for column in columns])


def _query(request: Request, project_id: str) -> tuple[Any, Any, str, selectors.Range]:
    actor = request_user(request)
    project, only = access_performance(actor, project_id)
    params = request.query_params
    unknown = set(params) - {"group_by", "from", "to"}
    if unknown:
        raise ValidationFailed("Unknown parameter.", details={name: ["Not a filter here."] for name in sorted(unknown)})
    window = selectors.parse_range(params.get("from"), params.get("to"))
    return project, only, params.get("group_by", "labeler"), window


class ProjectPerformanceApi(APIView):
    @extend_schema(
        parameters=_PARAMS,
        responses=inline_serializer(
            "ProjectPerformance",
            {
                "group_by": serializers.ChoiceField(choices=list(selectors.GROUPS)),
                "from": serializers.DateTimeField(allow_null=True),
                "to": serializers.DateTimeField(allow_null=True),
                "scope": serializers.ChoiceField(choices=["project", "self"]),
                "median_method": serializers.ChoiceField(choices=["exact", "histogram"]),
                "summary": serializers.DictField(),
                "rows": serializers.ListField(child=serializers.DictField()),
            },
        ),
    )
    def get(self, request: Request, project_id: str) -> Response:
        project, only, group_by, window = _query(request, project_id)
        rows = selectors.performance(project=project, group_by=group_by, window=window, only=only)
        summary = selectors.summary(
            project=project, window=window, only=only, people=rows if group_by == "labeler" else None
        )
        return Response(
            {
                "group_by": group_by,
                "from": window.start.isoformat() if window.start else None,
                "to": window.end.isoformat() if window.end else None,
                "scope": "self" if only is not None else "project",
                "median_method": summary["median_method"],
                "summary": summary,
                "rows": rows,
            }
        )


class ProjectPerformanceCsvApi(APIView):
    @extend_schema(parameters=_PARAMS, responses={(200, "text/csv"): str})
    def get(self, request: Request, project_id: str) -> StreamingHttpResponse:
        project, only, group_by, window = _query(request, project_id)
        table = selectors.performance_table(project=project, group_by=group_by, window=window, only=only)
        response = StreamingHttpResponse(csv_rows(table.rows), content_type="text/csv; charset=utf-8")
        if table.median_method is not None:
            response["X-Median-Method"] = table.median_method
        response["Content-Disposition"] = f'attachment; filename="performance-{group_by}.csv"'
        response["X-Content-Type-Options"] = "nosniff"
        return response
