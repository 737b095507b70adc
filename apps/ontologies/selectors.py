"""Reads of ontologies, versions and features, limited to what the caller may see."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from django.db.models import OuterRef, QuerySet, Subquery

from apps.accounts.models import User
from apps.core.errors import NotFound, ValidationFailed
from apps.ontologies.domain.preview import in_use_features, in_use_message, provisional_ids, removed_schema_ids
from apps.ontologies.domain.tree import diff_trees, normalize_tree
from apps.ontologies.domain.validation import CompiledOntology, compile_ontology, validate_annotations
from apps.ontologies.models import Feature, Ontology, OntologyVersion
from apps.ontologies.registry import FeatureAnnotations, feature_annotations_for, feature_usage


def ontologies_visible_to(*, actor: User, archived: bool | None = None) -> QuerySet[Ontology]:
    """The actor's organization's ontologies, each annotated with its current tree (`current_tree`)."""
    queryset = Ontology.objects.all()
    if not actor.is_superuser:
        queryset = queryset.filter(organization_id=actor.organization_id or "")
    if archived is not None:
        queryset = queryset.filter(archived=archived)
    current = OntologyVersion.objects.filter(ontology=OuterRef("pk"), number=OuterRef("current_version"))
    return queryset.annotate(current_tree=Subquery(current.values("tree")[:1]))


def ontology_version_get(*, ontology: Ontology, number: int | None = None) -> OntologyVersion:
    number = ontology.current_version if number is None else number
    version = OntologyVersion.objects.filter(ontology=ontology, number=number).select_related("created_by").first()
    if version is None:
        raise NotFound(f"Version {number} of this ontology does not exist.")
    return version


def ontology_versions(*, ontology: Ontology) -> QuerySet[OntologyVersion]:
    return OntologyVersion.objects.filter(ontology=ontology).select_related("created_by")


def ontology_diff(*, ontology: Ontology, from_number: int | None, to_number: int | None) -> dict[str, Any]:
    """What changed from one version to another (defaults: the previous version to the current one)."""
    to_number = ontology.current_version if to_number is None else to_number
    from_number = max(to_number - 1, 1) if from_number is None else from_number
    if from_number < 1 or to_number < 1:
        raise ValidationFailed("Versions start at 1.", details={"from": ["Must be at least 1."]})
    versions = {
        v.number: v for v in OntologyVersion.objects.filter(ontology=ontology, number__in=[from_number, to_number])
    }
    for number in (from_number, to_number):
        if number not in versions:
            raise NotFound(f"Version {number} of this ontology does not exist.")
    return {"from": from_number, "to": to_number, **diff_trees(versions[from_number].tree, versions[to_number].tree)}


_COMPILED_CACHE_SIZE = 256
_compiled_cache: OrderedDict[Any, CompiledOntology] = OrderedDict()
_compiled_lock = threading.Lock()


def compiled_version(version: OntologyVersion) -> CompiledOntology:
    """The validator's lookup tables for a version. Versions are immutable, so they are cached by id."""
    with _compiled_lock:
        compiled = _compiled_cache.get(version.pk)
        if compiled is not None:
            _compiled_cache.move_to_end(version.pk)
            return compiled
    compiled = compile_ontology(version.tree)
    with _compiled_lock:
        _compiled_cache[version.pk] = compiled
        while len(_compiled_cache) > _COMPILED_CACHE_SIZE:
            _compiled_cache.popitem(last=False)
    return compiled


def annotations_validate(
    *,
    version: OntologyVersion,
    annotations: Any,
    image_size: tuple[float, float] | None = None,
    text_length: int | None = None,
    complete: bool = False,
    allow_archived: bool = False,
) -> tuple[list[dict[str, Any] | None], list[dict[str, Any]]]:
    """The one validator, against a stored version: `(normalized, errors)` (see `domain.validation`)."""
    return validate_annotations(
        compiled_version(version),
        annotations,
        image_size=image_size,
        text_length=text_length,
        complete=complete,
        allow_archived=allow_archived,
    )


def feature_annotations(*, actor: User, feature: Feature) -> FeatureAnnotations | None:
    """Annotations of a feature across the projects the actor may see; None until the labeling app plugs in."""
    return feature_annotations_for(actor=actor, feature=feature)


def feature_usage_in_ontologies(*, feature: Feature) -> list[dict[str, Any]]:
    """The ontologies whose versions contain the feature, with those version numbers (one query)."""
    rows = (
        OntologyVersion.objects.filter(features=feature)
        .order_by("ontology__created_at", "ontology_id", "number")
        .values_list("ontology_id", "ontology__name", "ontology__current_version", "number")
    )
    result: dict[Any, dict[str, Any]] = {}
    for ontology_id, name, current, number in rows:
        entry = result.setdefault(ontology_id, {"id": ontology_id, "name": name, "versions": [], "current": False})
        entry["versions"].append(number)
        entry["current"] = entry["current"] or number == current
    return list(result.values())


def features_of_organization(*, actor: User) -> QuerySet[Feature]:
    queryset = Feature.objects.all()
    if not actor.is_superuser:
        queryset = queryset.filter(organization_id=actor.organization_id or "")
    return queryset


def ontology_change_preview(*, ontology: Ontology | None, tree: Any) -> dict[str, Any]:
    """What saving `tree` ({"tools", "classifications"}) as the next version of `ontology` (None: a new ontology)
    would do, without saving: the validator's errors, the version diff against the current version (new nodes get
    the schema_ids the save would give them, or `new:<n>`), and the removed features that labels use (the save would
    be refused with the API's 409 sentence)."""
    if not isinstance(tree, dict) or not set(tree) <= {"tools", "classifications"}:
        return {
            "errors": [{"path": "", "message": 'Give an object {"tools": [...], "classifications": [...]}.'}],
            "diff": None,
            "in_use": None,
        }
    normalized, errors = normalize_tree(tree)
    answer: dict[str, Any] = {
        "errors": [{"path": e.path, "message": e.message} for e in errors[:200]],
        "diff": None,
        "in_use": None,
        "version": ontology.current_version if ontology is not None else 0,
    }
    if not normalized["tools"] and not normalized["classifications"] and not errors:
        answer["errors"].append({"path": "tools", "message": "Give at least one tool or classification."})
    if errors:
        return answer
    current = (
        OntologyVersion.objects.filter(ontology=ontology, number=ontology.current_version)
        .values_list("tree", flat=True)
        .first()
        if ontology is not None
        else None
    )
    provisional = provisional_ids(normalized, current)
    if current is None:
        answer["diff"] = diff_trees({"tools": [], "classifications": []}, provisional)
        answer["changed"] = True
        return answer
    answer["diff"] = diff_trees(current, provisional)
    answer["changed"] = provisional != current
    removed = removed_schema_ids(current, provisional)
    if removed and ontology is not None:
        in_use, total = feature_usage(ontology=ontology, schema_ids=list(removed))
        if in_use:
            features = in_use_features(removed, in_use)
            answer["in_use"] = {"labels": total, "features": features, "message": in_use_message(features, total)}
    return answer
