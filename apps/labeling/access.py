"""Who may see and work on projects, tasks and labels.

Organization admins and team managers (MANAGE_PROJECTS) manage every project of their organization. Everyone else
sees only projects they are members of, and may do what their project role grants (guardian permissions on the
project). Another organization's object, or a project one is not a member of, is a 404; a member lacking the
permission gets a 403.
"""

from __future__ import annotations

import uuid
from typing import Literal

from django.db.models import QuerySet
from guardian.shortcuts import get_objects_for_user

from apps.accounts.access import require_org_perm
from apps.accounts.models import Organization, User
from apps.accounts.roles import MANAGE_PROJECTS, org_perm
from apps.core.access import get_in_organization, has_perm, object_perms, object_perms_prefetch
from apps.core.compiled import CompiledQuery
from apps.core.errors import NotFound, PermissionDenied, ValidationFailed
from apps.labeling import roles
from apps.labeling.models import Batch, Label, Project, Task

ProjectAction = Literal["view", "label", "review", "expert", "manage", "view_work"]
_ACTION_PERMS: dict[str, str] = {
    "label": roles.LABEL,
    "review": roles.REVIEW,
    "expert": roles.EXPERT,
    "manage": roles.MANAGE,
    "view_work": roles.VIEW_WORK,
}


def is_project_manager_of_org(actor: User) -> bool:
    if actor.is_superuser:
        return True
    return actor.organization is not None and has_perm(actor, org_perm(MANAGE_PROJECTS), actor.organization)


def require_project_creator(actor: User) -> Organization:
    organization = require_org_perm(
        actor, MANAGE_PROJECTS, "Only organization admins and team managers may create projects."
    )
    if organization is None:
        raise ValidationFailed("You belong to no organization.", details={"organization": ["Projects belong to one."]})
    return organization


def projects_visible_to(actor: User) -> QuerySet[Project]:
    queryset = Project.objects.select_related("ontology", "ontology_version")
    if actor.is_superuser:
        return queryset
    queryset = queryset.filter(organization_id=actor.organization_id or "")
    if is_project_manager_of_org(actor):
        return queryset
    return queryset.filter(members__user=actor)


def projects_where(actor: User, action: ProjectAction) -> QuerySet[Project]:
    """Visible projects in which the actor may do `action`, in one query (for lists; `can` answers one project)."""
    visible = projects_visible_to(actor)
    if action == "view" or is_project_manager_of_org(actor):
        return visible
    perm = roles.project_perm(_ACTION_PERMS[action])
    return get_objects_for_user(actor, perm, klass=visible, accept_global_perms=False)


def can(actor: User, project: Project, action: ProjectAction) -> bool:
    if is_project_manager_of_org(actor):
        return True
    if action == "view":  # every project role grants at least one permission: members are those who have any
        return bool(object_perms(actor, project))
    return has_perm(actor, roles.project_perm(_ACTION_PERMS[action]), project)


def _as_uuid(value: object) -> uuid.UUID | None:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        return None


def _prefetch_perms(actor: User, project_id: object) -> None:
    """The actor's permissions on their organization and on the project in one query (the checks that follow read
    both from the request memo)."""
    pk = _as_uuid(project_id)
    if not actor.is_authenticated or actor.is_superuser or pk is None:
        return  # (not an id: the project lookup answers 404)
    objects: list[tuple[type[Project] | type[Organization], object]] = [(Project, pk)]
    if actor.organization_id is not None:
        objects.append((Organization, actor.organization_id))
    object_perms_prefetch(actor, objects)


def _denied(action: ProjectAction) -> PermissionDenied:
    return PermissionDenied(f"Your role in this project does not allow you to {action.replace('_', ' ')}.")


# The lookups of the labeling hot paths (claim, submit), compiled once per thread. They keep to what
# `projects_visible_to` and `get_in_organization` allow a user of an organization who is not a superuser.
def _project_in_org(*, project_id: uuid.UUID, organization_id: uuid.UUID) -> QuerySet[Project]:
    return Project.objects.filter(pk=project_id, organization_id=organization_id).order_by()[:1]


def _project_of_member(*, project_id: uuid.UUID, organization_id: uuid.UUID, actor_id: uuid.UUID) -> QuerySet[Project]:
    visible = Project.objects.filter(pk=project_id, organization_id=organization_id, members__user_id=actor_id)
    return visible.order_by()[:1]


def _task_in_org(*, task_id: uuid.UUID, organization_id: uuid.UUID) -> QuerySet[Task]:
    tasks = Task.objects.select_related("project", "data_row", "project__ontology_version")
    return tasks.filter(pk=task_id, project__organization_id=organization_id).order_by()[:1]


def _task_in_org_bare(*, task_id: uuid.UUID, organization_id: uuid.UUID) -> QuerySet[Task]:
    return Task.objects.select_related("project").filter(pk=task_id, project__organization_id=organization_id)[:1]


PROJECT_IN_ORG = CompiledQuery(_project_in_org, project_id="uuid", organization_id="uuid")
PROJECT_OF_MEMBER = CompiledQuery(_project_of_member, project_id="uuid", organization_id="uuid", actor_id="uuid")
TASK_IN_ORG = CompiledQuery(_task_in_org, task_id="uuid", organization_id="uuid")
TASK_IN_ORG_BARE = CompiledQuery(_task_in_org_bare, task_id="uuid", organization_id="uuid")


def _plain_member(actor: User) -> bool:
    """An active member of an organization (not a superuser): the case the compiled lookups serve."""
    return actor.is_authenticated and not actor.is_superuser and actor.organization_id is not None


def access_project(actor: User, project_id: object, action: ProjectAction = "view", *, related: bool = True) -> Project:
    """The project, or 404 (missing, another organization's, not a member) / 403 (member without the permission).

    `related=False` skips loading the ontology and its version (hot paths that do not need them)."""
    _prefetch_perms(actor, project_id)
    if not related and _plain_member(actor):
        pk = _as_uuid(project_id)
        found = None
        if pk is not None and is_project_manager_of_org(actor):
            found = PROJECT_IN_ORG.first(project_id=pk, organization_id=actor.organization_id)
        elif pk is not None:
            found = PROJECT_OF_MEMBER.first(project_id=pk, organization_id=actor.organization_id, actor_id=actor.pk)
        if found is None:
            raise NotFound()
        project = found
    else:
        queryset = projects_visible_to(actor)
        if not related:
            queryset = queryset.select_related(None)
        project = get_in_organization(queryset, actor, project_id)
    if action != "view" and not can(actor, project, action):
        raise _denied(action)
    return project


def access_task(actor: User, task_id: object, action: ProjectAction = "label", *, related: bool = True) -> Task:
    """The task (with its project, ontology version and data row) under the same rules as `access_project`.

    `related=False`: the task and its project only (for a service that reads the task again under its lock).

    The task query already keeps to the actor's organization; membership is having any permission on the project
    (every project role grants at least one, and removing a member removes them), so no second project query."""
    if _plain_member(actor):
        pk = _as_uuid(task_id)
        lookup = TASK_IN_ORG if related else TASK_IN_ORG_BARE
        found = lookup.first(task_id=pk, organization_id=actor.organization_id) if pk else None
        if found is None:
            raise NotFound()
        task = found
    else:
        queryset = Task.objects.select_related("project", "data_row", "project__ontology_version")
        task = get_in_organization(queryset, actor, task_id, organization_field="project__organization")
    project = task.project
    _prefetch_perms(actor, project.pk)
    if is_project_manager_of_org(actor):
        return task
    if not object_perms(actor, project):
        raise NotFound()
    if action != "view" and not can(actor, project, action):
        raise _denied(action)
    return task


def access_label(actor: User, label_id: object, action: ProjectAction = "view") -> Label:
    """A label is visible to its labeler and to members who may see the project's work."""
    queryset = Label.objects.select_related("project", "task", "labeler", "data_row")
    label = get_in_organization(queryset, actor, label_id, organization_field="project__organization")
    project = access_project(actor, label.project_id, "view")
    if action == "view" and label.labeler_id == actor.pk:
        return label
    if not can(actor, project, "view_work" if action == "view" else action):
        raise PermissionDenied("Your role in this project does not allow this on labels of others.")
    return label


def access_batch(actor: User, batch_id: object, action: ProjectAction = "manage") -> Batch:
    """The batch, through its project: 404 for another organization's or a project the actor is not in, 403 for a
    member lacking `action`."""
    batch = get_in_organization(Batch.objects.all(), actor, batch_id, organization_field="project__organization")
    batch.project = access_project(actor, batch.project_id, action)
    return batch
