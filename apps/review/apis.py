"""Review REST API: claim the next label to review, decide on a label, read a label's decisions."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.access import request_user
from apps.core.idempotency import idempotent
from apps.core.serializers import StrictSerializer
from apps.datasets.apis import DataRowOutputSerializer
from apps.issues.selectors import issues_of_task, serialize_issue
from apps.labeling.access import access_label, access_project
from apps.labeling.apis import LabelOutputSerializer
from apps.labeling.models import Label, Task
from apps.review import selectors, services
from apps.review.models import ReviewDecision, ReviewLease


class ReviewOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    label = serializers.UUIDField()  # type: ignore[assignment]
    result_label = serializers.UUIDField(allow_null=True)
    reviewer = serializers.UUIDField()
    reviewer_username = serializers.CharField()
    decision = serializers.ChoiceField(choices=ReviewDecision.choices)
    edited = serializers.BooleanField()
    feedback = serializers.CharField()
    overrode_open_issues = serializers.IntegerField()
    seconds_spent = serializers.FloatField(allow_null=True)
    server_seconds = serializers.FloatField(allow_null=True)
    created_at = serializers.DateTimeField()

    def to_representation(self, instance: Any) -> dict[str, Any]:
        return selectors.serialize_review(instance)


def review_claim_body(task: Task, lease: ReviewLease) -> dict[str, Any]:
    label = Label.objects.select_related("task").get(task=task, is_current=True)
    return {
        "task": str(task.id),
        "label": LabelOutputSerializer(label).data,
        "data_row": DataRowOutputSerializer(task.data_row).data,
        "issues": [serialize_issue(issue) for issue in issues_of_task(task=task)],
        "reviews": [selectors.serialize_review(r) for r in selectors.reviews_of_task(task_id=task.id)],
        "lease_expires_at": lease.expires_at.isoformat(),
    }


class ReviewNextApi(APIView):
    @extend_schema(
        request=None,
        responses={
            200: inline_serializer(
                "ReviewClaim",
                {
                    "task": serializers.UUIDField(),
                    "label": LabelOutputSerializer(),
                    "data_row": DataRowOutputSerializer(),
                    "issues": serializers.ListField(child=serializers.DictField()),
                    "reviews": ReviewOutputSerializer(many=True),
                    "lease_expires_at": serializers.DateTimeField(),
                },
            ),
            204: None,
        },
    )
    def post(self, request: Request, project_id: str) -> Response:
        actor = request_user(request)
        project = access_project(actor, project_id, "review")
        task = services.review_claim(actor=actor, project=project)
        if task is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        task = Task.objects.select_related("data_row").prefetch_related("data_row__attachments").get(pk=task.pk)
        return Response(review_claim_body(task, ReviewLease.objects.get(task=task)))


class LabelReviewsApi(APIView):
    class InputSerializer(StrictSerializer):
        decision = serializers.ChoiceField(choices=ReviewDecision.choices)
        feedback = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
        annotations = serializers.JSONField(required=False)
        seconds_spent = serializers.JSONField(required=False, allow_null=True)
        override_open_issues = serializers.BooleanField(default=False)

    @extend_schema(responses=ReviewOutputSerializer(many=True))
    def get(self, request: Request, label_id: str) -> Response:
        label = access_label(request_user(request), label_id)
        return Response([selectors.serialize_review(r) for r in selectors.reviews_of_task(task_id=label.task_id)])

    @extend_schema(
        request=InputSerializer,
        responses={201: ReviewOutputSerializer},
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER, required=False)],
    )
    def post(self, request: Request, label_id: str) -> Response:
        actor = request_user(request)
        label = access_label(actor, label_id, "review")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data

        def create() -> tuple[int, Any]:
            review = services.review_decide(
                actor=actor,
                label=label,
                decision=values["decision"],
                feedback=values.get("feedback"),
                annotations=values.get("annotations"),
                seconds_spent=values.get("seconds_spent"),
                override_open_issues=values["override_open_issues"],
            )
            return status.HTTP_201_CREATED, selectors.serialize_review(review)

        return idempotent(request, scope=f"label-review:{label.id}", create=create)
