"""`Authorization: Token <key>` against hashed API tokens."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.authentication import SessionScheme
from rest_framework import authentication, exceptions

from apps.accounts.models import ApiToken, User
from apps.accounts.services import hash_token_key
from apps.core.compiled import CompiledQuery

LAST_USED_RESOLUTION = timedelta(minutes=1)


def _live_token(*, key_hash: str) -> QuerySet[ApiToken]:
    live = ApiToken.objects.filter(key_hash=key_hash, revoked_at__isnull=True)
    return live.select_related("user", "user__organization").order_by("pk")[:1]


# Every API request runs this statement: compiled once per thread (no cache of answers, so a revoke is immediate).
LIVE_TOKEN = CompiledQuery(_live_token, key_hash="str")


class ApiTokenAuthentication(authentication.TokenAuthentication):
    keyword = "Token"

    def authenticate_credentials(self, key: str) -> tuple[User, ApiToken]:
        token = LIVE_TOKEN.first(key_hash=hash_token_key(key))
        now = timezone.now()
        if token is None or (token.expires_at is not None and token.expires_at <= now):
            raise exceptions.AuthenticationFailed("Invalid or revoked token.")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token


class SessionAuthentication(authentication.SessionAuthentication):
    """DRF's session authentication, with the CSRF check of a non-form body made on the underlying `HttpRequest`.

    DRF checks the CSRF token through its own `Request`, whose `.POST` parses the body with the view's parsers to
    look for a form token: a streamed import (no parsers: CSV, NDJSON, COCO JSON read as a stream) then fails with
    415 for browsers although the `X-CSRFToken` header is there. Django's request answers `.POST` for such a body
    without reading it, so the same check runs there. Form bodies keep DRF's path (its parsers, its limits)."""

    def enforce_csrf(self, request):  # type: ignore[no-untyped-def]
        from rest_framework.request import is_form_media_type

        if is_form_media_type(getattr(request, "content_type", "") or ""):
            return super().enforce_csrf(request)
        return super().enforce_csrf(getattr(request, "_request", request))


class SessionAuthenticationScheme(SessionScheme):
    """The OpenAPI security scheme of `SessionAuthentication` (drf-spectacular's own one matches DRF's class only)."""

    target_class = "apps.accounts.authentication.SessionAuthentication"
