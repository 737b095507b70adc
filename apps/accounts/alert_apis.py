"""Alerts and alert rules (org admins): list and acknowledge alerts; list, create, change and delete rules."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.access import request_user, require_org_perm
from apps.accounts.models import Organization, User
from apps.accounts.roles import MANAGE_ORGANIZATION, VIEW_AUDIT
from apps.core import alerts
from apps.core.access import get_in_organization
from apps.core.domain.alerts import COUNTED_ACTION, MAX_THRESHOLD, MAX_WINDOW_MINUTES
from apps.core.errors import ValidationFailed
from apps.core.models import Alert, AlertRule
from apps.core.pagination import CursorPagination
from apps.core.selectors import alert_rules_visible_to, alerts_visible_to
from apps.core.serializers import StrictSerializer


def _admin(request: Request, codename: str) -> tuple[User, Organization | None]:
    actor = request_user(request)
    organization = require_org_perm(actor, codename, "Only organization admins may manage alerts.")
    return actor, organization


class AlertRuleOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    kind = serializers.CharField()
    threshold = serializers.IntegerField()
    window_minutes = serializers.IntegerField()
    enabled = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class AlertOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    kind = serializers.CharField()
    rule = serializers.UUIDField(source="rule_id")
    subject = serializers.CharField()
    actor = serializers.SerializerMethodField()
    ip = serializers.IPAddressField(allow_null=True)
    count = serializers.IntegerField()
    first_seen_at = serializers.DateTimeField()
    last_seen_at = serializers.DateTimeField()
    status = serializers.SerializerMethodField()
    acknowledged_at = serializers.DateTimeField(allow_null=True)
    acknowledged_by = serializers.SerializerMethodField()
    emailed_to = serializers.IntegerField()

    def get_actor(self, alert: Alert) -> dict[str, str] | None:
        return {"id": str(alert.actor.pk), "username": alert.actor.username} if alert.actor else None

    def get_acknowledged_by(self, alert: Alert) -> dict[str, str] | None:
        by = alert.acknowledged_by
        return {"id": str(by.pk), "username": by.username} if by else None

    def get_status(self, alert: Alert) -> str:
        return "open" if alert.acknowledged_at is None else "acknowledged"


class AlertListApi(APIView):
    pagination_class = CursorPagination  # the schema documents the GET list as pages

    @extend_schema(
        parameters=[OpenApiParameter("status", str, enum=["open", "acknowledged"])],
        responses=AlertOutputSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        actor, _ = _admin(request, VIEW_AUDIT)
        params = request.query_params
        unknown = set(params) - {"status", "cursor", "page_size"}
        if unknown:
            raise ValidationFailed("Unknown parameter.", details={n: ["Not a filter here."] for n in sorted(unknown)})
        wanted = params.get("status")
        if wanted not in (None, "open", "acknowledged"):
            raise ValidationFailed("Unknown status.", details={"status": ["Use open or acknowledged."]})
        paginator = CursorPagination()
        page = paginator.paginate_queryset(alerts_visible_to(actor=actor, status=wanted), request, view=self)
        return paginator.get_paginated_response(AlertOutputSerializer(page, many=True).data)


class AlertAcknowledgeApi(APIView):
    @extend_schema(request=None, responses=AlertOutputSerializer)
    def post(self, request: Request, alert_id: str) -> Response:
        actor, _ = _admin(request, VIEW_AUDIT)
        alert = get_in_organization(Alert.objects.all(), actor, alert_id)
        alert = alerts.alert_acknowledge(actor=actor, alert=alert)
        alert = Alert.objects.select_related("actor", "acknowledged_by").get(pk=alert.pk)
        return Response(AlertOutputSerializer(alert).data)


class AlertRuleListCreateApi(APIView):
    pagination_class = CursorPagination  # the schema documents the GET list as pages

    class InputSerializer(StrictSerializer):
        kind = serializers.ChoiceField(choices=list(COUNTED_ACTION))
        threshold = serializers.IntegerField(min_value=1, max_value=MAX_THRESHOLD)
        window_minutes = serializers.IntegerField(min_value=1, max_value=MAX_WINDOW_MINUTES)
        enabled = serializers.BooleanField(default=True)

    @extend_schema(responses=AlertRuleOutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        actor, _ = _admin(request, VIEW_AUDIT)
        unknown = set(request.query_params) - {"cursor", "page_size"}
        if unknown:
            raise ValidationFailed("Unknown parameter.", details={n: ["Not a filter here."] for n in sorted(unknown)})
        paginator = CursorPagination()
        page = paginator.paginate_queryset(alert_rules_visible_to(actor=actor), request, view=self)
        return paginator.get_paginated_response(AlertRuleOutputSerializer(page, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: AlertRuleOutputSerializer})
    def post(self, request: Request) -> Response:
        actor, organization = _admin(request, MANAGE_ORGANIZATION)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if organization is None:
            raise ValidationFailed("You belong to no organization.", code="no_organization")
        rule = alerts.alert_rule_create(actor=actor, organization=organization, **data.validated_data)
        return Response(AlertRuleOutputSerializer(rule).data, status=status.HTTP_201_CREATED)


class AlertRuleDetailApi(APIView):
    class InputSerializer(StrictSerializer):
        threshold = serializers.IntegerField(min_value=1, max_value=MAX_THRESHOLD, required=False)
        window_minutes = serializers.IntegerField(min_value=1, max_value=MAX_WINDOW_MINUTES, required=False)
        enabled = serializers.BooleanField(required=False)

    def _rule(self, request: Request, rule_id: str, codename: str) -> tuple[User, AlertRule]:
        actor, _ = _admin(request, codename)
        return actor, get_in_organization(AlertRule.objects.all(), actor, rule_id)

    @extend_schema(responses=AlertRuleOutputSerializer)
    def get(self, request: Request, rule_id: str) -> Response:
        _, rule = self._rule(request, rule_id, VIEW_AUDIT)
        return Response(AlertRuleOutputSerializer(rule).data)

    @extend_schema(request=InputSerializer, responses=AlertRuleOutputSerializer)
    def patch(self, request: Request, rule_id: str) -> Response:
        actor, rule = self._rule(request, rule_id, MANAGE_ORGANIZATION)
        data = self.InputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        rule = alerts.alert_rule_update(actor=actor, rule=rule, data=dict(data.validated_data))
        return Response(AlertRuleOutputSerializer(rule).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, rule_id: str) -> Response:
        actor, rule = self._rule(request, rule_id, MANAGE_ORGANIZATION)
        alerts.alert_rule_delete(actor=actor, rule=rule)
        return Response(status=status.HTTP_204_NO_CONTENT)
