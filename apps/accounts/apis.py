"""Accounts REST API: token, organizations, me, users. Thin: parse → access → service → serialize."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts import services
from apps.accounts.access import access_user, require_org_perm, require_superuser
from apps.accounts.models import User
from apps.accounts.roles import MANAGE_USERS, VIEW_USERS, OrgRole
from apps.accounts.selectors import users_visible_to
from apps.core.audit import audit_record
from apps.core.errors import NotAuthenticated
from apps.core.pagination import CursorPagination
from apps.core.serializers import StrictSerializer
from apps.core.throttling import ScopedRateThrottle


class OrganizationRefSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()


class UserOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    username = serializers.CharField()
    email = serializers.CharField()  # may be blank: not documented as an email
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    role = serializers.CharField()
    is_active = serializers.BooleanField()
    organization = OrganizationRefSerializer(allow_null=True)
    date_joined = serializers.DateTimeField()
    last_login = serializers.DateTimeField(allow_null=True)


class TokenObtainApi(APIView):
    authentication_classes: list[type] = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"

    class InputSerializer(StrictSerializer):
        username = serializers.CharField()
        password = serializers.CharField(trim_whitespace=False)
        name = serializers.CharField(required=False, allow_blank=True, max_length=100)

    @extend_schema(
        request=InputSerializer,
        responses={201: inline_serializer("TokenOutput", {"token": serializers.CharField()})},
        auth=[],
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        username = data.validated_data["username"]
        user = authenticate(request._request, username=username, password=data.validated_data["password"])
        if user is None:  # audited (and counted for the lockout) by the user_login_failed signal
            raise NotAuthenticated("Invalid username or password.", code="invalid_credentials")
        audit_record(action="auth.login", actor=user, target=user, extra={"via": "api"})
        issued = services.api_token_create(user=user, name=data.validated_data.get("name", "api"))
        return Response({"token": issued.key}, status=status.HTTP_201_CREATED)

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        """A credential is in the answer: no cache (browser, proxy) may keep it, errors included (RFC 6749 5.1)."""
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Cache-Control"] = "no-store"
        response["Pragma"] = "no-cache"
        return response


class OrganizationCreateApi(APIView):
    class AdminInputSerializer(StrictSerializer):
        username = serializers.CharField(max_length=150)
        password = serializers.CharField(trim_whitespace=False)
        email = serializers.EmailField(required=False, allow_blank=True)

    class InputSerializer(StrictSerializer):
        name = serializers.CharField(max_length=200)
        admin = serializers.DictField()

    class OutputSerializer(serializers.Serializer):
        id = serializers.UUIDField()
        name = serializers.CharField()
        admin = inline_serializer(
            "OrganizationAdmin", {"id": serializers.UUIDField(), "username": serializers.CharField()}
        )

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer})
    def post(self, request: Request) -> Response:
        require_superuser(request.user)  # type: ignore[arg-type]
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        admin = self.AdminInputSerializer(data=data.validated_data["admin"])
        if not admin.is_valid():
            raise serializers.ValidationError({"admin": admin.errors})
        created = services.organization_create(
            name=data.validated_data["name"],
            admin=dict(admin.validated_data),
            actor=request.user,  # type: ignore[arg-type]
        )
        body = {
            "id": created.organization.id,
            "name": created.organization.name,
            "admin": {"id": created.admin.id, "username": created.admin.username},
        }
        return Response(self.OutputSerializer(body).data, status=status.HTTP_201_CREATED)


class MeApi(APIView):
    @extend_schema(responses=UserOutputSerializer)
    def get(self, request: Request) -> Response:
        return Response(UserOutputSerializer(request.user).data)


class UserPagination(CursorPagination):
    ordering = ("-date_joined", "-id")


class UserListCreateApi(APIView):
    pagination_class = UserPagination  # the schema documents the GET list as pages

    class InputSerializer(StrictSerializer):
        username = serializers.CharField(max_length=150)
        password = serializers.CharField(trim_whitespace=False)
        email = serializers.EmailField(required=False, allow_blank=True, default="")
        role = serializers.ChoiceField(choices=OrgRole.choices, default=OrgRole.LABELER)
        first_name = serializers.CharField(required=False, allow_blank=True, max_length=150, default="")
        last_name = serializers.CharField(required=False, allow_blank=True, max_length=150, default="")

    @extend_schema(responses=UserOutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        actor: User = request.user  # type: ignore[assignment]
        require_org_perm(actor, VIEW_USERS, "Your role does not allow listing users.")
        queryset = users_visible_to(actor=actor)
        if role := request.query_params.get("role"):
            queryset = queryset.filter(role=role)
        paginator = UserPagination()
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response(UserOutputSerializer(page, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: UserOutputSerializer})
    def post(self, request: Request) -> Response:
        actor: User = request.user  # type: ignore[assignment]
        organization = require_org_perm(actor, MANAGE_USERS, "Only organization admins may create users.")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if organization is None:  # a superuser without an organization must use POST /organizations
            raise serializers.ValidationError({"organization": ["You belong to no organization."]})
        user = services.user_create(organization=organization, actor=actor, **data.validated_data)
        return Response(UserOutputSerializer(user).data, status=status.HTTP_201_CREATED)


class UserDetailApi(APIView):
    class InputSerializer(StrictSerializer):
        role = serializers.ChoiceField(choices=OrgRole.choices, required=False)
        is_active = serializers.BooleanField(required=False)
        email = serializers.EmailField(required=False, allow_blank=True)
        first_name = serializers.CharField(required=False, allow_blank=True, max_length=150)
        last_name = serializers.CharField(required=False, allow_blank=True, max_length=150)

    @extend_schema(responses=UserOutputSerializer)
    def get(self, request: Request, user_id: str) -> Response:
        user = access_user(request.user, user_id, action="view")  # type: ignore[arg-type]
        return Response(UserOutputSerializer(user).data)

    @extend_schema(request=InputSerializer, responses=UserOutputSerializer)
    def patch(self, request: Request, user_id: str) -> Response:
        user = access_user(request.user, user_id, action="change")  # type: ignore[arg-type]
        data = self.InputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        user = services.user_update(user=user, actor=request.user, data=dict(data.validated_data))  # type: ignore[arg-type]
        return Response(UserOutputSerializer(user).data)
