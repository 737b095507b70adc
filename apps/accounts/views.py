"""Server-rendered account pages: login (audited), password change, and the home page."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from apps.accounts import services
from apps.accounts.models import User
from apps.accounts.page_context import home_sections
from apps.core.audit import audit_record
from apps.core.throttling import LoginRateThrottle


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        throttle = LoginRateThrottle()
        if not throttle.allow_request(request, self):  # type: ignore[arg-type]
            wait = int(throttle.wait() or 60)
            message = f"Too many login attempts from your address. Try again in {wait} seconds."
            response = render(request, "accounts/locked_out.html", {"message": message}, status=429)
            response["Retry-After"] = str(wait)
            return response
        return super().post(request, *args, **kwargs)

    # Logins, failed logins and lockouts are audited from the auth signals (apps.accounts.auth_audit).


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"

    def form_valid(self, form: PasswordChangeForm) -> HttpResponse:
        response = super().form_valid(form)
        audit_record(action="user.password_changed", actor=form.user, target=form.user)
        services.api_tokens_revoke_all(user=form.user, actor=form.user, reason="password_changed")
        return response


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    context: dict[str, Any] = {"sections": home_sections(user)}
    return render(request, "accounts/home.html", context)
