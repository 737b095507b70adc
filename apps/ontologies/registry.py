"""Hooks other apps plug into, so the ontologies app does not import them.

- A *usage counter* answers "how many labels use each of these features of this ontology?" The labeling app
  registers one; `ontology_update` refuses (409) to remove a feature whose count is above zero. Default: 0.
- A *version user lister* names the projects pinned to each ontology version (admin "projects using" columns).
  Default: none.
- An *annotation source* lists the annotations of one feature across every project a user may see, for
  `GET /api/v1/features/{schema_id}/annotations`. Without one the endpoint returns an empty page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet

if TYPE_CHECKING:
    from apps.accounts.models import User
    from apps.ontologies.models import Feature, Ontology


@dataclass(frozen=True)
class FeatureAnnotations:
    """What an annotation source returns: a queryset the API cursor-paginates (it must have `created_at` and
    `id`) and a function turning one page of it into JSON-ready dicts."""

    queryset: QuerySet[Any]
    serialize: Callable[[Sequence[Any]], list[dict[str, Any]]]


# (*, ontology, schema_ids) -> {schema_id: number of labels using it}
FeatureUsageCounter = Callable[..., Mapping[str, int]]
# (*, actor, feature) -> FeatureAnnotations
FeatureAnnotationSource = Callable[..., FeatureAnnotations]

# (*, version_ids) -> {str(version_id): [project name, ...]}
VersionUserLister = Callable[..., Mapping[str, Sequence[str]]]

_usage_counters: list[FeatureUsageCounter] = []
_version_listers: list[VersionUserLister] = []
_annotation_sources: list[FeatureAnnotationSource] = []


def register_feature_usage_counter(func: FeatureUsageCounter) -> FeatureUsageCounter:
    if func not in _usage_counters:
        _usage_counters.append(func)
    return func


def unregister_feature_usage_counter(func: FeatureUsageCounter) -> None:
    if func in _usage_counters:
        _usage_counters.remove(func)


def register_feature_annotation_source(func: FeatureAnnotationSource) -> FeatureAnnotationSource:
    """The most recently registered source answers."""
    if func not in _annotation_sources:
        _annotation_sources.append(func)
    return func


def unregister_feature_annotation_source(func: FeatureAnnotationSource) -> None:
    if func in _annotation_sources:
        _annotation_sources.remove(func)


def register_version_user_lister(func: VersionUserLister) -> VersionUserLister:
    if func not in _version_listers:
        _version_listers.append(func)
    return func


def unregister_version_user_lister(func: VersionUserLister) -> None:
    if func in _version_listers:
        _version_listers.remove(func)


def has_version_listers() -> bool:
    return bool(_version_listers)


def projects_using_versions(version_ids: Iterable[Any]) -> dict[str, list[str]]:
    """Project names pinned to each version id (only versions some project uses appear)."""
    ids = [str(v) for v in version_ids]
    result: dict[str, list[str]] = {}
    if not ids:
        return result
    for lister in list(_version_listers):
        for version_id, names in lister(version_ids=ids).items():
            result.setdefault(str(version_id), []).extend(names)
    return result


# A counter may also report, under this key, how many distinct labels use any of the features (one label using three
# removed features counts once); without it the per-feature counts are summed.
DISTINCT_LABELS_KEY = "*"


def feature_usage(*, ontology: Ontology, schema_ids: Iterable[str]) -> tuple[dict[str, int], int]:
    """(labels using each feature, labels using any of them), over every registered counter."""
    ids = [str(s) for s in schema_ids]
    totals: dict[str, int] = {}
    distinct = 0
    if not ids:
        return totals, distinct
    for counter in list(_usage_counters):
        counts = dict(counter(ontology=ontology, schema_ids=ids))
        reported = counts.pop(DISTINCT_LABELS_KEY, None)
        for schema_id, count in counts.items():
            if count:
                totals[str(schema_id)] = totals.get(str(schema_id), 0) + int(count)
        distinct += int(reported) if reported is not None else sum(int(c) for c in counts.values())
    return totals, distinct


def feature_usage_counts(*, ontology: Ontology, schema_ids: Iterable[str]) -> dict[str, int]:
    """Labels using each feature, summed over every registered counter (features with none are left out)."""
    return feature_usage(ontology=ontology, schema_ids=schema_ids)[0]


def feature_annotations_for(*, actor: User, feature: Feature) -> FeatureAnnotations | None:
    if not _annotation_sources:
        return None
    return _annotation_sources[-1](actor=actor, feature=feature)
