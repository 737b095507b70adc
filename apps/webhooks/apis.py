"""Webhooks REST API (API.md "Webhooks"): organization admins only."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.access import request_user
from apps.core.pagination import CursorPagination
from apps.core.serializers import StrictSerializer
from apps.webhooks import selectors, services
from apps.webhooks.access import access_delivery, access_webhook, require_webhook_admin
from apps.webhooks.domain.events import EVENT_TYPES

_WEBHOOK_FIELDS: dict[str, Any] = {
    "id": serializers.UUIDField(),
    "url": serializers.CharField(),
    "events": serializers.ListField(child=serializers.ChoiceField(choices=EVENT_TYPES)),
    "project": serializers.UUIDField(allow_null=True),
    "active": serializers.BooleanField(),
    "failing": serializers.BooleanField(),
    "failing_since": serializers.DateTimeField(allow_null=True),
    "created_by": serializers.UUIDField(allow_null=True),
    "created_at": serializers.DateTimeField(),
}
_WEBHOOK = inline_serializer("Webhook", _WEBHOOK_FIELDS)
_WEBHOOKS = inline_serializer("Webhook", _WEBHOOK_FIELDS, many=True)
_WEBHOOK_CREATED = inline_serializer("WebhookCreated", {**_WEBHOOK_FIELDS, "secret": serializers.CharField()})
_DELIVERY_FIELDS: dict[str, Any] = {
    "id": serializers.UUIDField(),
    "event": inline_serializer(
        "WebhookDeliveryEvent",
        {"id": serializers.UUIDField(), "type": serializers.CharField(), "created_at": serializers.DateTimeField()},
    ),
    "attempt": serializers.IntegerField(),
    "manual": serializers.BooleanField(),
    "state": serializers.ChoiceField(choices=["pending", "succeeded", "failed"]),
    "status_code": serializers.IntegerField(allow_null=True),
    "latency_ms": serializers.IntegerField(allow_null=True),
    "response_body": serializers.CharField(),
    "error": serializers.CharField(),
    "next_retry_at": serializers.DateTimeField(allow_null=True),
    "delivered_at": serializers.DateTimeField(allow_null=True),
    "created_at": serializers.DateTimeField(),
}
_DELIVERY = inline_serializer("WebhookDelivery", _DELIVERY_FIELDS)
_DELIVERIES = inline_serializer("WebhookDelivery", _DELIVERY_FIELDS, many=True)


class WebhookCreateInput(StrictSerializer):
    url = serializers.JSONField()
    events = serializers.JSONField()
    project = serializers.UUIDField(required=False, allow_null=True)


class WebhookUpdateInput(StrictSerializer):
    url = serializers.JSONField(required=False)
    events = serializers.JSONField(required=False)
    active = serializers.BooleanField(required=False)


class WebhookListApi(APIView):
    pagination_class = CursorPagination  # the schema documents the GET list as pages

    @extend_schema(responses=_WEBHOOKS)
    def get(self, request: Request) -> Response:
        organization = require_webhook_admin(request_user(request))
        paginator = CursorPagination()
        page = paginator.paginate_queryset(selectors.webhooks_of(organization=organization), request, self)
        return paginator.get_paginated_response([selectors.serialize_webhook(w) for w in page or []])

    @extend_schema(request=WebhookCreateInput, responses={201: _WEBHOOK_CREATED})
    def post(self, request: Request) -> Response:
        actor = request_user(request)
        organization = require_webhook_admin(actor)
        data = WebhookCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        webhook = services.webhook_create(
            actor=actor,
            organization=organization,
            url=data.validated_data["url"],
            events=data.validated_data["events"],
            project_id=data.validated_data.get("project"),
        )
        return Response(selectors.serialize_webhook(webhook, with_secret=True), status=status.HTTP_201_CREATED)


class WebhookDetailApi(APIView):
    @extend_schema(responses=_WEBHOOK)
    def get(self, request: Request, webhook_id: str) -> Response:
        return Response(selectors.serialize_webhook(access_webhook(request_user(request), webhook_id)))

    @extend_schema(request=WebhookUpdateInput, responses=_WEBHOOK)
    def patch(self, request: Request, webhook_id: str) -> Response:
        actor = request_user(request)
        webhook = access_webhook(actor, webhook_id)
        data = WebhookUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        webhook = services.webhook_update(actor=actor, webhook=webhook, **data.validated_data)
        return Response(selectors.serialize_webhook(webhook))

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, webhook_id: str) -> Response:
        actor = request_user(request)
        services.webhook_delete(actor=actor, webhook=access_webhook(actor, webhook_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookDeliveriesApi(APIView):
    pagination_class = CursorPagination  # the schema documents the GET list as pages

    @extend_schema(responses=_DELIVERIES)
    def get(self, request: Request, webhook_id: str) -> Response:
        webhook = access_webhook(request_user(request), webhook_id)
        paginator = CursorPagination()
        page = paginator.paginate_queryset(selectors.deliveries_of(webhook=webhook), request, self)
        return paginator.get_paginated_response([selectors.serialize_delivery(d) for d in page or []])


class WebhookTestApi(APIView):
    @extend_schema(request=None, responses={202: _DELIVERY})
    def post(self, request: Request, webhook_id: str) -> Response:
        actor = request_user(request)
        delivery = services.webhook_send_test(actor=actor, webhook=access_webhook(actor, webhook_id))
        return Response(selectors.serialize_delivery(delivery), status=status.HTTP_202_ACCEPTED)


class WebhookRedeliverApi(APIView):
    @extend_schema(request=None, responses={202: _DELIVERY})
    def post(self, request: Request, webhook_id: str, delivery_id: str) -> Response:
        actor = request_user(request)
        delivery = services.delivery_redeliver(actor=actor, delivery=access_delivery(actor, webhook_id, delivery_id))
        return Response(selectors.serialize_delivery(delivery), status=status.HTTP_202_ACCEPTED)
