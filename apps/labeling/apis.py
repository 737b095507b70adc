"""Labeling REST API: projects, members, batches, the queue, labels. Thin: parse → access → service → serialize."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.access import request_user
from apps.accounts.models import User
from apps.core.access import get_in_organization
from apps.core.errors import NotFound, PermissionDenied
from apps.core.idempotency import idempotent
from apps.core.pagination import CursorPagination
from apps.core.serializers import StrictSerializer
from apps.datasets.apis import AttachmentSerializer, DataRowOutputSerializer
from apps.datasets.models import DataRow
from apps.labeling import selectors, services
from apps.labeling.access import (
    access_batch,
    access_label,
    access_project,
    access_task,
    projects_visible_to,
    require_project_creator,
)
from apps.labeling.models import Label, Project, ProjectRole, Task, TaskKind
from apps.labeling.registry import label_decisions, prelabels_for, rework_feedback
from apps.labeling.serialization import (
    DATETIME_FIELD,
    UUID_FIELD,
    LabelOutputSerializer,
    field_value,
    label_body,
)
from apps.ontologies.access import access_ontology


class ProjectOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    description = serializers.CharField()
    ontology = serializers.UUIDField(source="ontology_id")
    ontology_version = serializers.IntegerField(source="ontology_version.number")
    media_type = serializers.CharField()
    instructions = serializers.CharField()
    quality = serializers.SerializerMethodField()
    review = serializers.SerializerMethodField()
    routing = serializers.SerializerMethodField()
    queue = serializers.SerializerMethodField()
    lease = serializers.SerializerMethodField()
    model = serializers.SerializerMethodField()
    archived = serializers.BooleanField()
    created_at = serializers.DateTimeField()

    def get_quality(self, project: Project) -> dict[str, Any]:
        return project.settings.get("quality", {})

    def get_review(self, project: Project) -> dict[str, Any]:
        return project.settings.get("review", {})

    def get_routing(self, project: Project) -> dict[str, Any]:
        return project.settings.get("routing", {})

    def get_queue(self, project: Project) -> dict[str, Any]:
        return project.settings.get("queue", {})

    def get_lease(self, project: Project) -> dict[str, Any]:
        return project.settings.get("lease", {})

    def get_model(self, project: Project) -> dict[str, Any]:
        return project.settings.get("model", {})


SETTINGS_BLOCKS = ("quality", "review", "routing", "queue", "lease", "model")


class ProjectListCreateApi(APIView):
    pagination_class = CursorPagination  # the schema documents the GET list as pages

    class InputSerializer(StrictSerializer):
        name = serializers.CharField(max_length=200)
        ontology = serializers.UUIDField()
        media_type = serializers.CharField(default="image")
        instructions = serializers.CharField(required=False, allow_blank=True, default="", max_length=100_000)
        description = serializers.CharField(required=False, allow_blank=True, default="", max_length=10_000)
        quality = serializers.JSONField(required=False)
        review = serializers.JSONField(required=False)
        routing = serializers.JSONField(required=False)
        queue = serializers.JSONField(required=False)
        lease = serializers.JSONField(required=False)
        model = serializers.JSONField(required=False)

    @extend_schema(responses=ProjectOutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        paginator = CursorPagination()
        page = paginator.paginate_queryset(projects_visible_to(request_user(request)), request, view=self)
        return paginator.get_paginated_response(ProjectOutputSerializer(page, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: ProjectOutputSerializer})
    def post(self, request: Request) -> Response:
        actor = request_user(request)
        require_project_creator(actor)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        ontology = access_ontology(actor, values.pop("ontology"))
        settings = {block: values.pop(block) for block in SETTINGS_BLOCKS if block in values}
        project = services.project_create(actor=actor, ontology=ontology, settings=settings, **values)
        return Response(ProjectOutputSerializer(project).data, status=status.HTTP_201_CREATED)


class ProjectDetailApi(APIView):
    class InputSerializer(StrictSerializer):
        name = serializers.CharField(max_length=200, required=False)
        instructions = serializers.CharField(required=False, allow_blank=True, max_length=100_000)
        description = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
        archived = serializers.BooleanField(required=False)
        quality = serializers.JSONField(required=False)
        review = serializers.JSONField(required=False)
        routing = serializers.JSONField(required=False)
        queue = serializers.JSONField(required=False)
        lease = serializers.JSONField(required=False)
        model = serializers.JSONField(required=False)

    @extend_schema(responses=ProjectOutputSerializer)
    def get(self, request: Request, project_id: str) -> Response:
        return Response(ProjectOutputSerializer(access_project(request_user(request), project_id)).data)

    @extend_schema(request=InputSerializer, responses=ProjectOutputSerializer)
    def patch(self, request: Request, project_id: str) -> Response:
        actor = request_user(request)
        project = access_project(actor, project_id, "manage")
        data = self.InputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        settings = {block: values.pop(block) for block in SETTINGS_BLOCKS if block in values}
        if settings:
            values["settings"] = settings
        project = services.project_update(actor=actor, project=project, data=values)
        return Response(ProjectOutputSerializer(project).data)


class ProjectOntologyUpgradeApi(APIView):
    class InputSerializer(StrictSerializer):
        version = serializers.IntegerField(required=False, allow_null=True, min_value=1)
        dry_run = serializers.BooleanField(default=False)

    @extend_schema(
        request=InputSerializer,
        responses=inline_serializer(
            "OntologyUpgradeOutput",
            {
                "applied": serializers.BooleanField(),
                "ontology_version": serializers.IntegerField(),
                "changes": serializers.DictField(),
            },
        ),
    )
    def post(self, request: Request, project_id: str) -> Response:
        actor = request_user(request)
        project = access_project(actor, project_id, "manage")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.project_upgrade_ontology(
            actor=actor,
            project=project,
            version_number=data.validated_data.get("version"),
            dry_run=data.validated_data["dry_run"],
        )
        return Response(
            {
                "applied": result.applied,
                "ontology_version": result.project.ontology_version.number,
                "changes": result.diff,
            }
        )


class MemberOutputSerializer(serializers.Serializer):
    user = serializers.UUIDField(source="user_id")
    username = serializers.CharField(source="user.username")
    role = serializers.CharField()
    created_at = serializers.DateTimeField()


class ProjectMembersApi(APIView):
    pagination_class = CursorPagination  # the schema documents the GET list as pages

    class InputSerializer(StrictSerializer):
        user = serializers.UUIDField()
        role = serializers.ChoiceField(choices=ProjectRole.choices)

    @extend_schema(responses=MemberOutputSerializer(many=True))
    def get(self, request: Request, project_id: str) -> Response:
        project = access_project(request_user(request), project_id, "view_work")
        paginator = CursorPagination()
        page = paginator.paginate_queryset(project.members.select_related("user"), request, view=self)
        return paginator.get_paginated_response(MemberOutputSerializer(page, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: MemberOutputSerializer})
    def post(self, request: Request, project_id: str) -> Response:
        actor = request_user(request)
        project = access_project(actor, project_id, "manage")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = get_in_organization(User.objects.all(), actor, data.validated_data["user"])
        member = services.project_member_set(actor=actor, project=project, user=user, role=data.validated_data["role"])
        return Response(MemberOutputSerializer(member).data, status=status.HTTP_201_CREATED)


class ProjectMemberDetailApi(APIView):
    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, project_id: str, user_id: str) -> Response:
        actor = request_user(request)
        project = access_project(actor, project_id, "manage")
        user = get_in_organization(User.objects.all(), actor, user_id)
        services.project_member_remove(actor=actor, project=project, user=user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class BatchOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    priority = serializers.IntegerField()
    paused = serializers.BooleanField()
    quality = serializers.DictField()
    created_at = serializers.DateTimeField()


class BatchDetailApi(APIView):
    """`PATCH /api/v1/batches/{id}` `{"priority": 1..5, "paused": bool}`: the admin's batch actions, for scripts."""

    class InputSerializer(StrictSerializer):
        priority = serializers.IntegerField(required=False, min_value=1, max_value=5)
        paused = serializers.BooleanField(required=False)

    @extend_schema(responses=BatchOutputSerializer)
    def get(self, request: Request, batch_id: str) -> Response:
        batch = access_batch(request_user(request), batch_id, "view_work")
        return Response(BatchOutputSerializer(batch).data)

    @extend_schema(request=InputSerializer, responses=BatchOutputSerializer)
    def patch(self, request: Request, batch_id: str) -> Response:
        actor = request_user(request)
        batch = access_batch(actor, batch_id, "manage")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        batch = services.batch_update(
            actor=actor, batch=batch, priority=values.get("priority"), paused=values.get("paused")
        )
        return Response(BatchOutputSerializer(batch).data)


class ProjectBatchesApi(APIView):
    pagination_class = CursorPagination  # the schema documents the GET list as pages

    class InputSerializer(StrictSerializer):
        name = serializers.CharField(max_length=200)
        data_rows = serializers.ListField(child=serializers.CharField(max_length=64), required=False, allow_empty=False)
        global_keys = serializers.ListField(
            child=serializers.CharField(max_length=255), required=False, allow_empty=False
        )
        priority = serializers.IntegerField(default=3, min_value=1, max_value=5)
        quality = serializers.DictField(required=False, help_text="Overrides consensus_coverage/consensus_labelers.")

    @extend_schema(responses=BatchOutputSerializer(many=True))
    def get(self, request: Request, project_id: str) -> Response:
        project = access_project(request_user(request), project_id, "view_work")
        paginator = CursorPagination()
        page = paginator.paginate_queryset(project.batches.all(), request, view=self)
        return paginator.get_paginated_response(BatchOutputSerializer(page, many=True).data)

    @extend_schema(
        request=InputSerializer,
        responses={
            201: inline_serializer(
                "BatchCreateOutput",
                {
                    "id": serializers.UUIDField(),
                    "name": serializers.CharField(),
                    "priority": serializers.IntegerField(),
                    "quality": serializers.DictField(),
                    "created_at": serializers.DateTimeField(),
                    "added": serializers.IntegerField(),
                    "already_in_project": serializers.ListField(child=serializers.CharField()),
                    "not_found": serializers.ListField(child=serializers.CharField()),
                },
            )
        },
    )
    def post(self, request: Request, project_id: str) -> Response:
        actor = request_user(request)
        project = access_project(actor, project_id, "manage")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        result = services.batch_create(
            actor=actor,
            project=project,
            name=values["name"],
            data_row_ids=values.get("data_rows"),
            global_keys=values.get("global_keys"),
            priority=values["priority"],
            quality=values.get("quality"),
        )
        body = {
            **BatchOutputSerializer(result.batch).data,
            "added": result.added,
            "already_in_project": result.already_in_project,
            "not_found": result.not_found,
        }
        return Response(body, status=status.HTTP_201_CREATED)


OverviewSerializer = inline_serializer(
    "ProjectOverview",
    {
        **{key: serializers.IntegerField() for key in (*selectors.OVERVIEW_KEYS, "open_issues")},
        "rows": inline_serializer(
            "ProjectOverviewRows", {key: serializers.IntegerField() for key in ("total", "done", "open")}
        ),
    },
)


class ProjectOverviewApi(APIView):
    @extend_schema(responses=OverviewSerializer)
    def get(self, request: Request, project_id: str) -> Response:
        project = access_project(request_user(request), project_id, "view")
        return Response(selectors.project_overview(project=project))


def data_row_body(row: DataRow, *, attachments: bool = True) -> dict[str, Any]:
    """`DataRowOutputSerializer(row).data` without the serializer machinery (the claim is the hot path; a test keeps
    the two identical). `attachments=False` when the row is known to have none (no query)."""
    return {
        "id": field_value(row.id, UUID_FIELD.to_representation),
        "dataset": field_value(row.dataset_id, UUID_FIELD.to_representation),
        "global_key": field_value(row.global_key),
        "external_id": field_value(row.external_id),
        "row_data": field_value(row.row_data),
        "media_type": field_value(row.media_type),
        "width": field_value(row.width, int),
        "height": field_value(row.height, int),
        "metadata": row.metadata,
        "attachments": AttachmentSerializer(row.attachments.all(), many=True).data if attachments else [],
        "content_url": f"/api/v1/data_rows/{row.id}/content",
        "created_at": field_value(row.created_at, DATETIME_FIELD.to_representation),
        "updated_at": field_value(row.updated_at, DATETIME_FIELD.to_representation),
    }


def claim_body(task: Task) -> dict[str, Any]:
    """The claim answer. `queue_claim` tells (`has_current_label`, `has_attachments`) when there is nothing to read."""
    # A benchmark task looks like any other task to the labeler (so nobody labels gold rows more carefully).
    kind = "rework" if task.rework_user_id else TaskKind.LABEL if task.kind == TaskKind.BENCHMARK else task.kind
    current = None
    if getattr(task, "has_current_label", True):
        current = Label.objects.select_related("task").filter(task=task, is_current=True).first()
    return {
        "task": str(task.id),
        "kind": kind,
        "data_row": data_row_body(task.data_row, attachments=getattr(task, "has_attachments", True)),
        "prelabels": prelabels_for(task) if current is None else [],
        "previous_label": label_body(current) if current else None,
        "feedback": rework_feedback(task) if kind == "rework" else None,
        "lease_expires_at": task.lease_expires_at.isoformat() if task.lease_expires_at else None,
    }


class QueueClaimInputSerializer(StrictSerializer):
    # A client's own name for itself (a script's worker, a browser tab): each key holds its own lease.
    lease_key = serializers.RegexField(r"^[A-Za-z0-9._:-]{1,64}$", required=False)


class QueueNextApi(APIView):
    @extend_schema(
        request=QueueClaimInputSerializer,
        responses={
            200: inline_serializer(
                "QueueClaim",
                {
                    "task": serializers.UUIDField(),
                    "kind": serializers.ChoiceField(choices=["label", "consensus", "benchmark", "rework", "expert"]),
                    "data_row": DataRowOutputSerializer(),
                    "prelabels": serializers.ListField(child=serializers.DictField()),
                    "previous_label": serializers.DictField(allow_null=True),
                    "feedback": serializers.DictField(allow_null=True),
                    "lease_expires_at": serializers.DateTimeField(),
                },
            ),
            204: None,
        },
    )
    def post(self, request: Request, project_id: str) -> Response:
        actor = request_user(request)
        project = access_project(actor, project_id, "label", related=False)
        data = QueueClaimInputSerializer(data=request.data or {})
        data.is_valid(raise_exception=True)
        task = services.queue_claim(actor=actor, project=project, lease_key=data.validated_data.get("lease_key", ""))
        if task is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(claim_body(task))


class LabelInputSerializer(StrictSerializer):
    annotations = serializers.JSONField()
    seconds_spent = serializers.JSONField(required=False, allow_null=True)


class TaskLabelsApi(APIView):
    @extend_schema(
        request=LabelInputSerializer,
        responses={201: LabelOutputSerializer},
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER, required=False)],
    )
    def post(self, request: Request, task_id: str) -> Response:
        actor = request_user(request)
        task = access_task(actor, task_id, "label", related=False)  # the submit reads it again, locked
        data = LabelInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)

        def create() -> tuple[int, Any]:
            label = services.label_submit(
                actor=actor,
                task=task,
                annotations=data.validated_data["annotations"],
                seconds_spent=data.validated_data.get("seconds_spent"),
            )
            return status.HTTP_201_CREATED, label_body(label)

        return idempotent(request, scope=f"task-label:{task.id}", create=create)


class TaskSkipApi(APIView):
    class InputSerializer(StrictSerializer):
        reason = serializers.CharField(max_length=2000)

    @extend_schema(
        request=InputSerializer,
        responses=inline_serializer(
            "TaskSkipOutput", {"task": serializers.UUIDField(), "state": serializers.CharField()}
        ),
    )
    def post(self, request: Request, task_id: str) -> Response:
        actor = request_user(request)
        task = access_task(actor, task_id, "label")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        task = services.task_skip(actor=actor, task=task, reason=data.validated_data["reason"])
        return Response({"task": str(task.id), "state": task.state})


class LabelDetailApi(APIView):
    @extend_schema(responses=LabelOutputSerializer)
    def get(self, request: Request, label_id: str) -> Response:
        label = access_label(request_user(request), label_id)
        body = dict(LabelOutputSerializer(label).data)
        body["history"] = [
            {
                "id": str(r.id),
                "revision": r.revision,
                "labeler": str(r.labeler_id),
                "created_at": r.created_at.isoformat(),
            }
            for r in selectors.label_history(label=label)
        ]
        body["reviews"] = label_decisions(label)
        return Response(body)

    @extend_schema(request=LabelInputSerializer, responses=LabelOutputSerializer)
    def patch(self, request: Request, label_id: str) -> Response:
        actor = request_user(request)
        label = access_label(actor, label_id)
        data = LabelInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        new = services.label_edit(
            actor=actor,
            label=label,
            annotations=data.validated_data["annotations"],
            seconds_spent=data.validated_data.get("seconds_spent"),
        )
        return Response(LabelOutputSerializer(new).data)


class ProjectLabelsApi(APIView):
    pagination_class = CursorPagination  # the schema documents the GET list as pages

    @extend_schema(
        parameters=[
            OpenApiParameter("labeler", str),
            OpenApiParameter("data_row", str),
            OpenApiParameter("status", str),
        ],
        responses=LabelOutputSerializer(many=True),
    )
    def get(self, request: Request, project_id: str) -> Response:
        actor = request_user(request)
        project = access_project(actor, project_id, "view")
        params = request.query_params
        queryset = selectors.labels_of_project(
            actor=actor,
            project=project,
            labeler=params.get("labeler"),
            data_row=params.get("data_row"),
            status=params.get("status"),
        )
        paginator = CursorPagination()
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response(LabelOutputSerializer(page, many=True).data)


class DraftOutputSerializer(serializers.Serializer):
    task = serializers.UUIDField(source="task_id")
    annotations = serializers.JSONField()
    revision = serializers.IntegerField()
    seconds_spent = serializers.FloatField(allow_null=True)
    client_saved_at = serializers.DateTimeField(allow_null=True)
    saved_at = serializers.DateTimeField(source="updated_at")
    created_at = serializers.DateTimeField()


class TaskDraftApi(APIView):
    """The caller's own draft of a task: only its owner ever reads or writes it (nobody else's is reachable)."""

    class InputSerializer(StrictSerializer):
        annotations = serializers.JSONField()
        revision = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=2**31 - 1)
        client_saved_at = serializers.DateTimeField(required=False, allow_null=True)
        seconds_spent = serializers.JSONField(required=False, allow_null=True)

    @extend_schema(responses={200: DraftOutputSerializer, 404: None})
    def get(self, request: Request, task_id: str) -> Response:
        actor = request_user(request)
        task = access_task(actor, task_id, "label", related=False)
        draft = selectors.draft_of(actor=actor, task=task)
        if draft is None:
            raise NotFound("You have no draft of this task.", code="no_draft")
        return Response(DraftOutputSerializer(draft).data)

    @extend_schema(request=InputSerializer, responses=DraftOutputSerializer)
    def put(self, request: Request, task_id: str) -> Response:
        actor = request_user(request)
        task = access_task(actor, task_id, "label", related=False)
        if not services.may_keep_draft(actor=actor, task=task):
            raise PermissionDenied(
                "You can keep a draft only of a task you are labeling or of your own unreviewed label."
            )
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        draft = services.draft_save(
            actor=actor,
            task=task,
            annotations=values["annotations"],
            revision=values.get("revision"),
            client_saved_at=values.get("client_saved_at"),
            seconds_spent=values.get("seconds_spent"),
        )
        return Response(DraftOutputSerializer(draft).data)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, task_id: str) -> Response:
        actor = request_user(request)
        task = access_task(actor, task_id, "label", related=False)
        services.draft_delete(actor=actor, task=task)
        return Response(status=status.HTTP_204_NO_CONTENT)
