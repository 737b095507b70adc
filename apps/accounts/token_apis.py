"""API tokens: a user's own (list, create — the key is shown once —, revoke) and an org admin's view of members'."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts import selectors, services
from apps.accounts.access import access_api_token, request_user, require_org_perm
from apps.accounts.models import ApiToken
from apps.accounts.roles import MANAGE_USERS
from apps.core.errors import ValidationFailed
from apps.core.pagination import CursorPagination
from apps.core.serializers import StrictSerializer


class ApiTokenOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    prefix = serializers.CharField()
    user = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True)
    revoked_at = serializers.DateTimeField(allow_null=True)

    def get_user(self, token: ApiToken) -> dict[str, str]:
        return {"id": str(token.user_id), "username": token.user.username}


class IssuedApiTokenOutputSerializer(ApiTokenOutputSerializer):
    key = serializers.CharField(help_text="The secret: shown in this answer only, never again.")


def _active_filter(queryset: QuerySet[ApiToken], request: Request, allowed: set[str]) -> QuerySet[ApiToken]:
    params = request.query_params
    unknown = set(params) - allowed - {"cursor", "page_size"}
    if unknown:
        raise ValidationFailed("Unknown parameter.", details={name: ["Not a filter here."] for name in sorted(unknown)})
    active = params.get("active")
    if active is not None:
        if active not in ("true", "false"):
            raise ValidationFailed("active must be true or false.", details={"active": ["Use true or false."]})
        live = queryset.filter(revoked_at__isnull=True).exclude(expires_at__lte=timezone.now())
        queryset = live if active == "true" else queryset.exclude(pk__in=live.values("pk"))
    return queryset


def _page(request: Request, view: APIView, queryset: QuerySet[ApiToken]) -> Response:
    paginator = CursorPagination()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(ApiTokenOutputSerializer(page, many=True).data)


class TokenListCreateApi(APIView):
    pagination_class = CursorPagination  # the schema documents the GET list as pages

    class InputSerializer(StrictSerializer):
        name = serializers.CharField(max_length=100)
        expires_at = serializers.DateTimeField(required=False, allow_null=True, default=None)

    @extend_schema(
        parameters=[OpenApiParameter("active", bool, description="Only live (true) or only revoked/expired (false).")],
        responses=ApiTokenOutputSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        queryset = selectors.api_tokens_of(user=request_user(request))
        return _page(request, self, _active_filter(queryset, request, {"active"}))

    @extend_schema(request=InputSerializer, responses={201: IssuedApiTokenOutputSerializer})
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = request_user(request)
        issued = services.api_token_create(
            user=user, name=data.validated_data["name"], actor=user, expires_at=data.validated_data["expires_at"]
        )
        body = {**ApiTokenOutputSerializer(issued.token).data, "key": issued.key}
        response = Response(body, status=status.HTTP_201_CREATED)
        response["Cache-Control"] = "no-store"
        return response


class TokenDetailApi(APIView):
    @extend_schema(responses={204: None})
    def delete(self, request: Request, token_id: str) -> Response:
        actor = request_user(request)
        token = access_api_token(actor, token_id)
        services.api_token_revoke(token=token, actor=actor)
        return Response(status=status.HTTP_204_NO_CONTENT)


class OrganizationTokenListApi(APIView):
    pagination_class = CursorPagination  # the schema documents the GET list as pages

    @extend_schema(
        parameters=[
            OpenApiParameter("user", str, description="Only this member's tokens (user id)."),
            OpenApiParameter("active", bool),
        ],
        responses=ApiTokenOutputSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        actor = request_user(request)
        organization = require_org_perm(actor, MANAGE_USERS, "Only organization admins may list members' tokens.")
        if organization is None:
            raise ValidationFailed("You belong to no organization.", code="no_organization")
        queryset = selectors.api_tokens_of_organization(organization=organization)
        if user_id := request.query_params.get("user"):
            try:
                queryset = queryset.filter(user_id=serializers.UUIDField().to_internal_value(user_id))
            except serializers.ValidationError:
                raise ValidationFailed("user must be a user id.", details={"user": ["Not a UUID."]}) from None
        return _page(request, self, _active_filter(queryset, request, {"active", "user"}))
