"""Model endpoints in the admin: the form checks through the services (the URL guard included); the secret is a
write-only field (left empty: unchanged) and is never shown."""

from __future__ import annotations

import copy
from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from apps.accounts.access import request_user
from apps.core.admin_scoping import OrganizationScopedAdmin, adopt_saved
from apps.core.errors import ValidationFailed
from apps.predictions.models import EndpointRow, ModelEndpoint
from apps.predictions.services import endpoints

FIELDS = (
    "name",
    "url",
    "kind",
    "protocol",
    "ontology",
    "class_map",
    "secret_header",
    "timeout_seconds",
    "batch_size",
    "max_concurrency",
)


class ModelEndpointForm(forms.ModelForm):
    secret = forms.CharField(
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Sent as the header's value on every call; stored encrypted. Leave empty to keep the current one.",
    )

    class Meta:
        model = ModelEndpoint
        fields = FIELDS

    def values(self) -> dict[str, Any]:
        values = {f: self.cleaned_data.get(f) for f in FIELDS if f in self.cleaned_data}
        if self.cleaned_data.get("secret"):
            values["secret"] = self.cleaned_data["secret"]
        return values

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        organization_id = getattr(self, "organization_id", None) or self.instance.organization_id
        try:
            endpoints.model_endpoint_validate(self.values(), copy.copy(self.instance), organization_id)
        except ValidationFailed as exc:
            details = exc.details if isinstance(exc.details, dict) else {}
            field = next((k for k in details if k in self.fields), None)
            self.add_error(field, exc.message)
        return cleaned


@admin.register(ModelEndpoint)
class ModelEndpointAdmin(OrganizationScopedAdmin):
    form = ModelEndpointForm
    list_display = ("name", "kind", "protocol", "url", "model_version", "circuit", "last_checked_at")
    list_filter = ("kind", "protocol", "circuit")
    search_fields = ("name", "url")
    readonly_fields = ("model", "model_version", "circuit", "consecutive_failures", "opened_until", "last_checked_at")
    org_admin_can_delete = True

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        organization_id = request_user(request).organization_id

        class Scoped(form):  # type: ignore[misc,valid-type]
            def __init__(self, *args: Any, **inner: Any) -> None:
                super().__init__(*args, **inner)
                self.organization_id = organization_id or self.instance.organization_id

        return Scoped

    def save_model(self, request: HttpRequest, obj: ModelEndpoint, form: Any, change: bool) -> None:
        actor = request_user(request)
        if change:
            fresh = ModelEndpoint.objects.get(pk=obj.pk)
            endpoints.model_endpoint_update(actor=actor, endpoint=fresh, values=form.values())
            return
        adopt_saved(obj, endpoints.model_endpoint_create(actor=actor, values=form.values()))

    def delete_model(self, request: HttpRequest, obj: ModelEndpoint) -> None:
        endpoints.model_endpoint_delete(actor=request_user(request), endpoint=obj)


@admin.register(EndpointRow)
class EndpointRowAdmin(OrganizationScopedAdmin):
    organization_path = "endpoint__organization"
    org_admin_can_add = False
    org_admin_can_change = False
    list_display = ("data_row", "endpoint", "project", "status", "attempts", "model_version", "error", "updated_at")
    list_filter = ("status",)
    list_select_related = ("endpoint", "project", "data_row")
    readonly_fields = (
        "endpoint",
        "project",
        "data_row",
        "status",
        "attempts",
        "error",
        "model_version",
        "annotations",
        "next_attempt_at",
        "updated_at",
    )
