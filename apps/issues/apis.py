"""Issues REST API: open issues on a label or a task's data row, threads, resolve/reopen, project list, inbox."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.access import request_user
from apps.core.pagination import CursorPagination
from apps.core.serializers import StrictSerializer
from apps.issues import selectors, services
from apps.issues.access import access_issue, require_participation
from apps.issues.models import IssueStatus
from apps.labeling.access import access_label, access_project, access_task


class IssueUserSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    username = serializers.CharField()


class IssuePositionSerializer(serializers.Serializer):
    x = serializers.FloatField()
    y = serializers.FloatField()


class IssueFeatureSerializer(serializers.Serializer):
    schema_id = serializers.UUIDField()
    name = serializers.CharField()


class IssueObjectSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    schema_id = serializers.UUIDField(allow_null=True)
    name = serializers.CharField()
    geometry = serializers.DictField(allow_null=True, help_text="The object when pinned: bbox, polygon, line or point.")


class CommentOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    author = IssueUserSerializer()
    text = serializers.CharField()
    created_at = serializers.DateTimeField()

    def to_representation(self, instance: Any) -> dict[str, Any]:
        return selectors.serialize_comment(instance)


class IssueOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    project = serializers.UUIDField()
    data_row = serializers.UUIDField()
    task = serializers.UUIDField(allow_null=True)
    label = serializers.UUIDField(allow_null=True)  # type: ignore[assignment]
    text = serializers.CharField()
    position = IssuePositionSerializer(allow_null=True)
    text_offset = serializers.IntegerField(allow_null=True)
    annotation = serializers.IntegerField(allow_null=True)
    feature = IssueFeatureSerializer(allow_null=True)
    object = IssueObjectSerializer(allow_null=True)
    crop_url = serializers.CharField(allow_null=True, help_text="A PNG of the image around the pin (stored images).")
    frame = serializers.IntegerField(allow_null=True, help_text="On a video: the global frame index.")
    track_id = serializers.CharField(allow_null=True, help_text="On a video: the track the issue is about.")
    status = serializers.ChoiceField(choices=IssueStatus.choices)
    created_by = IssueUserSerializer()
    resolved_by = IssueUserSerializer(allow_null=True)
    resolved_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    comments = CommentOutputSerializer(many=True)

    def to_representation(self, instance: Any) -> dict[str, Any]:
        return selectors.serialize_issue(instance)


class IssueInputSerializer(StrictSerializer):
    text = serializers.CharField(max_length=services.MAX_TEXT)
    position = serializers.JSONField(required=False, allow_null=True)
    text_offset = serializers.JSONField(required=False, allow_null=True)
    annotation = serializers.JSONField(
        required=False,
        allow_null=True,
        help_text='The pinned object: its index in the label or {"index", "schema_id"}.',
    )
    frame = serializers.JSONField(required=False, allow_null=True, help_text="On a video: a frame index.")
    track_id = serializers.JSONField(required=False, allow_null=True, help_text="On a video: a track id.")


def _create(request: Request, *, project: Any, task: Any, label: Any, data_row: Any) -> Response:
    data = IssueInputSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    values = data.validated_data
    issue = services.issue_create(
        actor=request_user(request),
        project=project,
        task=task,
        label=label,
        data_row=data_row,
        text=values["text"],
        position=values.get("position"),
        text_offset=values.get("text_offset"),
        annotation=values.get("annotation"),
        frame=values.get("frame"),
        track_id=values.get("track_id"),
    )
    issue = selectors.issues_of_task(task=task).get(pk=issue.pk) if task is not None else issue
    return Response(IssueOutputSerializer(issue).data, status=status.HTTP_201_CREATED)


class LabelIssuesApi(APIView):
    @extend_schema(responses=IssueOutputSerializer(many=True))
    def get(self, request: Request, label_id: str) -> Response:
        actor = request_user(request)
        label = access_label(actor, label_id)
        require_participation(actor, label.project, label.task)
        return Response(IssueOutputSerializer(selectors.issues_of_task(task=label.task), many=True).data)

    @extend_schema(request=IssueInputSerializer, responses={201: IssueOutputSerializer})
    def post(self, request: Request, label_id: str) -> Response:
        actor = request_user(request)
        label = access_label(actor, label_id)
        require_participation(actor, label.project, label.task)
        return _create(request, project=label.project, task=label.task, label=label, data_row=label.data_row)


class TaskIssuesApi(APIView):
    """Issues on a task's data row: a labeler may raise one while labeling, before any label exists."""

    @extend_schema(responses=IssueOutputSerializer(many=True))
    def get(self, request: Request, task_id: str) -> Response:
        actor = request_user(request)
        task = access_task(actor, task_id, "view")
        require_participation(actor, task.project, task)
        return Response(IssueOutputSerializer(selectors.issues_of_task(task=task), many=True).data)

    @extend_schema(request=IssueInputSerializer, responses={201: IssueOutputSerializer})
    def post(self, request: Request, task_id: str) -> Response:
        actor = request_user(request)
        task = access_task(actor, task_id, "view")
        require_participation(actor, task.project, task)
        return _create(request, project=task.project, task=task, label=None, data_row=task.data_row)


class ProjectIssuesApi(APIView):
    pagination_class = CursorPagination  # the schema documents the GET list as pages

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=IssueStatus.values),
            OpenApiParameter("feature", str, description="A feature schema_id or name."),
            OpenApiParameter("labeler", str),
            OpenApiParameter("data_row", str),
        ],
        responses=IssueOutputSerializer(many=True),
    )
    def get(self, request: Request, project_id: str) -> Response:
        actor = request_user(request)
        project = access_project(actor, project_id, "view")
        params = request.query_params
        queryset = selectors.issues_of_project(
            actor=actor,
            project=project,
            status=params.get("status"),
            feature=params.get("feature"),
            labeler=params.get("labeler"),
            data_row=params.get("data_row"),
        )
        paginator = CursorPagination()
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response(IssueOutputSerializer(page, many=True).data)


class ProjectOpenIssuesByTaskApi(APIView):
    @extend_schema(
        responses=inline_serializer(
            "OpenIssuesByTask",
            {
                "task": serializers.UUIDField(),
                "data_row": serializers.UUIDField(),
                "global_key": serializers.CharField(),
                "state": serializers.CharField(),
                "open_issues": serializers.IntegerField(),
            },
            many=True,
        )
    )
    def get(self, request: Request, project_id: str) -> Response:
        actor = request_user(request)
        project = access_project(actor, project_id, "view")
        return Response(selectors.open_issue_counts_by_task(actor=actor, project=project))


def _issue_body(issue_id: Any) -> dict[str, Any]:
    return selectors.serialize_issue(selectors.issue_thread(issue_id=issue_id))


class IssueDetailApi(APIView):
    @extend_schema(responses=IssueOutputSerializer)
    def get(self, request: Request, issue_id: str) -> Response:
        issue = access_issue(request_user(request), issue_id)
        return Response(_issue_body(issue.pk))


class IssueCommentsApi(APIView):
    class InputSerializer(StrictSerializer):
        text = serializers.CharField(max_length=services.MAX_TEXT)

    @extend_schema(request=InputSerializer, responses={201: CommentOutputSerializer})
    def post(self, request: Request, issue_id: str) -> Response:
        actor = request_user(request)
        issue = access_issue(actor, issue_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        comment = services.comment_create(actor=actor, issue=issue, text=data.validated_data["text"])
        return Response(CommentOutputSerializer(comment).data, status=status.HTTP_201_CREATED)


class IssueResolveApi(APIView):
    @extend_schema(request=None, responses=IssueOutputSerializer)
    def post(self, request: Request, issue_id: str) -> Response:
        actor = request_user(request)
        issue = services.issue_resolve(actor=actor, issue=access_issue(actor, issue_id))
        return Response(_issue_body(issue.pk))


class IssueReopenApi(APIView):
    @extend_schema(request=None, responses=IssueOutputSerializer)
    def post(self, request: Request, issue_id: str) -> Response:
        actor = request_user(request)
        issue = services.issue_reopen(actor=actor, issue=access_issue(actor, issue_id))
        return Response(_issue_body(issue.pk))


class MentionOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    issue = serializers.UUIDField(source="issue_id")
    project = serializers.UUIDField(source="issue.project_id")
    comment = serializers.UUIDField(source="comment_id", allow_null=True)
    mentioned_by = serializers.CharField(source="mentioned_by.username")
    text = serializers.SerializerMethodField()
    read_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()

    def get_text(self, mention: Any) -> str:
        return str(mention.comment.text if mention.comment_id else mention.issue.text)


class InboxApi(APIView):
    pagination_class = CursorPagination  # the schema documents the GET list as pages

    @extend_schema(responses=MentionOutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        paginator = CursorPagination()
        page = paginator.paginate_queryset(selectors.inbox_of(actor=request_user(request)), request, view=self)
        return paginator.get_paginated_response(MentionOutputSerializer(page, many=True).data)
