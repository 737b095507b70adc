"""Admin for datasets: row counts, data rows with metadata filters and a link to the asset. Writes use services.
Later apps add data row actions through `apps.datasets.registry` (labeling: "Add to project…")."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db import connection
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from apps.core.admin_scoping import OrganizationScopedAdmin, service_error_message
from apps.core.errors import ApplicationError
from apps.datasets import registry, selectors, services
from apps.datasets.models import DataRow, Dataset, MetadataField, StorageIntegration


@admin.register(Dataset)
class DatasetAdmin(OrganizationScopedAdmin):
    list_display = ("name", "organization", "row_count", "created_at")
    list_select_related = ("organization",)
    search_fields = ("name", "description")
    org_admin_can_delete = True

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None and request.user.is_superuser:
            return ("organization", "name", "description")
        return ("name", "description")

    @admin.display(description="Data rows")
    def row_count(self, obj: Dataset) -> str:
        """Exact up to 1,000 rows, else the database's estimate ("about 2.1 million"): no COUNT(*) per dataset."""
        return str(selectors.dataset_row_count(dataset=obj, limit=selectors.LIST_EXACT_UP_TO))

    def save_model(self, request: HttpRequest, obj: Dataset, form: forms.ModelForm, change: bool) -> None:
        actor = request.user
        if change:
            services.dataset_update(actor=actor, dataset=obj, name=obj.name, description=obj.description)  # type: ignore[arg-type]
            return
        created = services.dataset_create(
            actor=actor,  # type: ignore[arg-type]
            name=obj.name,
            description=obj.description,
            organization=form.cleaned_data.get("organization"),
        )
        obj.pk = created.pk
        obj._state.adding = False
        obj._state.db = "default"

    def delete_model(self, request: HttpRequest, obj: Dataset) -> None:
        services.dataset_delete(actor=request.user, dataset=obj)  # type: ignore[arg-type]


class SplitFilter(admin.SimpleListFilter):
    title = "split"
    parameter_name = "split"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("train", "train"), ("valid", "valid"), ("test", "test")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[DataRow]) -> QuerySet[DataRow]:
        if self.value():
            return queryset.filter(metadata__split=self.value())
        return queryset


@admin.register(DataRow)
class DataRowAdmin(OrganizationScopedAdmin):
    list_display = ("global_key", "dataset", "media_type", "metadata_summary", "asset", "created_at")
    list_select_related = ("dataset",)
    list_filter = ("media_type", SplitFilter)
    search_fields = ("global_key", "external_id")
    search_help_text = "A global key or external id, or field=value to filter by metadata (e.g. camera=front)."
    readonly_fields = (
        "dataset",
        "global_key",
        "external_id",
        "row_data",
        "media_type",
        "width",
        "height",
        "metadata",
        "asset",
        "created_at",
        "updated_at",
    )
    fields = readonly_fields
    org_admin_can_add = False
    org_admin_can_change = False
    org_admin_can_delete = True
    show_full_result_count = False

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        """Plus the data row actions later apps register (e.g. labeling's "Add to project…")."""
        actions = super().get_actions(request)
        for action in registry.data_row_admin_actions():
            name = action.__name__
            actions[name] = (action, name, getattr(action, "short_description", name.replace("_", " ")))
        return actions

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False  # rows come in through imports and uploads

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="Metadata")
    def metadata_summary(self, obj: DataRow) -> str:
        text = json.dumps(obj.metadata, ensure_ascii=False)
        return text if len(text) <= 80 else text[:79] + "…"

    @admin.display(description="Asset")
    def asset(self, obj: DataRow) -> str:
        return format_html('<a href="/api/v1/data_rows/{}/content" rel="noopener noreferrer">open</a>', obj.pk)

    def get_search_results(self, request: HttpRequest, queryset: QuerySet[Any], search_term: str) -> Any:
        name, sep, value = search_term.partition("=")
        if sep and name.strip() and "/" not in name:
            from apps.datasets.domain.metadata import MetadataError, filter_value
            from apps.datasets.importer import metadata_specs

            organization_id = getattr(request.user, "organization_id", None)
            spec = metadata_specs(organization_id).get(name.strip())
            if spec is not None:
                try:
                    wanted = {spec.name: filter_value(spec, value.strip())}
                except MetadataError as exc:
                    messages.warning(request, str(exc))
                    return queryset.none(), False
                if connection.vendor == "postgresql":
                    return queryset.filter(metadata__contains=wanted), False
                return queryset.filter(**{f"metadata__{spec.name}": wanted[spec.name]}), False
        return super().get_search_results(request, queryset, search_term)

    def delete_model(self, request: HttpRequest, obj: DataRow) -> None:
        services.data_row_delete(actor=request.user, data_row=obj)  # type: ignore[arg-type]

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[DataRow]) -> None:
        for row in queryset:
            services.data_row_delete(actor=request.user, data_row=row)  # type: ignore[arg-type]


@admin.register(MetadataField)
class MetadataFieldAdmin(OrganizationScopedAdmin):
    list_display = ("name", "kind", "organization", "created_at")
    list_filter = ("kind",)
    search_fields = ("name",)
    fields = ("name", "kind", "options")
    org_admin_can_change = False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: MetadataField, form: forms.ModelForm, change: bool) -> None:
        created = services.metadata_field_create(
            actor=request.user,  # type: ignore[arg-type]
            name=obj.name,
            kind=obj.kind,
            options=obj.options if isinstance(obj.options, list) else [],
        )
        obj.pk = created.pk
        obj._state.adding = False
        obj._state.db = "default"


@admin.register(StorageIntegration)
class StorageIntegrationAdmin(OrganizationScopedAdmin):
    list_display = ("name", "bucket", "region", "organization", "last_validation_ok", "last_validated_at")
    readonly_fields = ("external_id", "last_validated_at", "last_validation_ok", "last_validation_message")
    fields = ("name", "bucket", "region", "role_arn", *readonly_fields)
    actions = ["validate"]
    org_admin_can_change = False
    org_admin_can_delete = True

    def save_model(self, request: HttpRequest, obj: StorageIntegration, form: forms.ModelForm, change: bool) -> None:
        if change:
            return
        created = services.storage_integration_create(
            actor=request.user,  # type: ignore[arg-type]
            name=obj.name,
            bucket=obj.bucket,
            region=obj.region,
            role_arn=obj.role_arn,
        )
        obj.pk = created.pk
        obj._state.adding = False
        obj._state.db = "default"

    def delete_model(self, request: HttpRequest, obj: StorageIntegration) -> None:
        services.storage_integration_delete(actor=request.user, integration=obj)  # type: ignore[arg-type]

    @admin.action(description="Validate access (assume the role, list the bucket)")
    def validate(self, request: HttpRequest, queryset: QuerySet[StorageIntegration]) -> None:
        for integration in queryset:
            try:
                result = services.storage_integration_validate(actor=request.user, integration=integration)  # type: ignore[arg-type]
            except ApplicationError as exc:
                service_error_message(request, exc)
                continue
            level = messages.SUCCESS if result.last_validation_ok else messages.ERROR
            messages.add_message(request, level, f"{integration.name}: {result.last_validation_message}")
