"""Who may see and change ontologies and features: the owning organization reads, admins/team managers write.

Another organization's ontology or feature is a 404 (the same answer as a missing one); a read-only role asking to
change one is a 403.
"""

from __future__ import annotations

import uuid
from typing import Literal

from apps.accounts.access import require_org_perm
from apps.accounts.models import Organization, User
from apps.accounts.roles import MANAGE_ONTOLOGIES
from apps.core.access import get_in_organization
from apps.core.errors import NotFound, ValidationFailed
from apps.ontologies.models import Feature, Ontology

CHANGE_MESSAGE = "Only organization admins and team managers may create or change ontologies."


def require_ontology_manager(actor: User) -> Organization:
    """The organization in which the actor may create ontologies, else 403 (or 400 for an org-less superuser)."""
    organization = require_org_perm(actor, MANAGE_ONTOLOGIES, CHANGE_MESSAGE)
    if organization is None:
        raise ValidationFailed(
            "You belong to no organization.", details={"organization": ["Ontologies belong to an organization."]}
        )
    return organization


def access_ontology(actor: User, ontology_id: object, *, action: Literal["view", "change"] = "view") -> Ontology:
    ontology = get_in_organization(Ontology.objects.select_related("organization"), actor, ontology_id)
    if action == "change":
        require_org_perm(actor, MANAGE_ONTOLOGIES, CHANGE_MESSAGE)
    return ontology


def access_feature(actor: User, schema_id: object) -> Feature:
    try:
        parsed = uuid.UUID(str(schema_id))
    except (ValueError, TypeError, AttributeError):
        raise NotFound() from None
    if not actor.is_authenticated:
        raise NotFound()
    queryset = Feature.objects.filter(schema_id=parsed)
    if not actor.is_superuser:
        queryset = queryset.filter(organization_id=actor.organization_id or "")
    feature = queryset.first()
    if feature is None:
        raise NotFound()
    return feature
