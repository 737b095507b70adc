"""Batches in the admin: create one from a list of global keys, a dataset filter (metadata) or a registered row
source (the catalog's slices); change priority; pause and resume. Every write goes through the labeling services
(`batch_create`, `batch_update`), the same as `POST /projects/{id}/batches` and `PATCH /batches/{id}`."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Q, QuerySet
from django.forms import Script
from django.http import HttpRequest, HttpResponseRedirect

from apps.accounts.models import User
from apps.core.admin_scoping import OrganizationScopedAdmin, adopt_saved, service_error_message
from apps.core.errors import ApplicationError, ValidationFailed
from apps.datasets.models import Dataset
from apps.datasets.selectors import data_rows_visible_to
from apps.labeling import registry, services
from apps.labeling.models import Batch, Project

MAX_FILTER_ROWS = 100_000
PRIORITIES = [(p, f"{p}{' (highest)' if p == 5 else ' (lowest)' if p == 1 else ''}") for p in range(5, 0, -1)]


def _source_choices() -> list[tuple[str, str]]:
    return [
        ("keys", "A list of global keys"),
        ("dataset", "A dataset, optionally filtered by metadata"),
        *((f"source:{s.key}", s.label) for s in registry.batch_row_sources()),
    ]


class BatchCreateForm(forms.ModelForm):
    source = forms.ChoiceField(label="Rows from", widget=forms.RadioSelect, initial="keys")
    global_keys = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "cols": 60}),
        help_text="One global key per line (or separated by commas).",
    )
    dataset = forms.ModelChoiceField(queryset=Dataset.objects.none(), required=False)
    metadata_filter = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Optional, one per line: field=value (metadata of the dataset's rows, exact match), "
        "or media_type=image.",
    )
    picked = forms.ChoiceField(label="Which one", required=False, help_text="For a catalog slice: the slice.")

    class Meta:
        model = Batch
        fields = ("project", "name", "priority")

    class Media:
        js = [Script("admin_setup/batch_form.js", type="module")]

    actor: User | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["source"].choices = _source_choices()  # type: ignore[attr-defined]
        actor = self.actor
        if actor is not None:
            org = Q() if actor.is_superuser else Q(organization_id=actor.organization_id)
            self.fields["dataset"].queryset = Dataset.objects.filter(org).order_by("name")  # type: ignore[attr-defined]
            self.fields["project"].queryset = Project.objects.filter(org, archived=False).order_by("name")  # type: ignore[attr-defined]
            picks: list[tuple[str, str]] = [("", "—")]
            for source in registry.batch_row_sources():
                picks.extend((f"{source.key}:{value}", label) for value, label in source.choices(actor))
            self.fields["picked"].choices = picks  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        source = cleaned.get("source")
        actor = self.actor
        if actor is None or not source:
            return cleaned
        if source == "keys":
            keys = [k.strip() for k in (cleaned.get("global_keys") or "").replace(",", "\n").splitlines() if k.strip()]
            if not keys:
                self.add_error("global_keys", "Give at least one global key.")
            cleaned["rows"] = {"global_keys": keys}
        elif source == "dataset":
            dataset = cleaned.get("dataset")
            if dataset is None:
                self.add_error("dataset", "Choose the dataset.")
                return cleaned
            params: dict[str, str] = {}
            for line in (cleaned.get("metadata_filter") or "").splitlines():
                if not line.strip():
                    continue
                key, sep, value = line.partition("=")
                if not sep or not key.strip():
                    self.add_error("metadata_filter", f"“{line.strip()}” is not field=value.")
                    return cleaned
                key = key.strip()
                params[key if key == "media_type" else f"metadata.{key}"] = value.strip()
            try:
                found = list(
                    data_rows_visible_to(actor=actor, dataset=dataset, params=params)
                    .prefetch_related(None)
                    .order_by("pk")
                    .values_list("pk", flat=True)[: MAX_FILTER_ROWS + 1]
                )
            except ApplicationError as exc:
                self.add_error("metadata_filter", exc.message)
                return cleaned
            if not found:
                self.add_error("metadata_filter", "No row of this dataset matches.")
            elif len(found) > MAX_FILTER_ROWS:
                self.add_error("metadata_filter", f"More than {MAX_FILTER_ROWS} rows match: narrow the filter.")
            cleaned["rows"] = {"data_row_ids": [str(i) for i in found]}
        else:
            key = source.removeprefix("source:")
            picked = cleaned.get("picked") or ""
            chosen = next((s for s in registry.batch_row_sources() if s.key == key), None)
            if chosen is None or not picked.startswith(f"{key}:"):
                self.add_error("picked", f"Choose which {chosen.label.lower() if chosen else 'source'}.")
                return cleaned
            try:
                ids = chosen.row_ids(actor, picked.removeprefix(f"{key}:"))
            except ApplicationError as exc:
                self.add_error("picked", exc.message)
                return cleaned
            if not ids:
                self.add_error("picked", "It holds no rows.")
            cleaned["rows"] = {"data_row_ids": ids}
        return cleaned


class BatchChangeForm(forms.ModelForm):
    class Meta:
        model = Batch
        fields = ("priority", "paused")
        help_texts = {"paused": "A paused batch hands out no new work; leases already held run to their end."}


@admin.register(Batch)
class BatchAdmin(OrganizationScopedAdmin):
    organization_path = "project__organization"
    list_display = ("name", "project", "priority", "paused", "rows", "done", "created_at")
    list_editable = ("priority",)
    list_select_related = ("project",)
    # only the projects of the batches shown (scoped): never another organization's project names
    list_filter = ("paused", "priority", ("project", admin.RelatedOnlyFieldListFilter))
    search_fields = ("name", "project__name")
    actions = ["pause_selected", "resume_selected"]

    def _org_id_lookup(self) -> str:
        return "project__organization_id"

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "priority":  # also the changelist's editable column: 1..5 only
            return forms.TypedChoiceField(
                choices=PRIORITIES,
                coerce=int,
                initial=3,
                label="Priority",
                help_text="Higher priority batches are labeled first; on an existing batch every task follows.",
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> Any:
        """A service refusal (list-edited priority, an action) is a message, not a 500."""
        try:
            return super().changelist_view(request, extra_context)
        except ApplicationError as exc:
            service_error_message(request, exc)
            return HttpResponseRedirect(request.get_full_path())

    def get_queryset(self, request: HttpRequest) -> QuerySet[Batch]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_rows=Count("tasks", filter=Q(tasks__slot=0)), n_done=Count("tasks", filter=Q(tasks__state="done"))
            )
        )

    @admin.display(description="Rows", ordering="n_rows")
    def rows(self, obj: Any) -> int:
        return obj.n_rows

    @admin.display(description="Tasks done", ordering="n_done")
    def done(self, obj: Any) -> int:
        return obj.n_done

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        kwargs["form"] = BatchChangeForm if obj is not None else BatchCreateForm
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"actor": request.user})

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is not None:
            return [(None, {"fields": ("project_name", "name_shown", "priority", "paused")})]
        return [
            (None, {"fields": ("project", "name", "priority")}),
            (
                "Rows",
                {
                    "fields": ("source", "global_keys", "dataset", "metadata_filter", "picked"),
                    "description": "Rows already in the project are reported and not added twice.",
                },
            ),
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ("project_name", "name_shown") if obj is not None else ()

    @admin.display(description="Project")
    def project_name(self, obj: Batch) -> str:
        return obj.project.name

    @admin.display(description="Name")
    def name_shown(self, obj: Batch) -> str:
        return obj.name

    def save_model(self, request: HttpRequest, obj: Batch, form: forms.ModelForm, change: bool) -> None:
        actor: User = request.user  # type: ignore[assignment]
        data = form.cleaned_data
        if change:
            fields = {f: data[f] for f in ("priority", "paused") if f in form.changed_data}
            if fields:
                services.batch_update(actor=actor, batch=obj, **fields)
            return
        project = data["project"]
        if not self._owns(request, project) and not actor.is_superuser:
            raise ValidationFailed("Unknown project.")
        result = services.batch_create(
            actor=actor, project=project, name=data["name"], priority=data["priority"], **data["rows"]
        )
        adopt_saved(obj, result.batch)
        notes = [f"Added {result.added} row(s) to {project.name}."]
        if result.already_in_project:
            notes.append(f"{len(result.already_in_project)} already in the project.")
        if result.not_found:
            shown = ", ".join(result.not_found[:10])
            notes.append(f"{len(result.not_found)} not found: {shown}{'…' if len(result.not_found) > 10 else ''}.")
        self.message_user(request, " ".join(notes), messages.WARNING if result.not_found else messages.SUCCESS)

    def _owns(self, request: HttpRequest, obj: Any) -> bool:
        if isinstance(obj, Project):
            return str(obj.organization_id) == str(request.user.organization_id)  # type: ignore[union-attr]
        return super()._owns(request, obj)

    def _set_paused(self, request: HttpRequest, queryset: QuerySet[Batch], paused: bool) -> None:
        changed = 0
        for batch in queryset:
            if batch.paused != paused:
                services.batch_update(actor=request.user, batch=batch, paused=paused)  # type: ignore[arg-type]
                changed += 1
        verb = "Paused" if paused else "Resumed"
        self.message_user(request, f"{verb} {changed} batch(es).", messages.SUCCESS)

    @admin.action(description="Pause selected batches (no new work handed out)")
    def pause_selected(self, request: HttpRequest, queryset: QuerySet[Batch]) -> None:
        self._set_paused(request, queryset, True)

    @admin.action(description="Resume selected batches")
    def resume_selected(self, request: HttpRequest, queryset: QuerySet[Batch]) -> None:
        self._set_paused(request, queryset, False)
