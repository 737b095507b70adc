"""Quality in the admin: benchmark references (gold stars), consensus scores, label scores; a project action."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.accounts.access import request_user
from apps.core.admin_scoping import ReadOnlyScopedAdmin, service_error_message
from apps.core.errors import ApplicationError
from apps.labeling.models import Project
from apps.quality import services
from apps.quality.models import BenchmarkReference, ConsensusScore, LabelScore


@admin.register(BenchmarkReference)
class BenchmarkReferenceAdmin(ReadOnlyScopedAdmin):
    organization_path = "project__organization"
    list_display = ("gold", "data_row", "label", "project", "created_by", "created_at")
    list_select_related = ("data_row", "project", "created_by")
    list_filter = ("project",)
    actions = ["unset_references"]

    @admin.display(description="")
    def gold(self, obj: BenchmarkReference) -> str:
        return "★"

    @admin.action(description="Remove as benchmark reference")
    def unset_references(self, request: HttpRequest, queryset: QuerySet[BenchmarkReference]) -> None:
        actor = request_user(request)
        for reference in queryset.select_related("label__project"):
            services.benchmark_unset(actor=actor, label=reference.label)
        self.message_user(request, f"Removed {queryset.count()} reference(s).")


@admin.register(ConsensusScore)
class ConsensusScoreAdmin(ReadOnlyScopedAdmin):
    organization_path = "project__organization"
    list_display = ("data_row", "project", "score", "label_count", "complete", "flagged", "computed_at")
    list_select_related = ("data_row", "project")
    list_filter = ("flagged", "complete", "project")
    ordering = ("score",)


@admin.register(LabelScore)
class LabelScoreAdmin(ReadOnlyScopedAdmin):
    organization_path = "project__organization"
    list_display = ("label", "labeler", "project", "consensus_agreement", "benchmark_score", "computed_at")
    list_select_related = ("labeler", "project")
    list_filter = ("project",)


@admin.action(description="Recompute quality scores (benchmarks and consensus)")
def recompute_quality(modeladmin: Any, request: HttpRequest, queryset: QuerySet[Project]) -> None:
    actor = request_user(request)
    for project in queryset:
        try:
            job = services.project_recompute(actor=actor, project=project)
        except ApplicationError as exc:
            service_error_message(request, exc)
            continue
        modeladmin.message_user(request, f"Recomputing {project.name}: job {job.id}.")
