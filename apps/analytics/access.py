"""Who sees which numbers: people who may see everyone's work get the whole project; a member who labels or
reviews gets their own numbers only; anyone else gets 404 (from `access_project`)."""

from __future__ import annotations

from apps.accounts.models import User
from apps.core.errors import PermissionDenied
from apps.labeling.access import access_project, can
from apps.labeling.models import Project


def access_performance(actor: User, project_id: object) -> tuple[Project, User | None]:
    """The project and whose numbers the actor may see: None for everyone's, or the actor alone."""
    project = access_project(actor, project_id)
    if can(actor, project, "view_work"):
        return project, None
    if can(actor, project, "label") or can(actor, project, "review"):
        return project, actor
    raise PermissionDenied("You may not see this project's performance.")
