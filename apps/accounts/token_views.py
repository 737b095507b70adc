"""The "API tokens" settings page: create (the key is shown once, on the answer to the POST), list, revoke."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from apps.accounts import selectors, services
from apps.accounts.access import access_api_token, request_user
from apps.core.admin_scoping import service_error_message
from apps.core.errors import ApplicationError


class TokenCreateForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What uses it, e.g. “CI export job”.")
    expires_at = forms.DateTimeField(
        required=False,
        help_text="Optional, UTC, e.g. 2027-01-31 18:00. Empty: valid until revoked.",
        widget=forms.DateTimeInput(attrs={"placeholder": "YYYY-MM-DD HH:MM"}),
    )


@login_required
@require_http_methods(["GET", "POST"])
def tokens_page(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    form = TokenCreateForm(request.POST or None)
    issued = None
    if request.method == "POST" and form.is_valid():
        try:
            issued = services.api_token_create(
                user=user, name=form.cleaned_data["name"], actor=user, expires_at=form.cleaned_data["expires_at"]
            )
            form = TokenCreateForm()
        except ApplicationError as exc:
            service_error_message(request, exc)
    tokens = selectors.api_tokens_of(user=user)[:200]
    response = render(
        request, "accounts/tokens.html", {"form": form, "issued": issued, "tokens": tokens, "now": timezone.now()}
    )
    response["Cache-Control"] = "no-store"  # the new key is in this page
    return response


@login_required
@require_POST
def token_revoke(request: HttpRequest, token_id: str) -> HttpResponse:
    user = request_user(request)
    token = access_api_token(user, token_id)
    if token.user_id != user.pk:  # this page manages one's own tokens; admins use the admin or the API
        return render(request, "errors/404.html", status=404)
    services.api_token_revoke(token=token, actor=user)
    messages.success(request, f"Token “{token.name or token.prefix}” revoked.")
    return redirect("settings_tokens")
