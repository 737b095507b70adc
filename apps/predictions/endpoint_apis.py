"""Model endpoints REST API (docs/model-endpoints.md): list, create, read, change, delete, check; a project's
automatic pre-label progress; the signed media URLs model servers fetch rows from. The secret is write-only: no
answer carries it (`has_secret` says whether one is set)."""

from __future__ import annotations

from typing import Any

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.access import request_user
from apps.core.errors import NotFound, ValidationFailed
from apps.core.pagination import CursorPagination
from apps.core.serializers import StrictSerializer
from apps.datasets.models import DataRow
from apps.labeling.access import access_project, access_task
from apps.ontologies.access import access_ontology
from apps.predictions import selectors
from apps.predictions.access import access_model_endpoint, endpoints_visible_to
from apps.predictions.models import EndpointKind, EndpointProtocol, ModelEndpoint
from apps.predictions.services import assist, endpoint_client, endpoints, prelabeling, retraining


class EndpointOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    url = serializers.CharField()
    kind = serializers.CharField()
    protocol = serializers.CharField()
    ontology = serializers.UUIDField(source="ontology_id", allow_null=True)
    class_map = serializers.DictField(child=serializers.CharField())
    secret_header = serializers.CharField()
    has_secret = serializers.BooleanField()
    timeout_seconds = serializers.FloatField()
    batch_size = serializers.IntegerField()
    max_concurrency = serializers.IntegerField()
    model = serializers.UUIDField(source="model_id", allow_null=True)
    model_version = serializers.CharField()
    circuit = serializers.CharField()
    last_check = serializers.DictField()
    last_checked_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()


class EndpointInputSerializer(StrictSerializer):
    name = serializers.CharField(max_length=200)
    url = serializers.CharField(max_length=2048)
    kind = serializers.ChoiceField(choices=EndpointKind.choices, default=EndpointKind.DETECTOR)
    protocol = serializers.ChoiceField(choices=EndpointProtocol.choices, default=EndpointProtocol.TDP)
    ontology = serializers.UUIDField(required=False, allow_null=True)
    class_map = serializers.DictField(child=serializers.CharField(max_length=200), required=False)
    secret = serializers.CharField(
        required=False, allow_blank=True, max_length=4096, write_only=True, trim_whitespace=False
    )
    secret_header = serializers.CharField(required=False, max_length=100)
    timeout_seconds = serializers.FloatField(required=False)
    batch_size = serializers.IntegerField(required=False)
    max_concurrency = serializers.IntegerField(required=False)


def _values(request: Request, *, partial: bool) -> dict[str, Any]:
    data = EndpointInputSerializer(data=request.data, partial=partial)
    data.is_valid(raise_exception=True)
    values = dict(data.validated_data)
    if partial:
        values = {k: v for k, v in values.items() if k in request.data}
    if values.get("ontology") is not None:
        values["ontology"] = access_ontology(request_user(request), values["ontology"])
    return values


class ModelEndpointListCreateApi(APIView):
    pagination_class = CursorPagination

    @extend_schema(responses=EndpointOutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        paginator = CursorPagination()
        page = paginator.paginate_queryset(endpoints_visible_to(request_user(request)), request, view=self)
        return paginator.get_paginated_response(EndpointOutputSerializer(page, many=True).data)

    @extend_schema(request=EndpointInputSerializer, responses={201: EndpointOutputSerializer})
    def post(self, request: Request) -> Response:
        actor = request_user(request)
        endpoints_visible_to(actor)  # 403 before reading the body for those who may not
        endpoint = endpoints.model_endpoint_create(actor=actor, values=_values(request, partial=False))
        return Response(EndpointOutputSerializer(endpoint).data, status=status.HTTP_201_CREATED)


class ModelEndpointDetailApi(APIView):
    @extend_schema(responses=EndpointOutputSerializer)
    def get(self, request: Request, endpoint_id: str) -> Response:
        return Response(EndpointOutputSerializer(access_model_endpoint(request_user(request), endpoint_id)).data)

    @extend_schema(request=EndpointInputSerializer, responses=EndpointOutputSerializer)
    def patch(self, request: Request, endpoint_id: str) -> Response:
        actor = request_user(request)
        endpoint = access_model_endpoint(actor, endpoint_id)
        endpoint = endpoints.model_endpoint_update(
            actor=actor, endpoint=endpoint, values=_values(request, partial=True)
        )
        return Response(EndpointOutputSerializer(endpoint).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, endpoint_id: str) -> Response:
        actor = request_user(request)
        endpoints.model_endpoint_delete(actor=actor, endpoint=access_model_endpoint(actor, endpoint_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


CheckSerializer = inline_serializer(
    "ModelEndpointCheck",
    {
        "ok": serializers.BooleanField(),
        "health": serializers.DictField(allow_null=True),
        "setup": serializers.DictField(allow_null=True),
        "errors": serializers.ListField(child=serializers.CharField()),
    },
)


class ModelEndpointCheckApi(APIView):
    @extend_schema(request=None, responses=CheckSerializer)
    def post(self, request: Request, endpoint_id: str) -> Response:
        actor = request_user(request)
        endpoint: ModelEndpoint = access_model_endpoint(actor, endpoint_id)
        return Response(endpoint_client.model_endpoint_check(actor=actor, endpoint=endpoint))


ProgressSerializer = inline_serializer(
    "ModelStatus",
    {
        "endpoint": serializers.DictField(allow_null=True),
        "sent": serializers.IntegerField(),
        "answered": serializers.IntegerField(),
        "failed": serializers.IntegerField(),
        "waiting": serializers.IntegerField(),
        "errors": serializers.ListField(child=serializers.DictField()),
        "circuit": serializers.CharField(allow_null=True),
        "embedding": serializers.DictField(allow_null=True),
    },
)


class ProjectModelStatusApi(APIView):
    @extend_schema(responses=ProgressSerializer)
    def get(self, request: Request, project_id: str) -> Response:
        project = access_project(request_user(request), project_id, "view_work")
        progress = selectors.endpoint_progress(project=project)
        empty: dict[str, Any] = {
            "endpoint": None,
            "sent": 0,
            "answered": 0,
            "failed": 0,
            "waiting": 0,
            "errors": [],
            "circuit": None,
        }
        embedding = selectors.endpoint_progress(project=project, key="embed_endpoint")
        return Response({**(progress or empty), "embedding": embedding})


class ProjectModelResendApi(APIView):
    class InputSerializer(StrictSerializer):
        failed_only = serializers.BooleanField(default=True)

    @extend_schema(
        request=InputSerializer, responses=inline_serializer("Resent", {"resent": serializers.IntegerField()})
    )
    def post(self, request: Request, project_id: str) -> Response:
        actor = request_user(request)
        project = access_project(actor, project_id, "manage")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint_id = prelabeling.prelabel_endpoint_id(project)
        if not endpoint_id:
            raise NotFound("The project has no pre-label endpoint (settings: model.prelabel_endpoint).")
        endpoint = access_model_endpoint(actor, endpoint_id)
        count = prelabeling.endpoint_rows_resend(
            project=project, endpoint=endpoint, failed_only=data.validated_data["failed_only"]
        )
        return Response({"resent": count})


class ProjectModelRetrainApi(APIView):
    """`POST`: call the project's retraining endpoint now (managers, admins; 202, the call is queued).
    `GET`: the last calls (who may see the project's work)."""

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        endpoint = serializers.UUIDField()
        trigger = serializers.CharField()
        status = serializers.CharField()
        label_count = serializers.IntegerField()
        rows = serializers.IntegerField()
        model_run = serializers.UUIDField(allow_null=True)
        model_version = serializers.CharField(allow_null=True)
        error = serializers.CharField(allow_null=True)
        ms = serializers.FloatField(allow_null=True)
        created_at = serializers.DateTimeField(allow_null=True)
        called_at = serializers.DateTimeField(allow_null=True)
        job = inline_serializer(
            "RetrainJob",
            {
                "id": serializers.CharField(),
                "status": serializers.CharField(allow_null=True),
                "polls": serializers.IntegerField(),
                "next_poll_at": serializers.DateTimeField(allow_null=True),
                "finished_at": serializers.DateTimeField(allow_null=True),
            },
            allow_null=True,
        )

    @extend_schema(responses=inline_serializer("RetrainCalls", {"results": OutputSerializer(many=True)}))
    def get(self, request: Request, project_id: str) -> Response:
        project = access_project(request_user(request), project_id, "view_work")
        calls = retraining.retrain_calls(project=project)
        return Response({"results": [retraining.retrain_call_json(c) for c in calls]})

    @extend_schema(request=None, responses={202: OutputSerializer})
    def post(self, request: Request, project_id: str) -> Response:
        actor = request_user(request)
        project = access_project(actor, project_id, "manage")
        if request.data:
            raise ValidationFailed("This call takes no body.")
        retrain = retraining.model_retrain_request(actor=actor, project=project)
        retrain.refresh_from_db()
        return Response(retraining.retrain_call_json(retrain), status=status.HTTP_202_ACCEPTED)


class ModelEndpointMediaApi(APIView):
    """A row's asset for a model server, by a signed, expiring token (no session, no token header)."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    @extend_schema(responses={(200, "application/octet-stream"): bytes})
    def get(self, request: Request, token: str) -> FileResponse:
        row_id = endpoint_client.media_row_id(token)
        row = DataRow.objects.filter(pk=row_id).first() if row_id else None
        if row is None or not row.row_data.startswith("upload://"):
            raise Http404
        name = row.row_data[len("upload://") :]
        if not name.startswith(f"uploads/{row.organization_id}/") or ".." in name or not default_storage.exists(name):
            raise Http404
        response = FileResponse(default_storage.open(name, "rb"), content_type="application/octet-stream")
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, no-store"
        return response


class TaskAssistApi(APIView):
    """The labeler's click or rough box refined by the project's interactive endpoint (called by the server)."""

    class InputSerializer(StrictSerializer):
        point = serializers.JSONField(required=False)
        bbox = serializers.JSONField(required=False)

    @extend_schema(
        request=InputSerializer,
        responses=inline_serializer(
            "AssistSuggestion",
            {
                "suggestion": serializers.DictField(allow_null=True),
                "ms": serializers.FloatField(),
                "model_version": serializers.CharField(allow_null=True),
            },
        ),
    )
    def post(self, request: Request, task_id: str) -> Response:
        task = access_task(request_user(request), task_id, "label")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(
            assist.task_assist(task=task, point=data.validated_data.get("point"), bbox=data.validated_data.get("bbox"))
        )
