"""What the labeling app plugs into other apps' registries (called from `LabelingConfig.ready`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db.models import Count


def feature_usage(*, ontology: Any, schema_ids: Iterable[str]) -> Mapping[str, int]:
    """Current labels of projects on this ontology that use each feature."""
    from apps.labeling.models import Annotation
    from apps.ontologies.registry import DISTINCT_LABELS_KEY

    using = Annotation.objects.filter(
        project__ontology=ontology, schema_id__in=list(schema_ids), label__is_current=True
    )
    rows = using.values("schema_id").annotate(labels=Count("label", distinct=True))
    counts: dict[str, int] = {str(row["schema_id"]): row["labels"] for row in rows}
    counts[DISTINCT_LABELS_KEY] = using.values("label").distinct().count()
    return counts


def feature_annotations(*, actor: Any, feature: Any) -> Any:
    from apps.labeling.selectors import feature_annotations_visible_to, serialize_annotation_rows
    from apps.ontologies.registry import FeatureAnnotations

    return FeatureAnnotations(
        queryset=feature_annotations_visible_to(actor=actor, feature=feature), serialize=serialize_annotation_rows
    )


def projects_using_versions(*, version_ids: Iterable[Any]) -> Mapping[str, list[str]]:
    """Names of the projects pinned to each ontology version (for the ontology admin)."""
    from apps.labeling.models import Project

    using: dict[str, list[str]] = {}
    for version_id, name in Project.objects.filter(ontology_version_id__in=list(version_ids)).values_list(
        "ontology_version_id", "name"
    ):
        using.setdefault(str(version_id), []).append(name)
    return using


def register() -> None:
    from apps.accounts.page_context import register_home_section
    from apps.accounts.registry import register_role_lowered_listener
    from apps.datasets.registry import register_data_row_admin_action
    from apps.labeling.admin_actions import add_to_project
    from apps.labeling.services.projects import project_roles_cap
    from apps.labeling.views import my_projects_section
    from apps.ontologies.registry import (
        register_feature_annotation_source,
        register_feature_usage_counter,
        register_version_user_lister,
    )

    register_feature_usage_counter(feature_usage)
    register_feature_annotation_source(feature_annotations)
    register_version_user_lister(projects_using_versions)
    register_home_section(my_projects_section)
    register_role_lowered_listener(project_roles_cap)
    register_data_row_admin_action(add_to_project)
    from apps.labeling.import_views import import_link
    from apps.labeling.registry import register_project_link

    register_project_link(import_link)
