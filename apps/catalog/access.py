"""Who may do what in the catalog: every member of the organization reads embeddings, analyses and slices;
MANAGE_DATASETS (admins, team managers) creates spaces, uploads vectors and starts jobs. Another organization's
object is a 404, like a missing one."""

from __future__ import annotations

from apps.accounts.access import require_org_perm
from apps.accounts.models import User
from apps.accounts.roles import MANAGE_DATASETS
from apps.catalog.models import EmbeddingSpace, Slice
from apps.core.access import get_in_organization
from apps.core.errors import PermissionDenied


def require_manage_catalog(actor: User) -> None:
    require_org_perm(actor, MANAGE_DATASETS, "Only admins and team managers may change embeddings or start jobs.")


def access_embedding_space(actor: User, space_id: object, *, manage: bool = False) -> EmbeddingSpace:
    space = get_in_organization(EmbeddingSpace.objects.select_related("organization"), actor, space_id)
    if manage:
        require_manage_catalog(actor)
    return space


def access_slice(actor: User, slice_id: object, *, manage: bool = False) -> Slice:
    found = get_in_organization(Slice.objects.select_related("organization", "dataset"), actor, slice_id)
    if manage and found.created_by_id != actor.pk:
        try:
            require_manage_catalog(actor)
        except PermissionDenied:
            raise PermissionDenied("Only the slice's creator, admins and team managers may change it.") from None
    return found
