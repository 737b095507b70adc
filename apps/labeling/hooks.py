"""What the labeling app plugs into other apps' registries (called from `LabelingConfig.ready`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db.models import Count


def feature_usage(*, ontology: Any, schema_ids: Iterable[str]) -> Mapping[str, int]:
    """Current labels of projects on this ontology that use each feature."""
    from apps.labeling.models import Annotation

    rows = (
        Annotation.objects.filter(project__ontology=ontology, schema_id__in=list(schema_ids), label__is_current=True)
        .values("schema_id")
        .annotate(labels=Count("label", distinct=True))
    )
    return {str(row["schema_id"]): row["labels"] for row in rows}


def feature_annotations(*, actor: Any, feature: Any) -> Any:
    from apps.labeling.selectors import feature_annotations_visible_to, serialize_annotation_rows
    from apps.ontologies.registry import FeatureAnnotations

    return FeatureAnnotations(
        queryset=feature_annotations_visible_to(actor=actor, feature=feature), serialize=serialize_annotation_rows
    )


def register() -> None:
    from apps.accounts.page_context import register_home_section
    from apps.labeling.views import my_projects_section
    from apps.ontologies.registry import register_feature_annotation_source, register_feature_usage_counter

    register_feature_usage_counter(feature_usage)
    register_feature_annotation_source(feature_annotations)
    register_home_section(my_projects_section)
