"""Every write to ontologies, versions and features. API, admin and demo loaders all come through here."""

from __future__ import annotations

import copy
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.accounts.models import Organization, User
from apps.core.audit import audit_record
from apps.core.errors import Conflict, ValidationFailed
from apps.core.ids import uuid7
from apps.ontologies.domain.preview import in_use_features, in_use_message
from apps.ontologies.domain.tree import DESCRIPTION_MAX_LENGTH, NAME_MAX_LENGTH, Tree, diff_trees, normalize_tree, walk
from apps.ontologies.models import Feature, Ontology, OntologyVersion
from apps.ontologies.registry import feature_usage


def _clean_name(name: Any, *, field: str = "name") -> str:
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > NAME_MAX_LENGTH or "\x00" in name:
        raise ValidationFailed(
            "Invalid ontology.", details={field: [f"A name of 1 to {NAME_MAX_LENGTH} characters is required."]}
        )
    return name.strip()


def _clean_description(description: Any) -> str:
    if description is None:
        return ""
    if not isinstance(description, str) or len(description) > DESCRIPTION_MAX_LENGTH or "\x00" in description:
        raise ValidationFailed(
            "Invalid ontology.",
            details={"description": [f"A text of at most {DESCRIPTION_MAX_LENGTH} characters."]},
        )
    return description


def _normalized(tools: Any, classifications: Any) -> Tree:
    tree, errors = normalize_tree({"tools": tools, "classifications": classifications})
    if not tools and not classifications and not errors:
        raise ValidationFailed(
            "An ontology needs at least one tool or classification.",
            details={"tools": ["Give at least one tool or classification."]},
        )
    if errors:
        details: dict[str, list[str]] = {}
        for error in errors:
            details.setdefault(error.path, []).append(error.message)
        raise ValidationFailed("The ontology tree is invalid.", code="invalid_ontology", details=details)
    return tree


def _assign_schema_ids(*, organization: Organization, tree: Tree, previous: Tree | None) -> list[str]:
    """Give every node of `tree` a schema_id (in place) and create the Feature rows of new ones.

    A node sent with a schema_id keeps it (it must be a feature of this organization of the same kind); a node
    without one takes the schema_id of the node with the same name, kind and type under the same parent in
    `previous`, else a new one. Returns every schema_id of the tree.
    """
    explicit = {n.schema_id for n in walk(tree) if n.schema_id}
    known = {
        str(f.schema_id): f for f in Feature.objects.filter(organization=organization, schema_id__in=list(explicit))
    }
    errors: dict[str, list[str]] = {}
    for node in walk(tree):
        if node.schema_id is None:
            continue
        feature = known.get(node.schema_id)
        if feature is None:
            errors[f"{node.json_path}.schema_id"] = ["No feature of your organization has this schema_id."]
        elif feature.kind != node.kind or feature.subtype != node.subtype:
            what = f"{feature.kind} ({feature.subtype})" if feature.subtype else feature.kind
            errors[f"{node.json_path}.schema_id"] = [f"This schema_id is a {what}, not a {node.kind} ({node.subtype})."]
    if errors:
        raise ValidationFailed("The ontology tree is invalid.", code="invalid_ontology", details=errors)

    by_place: dict[tuple[str | None, str, str, str], str] = {}
    if previous is not None:
        for old in walk(previous):
            if old.schema_id:
                by_place.setdefault((old.parent, old.kind, old.subtype, old.name), old.schema_id)
    claimed = set(explicit)
    new_features: list[Feature] = []
    renamed: list[Feature] = []
    for node in walk(tree):
        schema_id = node.schema_id
        if schema_id is None:
            candidate = by_place.get((node.parent, node.kind, node.subtype, node.name))
            if candidate is not None and candidate not in claimed:
                schema_id = candidate
            else:
                feature = Feature(
                    organization=organization,
                    schema_id=uuid7(),
                    kind=node.kind,
                    subtype=node.subtype,
                    name=node.name,
                )
                new_features.append(feature)
                schema_id = str(feature.schema_id)
            node.node["schema_id"] = schema_id
            claimed.add(schema_id)
        elif (feature := known[schema_id]).name != node.name:
            feature.name = node.name
            feature.updated_at = timezone.now()  # bulk_update does not apply auto_now
            renamed.append(feature)
    Feature.objects.bulk_create(new_features)
    if renamed:
        Feature.objects.bulk_update(renamed, ["name", "updated_at"])
    return [n.schema_id for n in walk(tree) if n.schema_id]


def _version_create(
    *, ontology: Ontology, number: int, tree: Tree, schema_ids: list[str], actor: User | None
) -> OntologyVersion:
    version = OntologyVersion.objects.create(
        ontology=ontology, number=number, tree=tree, created_by=actor if _is_user(actor) else None
    )
    version.features.set(
        list(Feature.objects.filter(organization_id=ontology.organization_id, schema_id__in=schema_ids))
    )
    return version


def _is_user(actor: User | None) -> bool:
    return actor is not None and bool(getattr(actor, "is_authenticated", False))


@transaction.atomic
def ontology_create(
    *,
    organization: Organization,
    name: str,
    description: str = "",
    tools: Any = None,
    classifications: Any = None,
    actor: User | None = None,
) -> Ontology:
    """Create an ontology and its version 1. Nodes may reference existing features of the organization by
    schema_id ("create from existing features")."""
    name = _clean_name(name)
    description = _clean_description(description)
    tree = _normalized(tools or [], classifications or [])
    schema_ids = _assign_schema_ids(organization=organization, tree=tree, previous=None)
    ontology = Ontology.objects.create(
        organization=organization,
        name=name,
        description=description,
        current_version=1,
        created_by=actor if _is_user(actor) else None,
    )
    _version_create(ontology=ontology, number=1, tree=tree, schema_ids=schema_ids, actor=actor)
    audit_record(
        action="ontology.created", actor=actor, organization=organization, target=ontology, extra={"version": 1}
    )
    return ontology


@transaction.atomic
def ontology_update(
    *,
    ontology: Ontology,
    name: str,
    description: str = "",
    tools: Any = None,
    classifications: Any = None,
    expected_version: int | None = None,
    archived: bool | None = None,
    actor: User | None = None,
) -> Ontology:
    """Replace the whole tree. A changed tree becomes a new version; an identical one changes nothing but the
    name/description. Removing a feature that labels use is refused (409): archive it instead."""
    locked = Ontology.objects.select_for_update().get(pk=ontology.pk)
    if expected_version is not None and expected_version != locked.current_version:
        raise Conflict(
            f"The ontology is at version {locked.current_version}, not {expected_version}: reload it and retry.",
            code="stale_version",
            details={"version": locked.current_version},
        )
    name = _clean_name(name)
    description = _clean_description(description)
    tree = _normalized(tools or [], classifications or [])
    current = OntologyVersion.objects.get(ontology=locked, number=locked.current_version)
    schema_ids = _assign_schema_ids(organization=locked.organization, tree=tree, previous=current.tree)
    kept = set(schema_ids)
    removed = {n.schema_id: n for n in walk(current.tree) if n.schema_id and n.schema_id not in kept}
    if removed:
        in_use, total = feature_usage(ontology=locked, schema_ids=list(removed))
        if in_use:
            features = in_use_features(removed, in_use)
            raise Conflict(
                in_use_message(features, total),
                code="feature_in_use",
                details={"labels": total, "features": features},
            )
    changes: dict[str, Any] = {}
    if tree != current.tree:
        locked.current_version += 1
        _version_create(ontology=locked, number=locked.current_version, tree=tree, schema_ids=schema_ids, actor=actor)
        diff = diff_trees(current.tree, tree)
        changes["version"] = locked.current_version
        changes["diff"] = {key: len(items) for key, items in diff.items() if items}
    if name != locked.name:
        changes["name"] = name
        locked.name = name
    if description != locked.description:
        changes["description"] = True
        locked.description = description
    if archived is not None and archived != locked.archived:
        changes["archived"] = archived
        locked.archived = archived
    if changes:
        locked.save()
        audit_record(
            action="ontology.updated", actor=actor, organization=locked.organization, target=locked, extra=changes
        )
    return locked


@transaction.atomic
def ontology_clone(*, ontology: Ontology, name: str, actor: User | None = None) -> Ontology:
    """A new ontology (version 1) with the current tree of `ontology`: the same features, the same schema_ids."""
    name = _clean_name(name)
    source = OntologyVersion.objects.get(ontology=ontology, number=ontology.current_version)
    clone = Ontology.objects.create(
        organization_id=ontology.organization_id,
        name=name,
        description=ontology.description,
        current_version=1,
        cloned_from=ontology,
        created_by=actor if _is_user(actor) else None,
    )
    version = OntologyVersion.objects.create(
        ontology=clone, number=1, tree=copy.deepcopy(source.tree), created_by=actor if _is_user(actor) else None
    )
    version.features.set(list(source.features.all()))
    audit_record(
        action="ontology.cloned",
        actor=actor,
        organization=clone.organization,
        target=clone,
        extra={"source": str(ontology.pk), "source_version": source.number},
    )
    return clone


@transaction.atomic
def ontology_set_archived(*, ontology: Ontology, archived: bool, actor: User | None = None) -> Ontology:
    """Archived ontologies stay readable (projects pinned to them keep working) but are hidden from new work."""
    locked = Ontology.objects.select_for_update().get(pk=ontology.pk)
    if locked.archived != archived:
        locked.archived = archived
        locked.save(update_fields=["archived", "updated_at"])
        audit_record(
            action="ontology.archived" if archived else "ontology.unarchived",
            actor=actor,
            organization=locked.organization,
            target=locked,
        )
    return locked
