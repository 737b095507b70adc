"""Who may see and work on issues. An issue delegates to its project and task: reviewers, team managers and admins
(anyone who may review the project) work on every issue of it; a labeler on issues of tasks they labeled or hold.
Outside the organization or the project: 404. A member without that right: 403."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet

from apps.accounts.models import User
from apps.core.access import get_in_organization
from apps.core.errors import PermissionDenied
from apps.issues.models import Issue
from apps.labeling.access import access_project, can
from apps.labeling.models import Label, Project, Task


def works_on_task(actor: User, task: Task) -> bool:
    """The actor labeled any revision of the task, holds it, or has it back in rework."""
    if task.assignee_id == actor.pk or task.rework_user_id == actor.pk or task.labeled_by_id == actor.pk:
        return True
    return Label.objects.filter(task=task, labeler=actor).exists()


def may_participate(actor: User, project: Project, task: Task | None, issue: Issue | None = None) -> bool:
    if can(actor, project, "review"):
        return True
    if issue is not None and issue.created_by_id == actor.pk:
        return True
    return task is not None and works_on_task(actor, task)


def require_participation(actor: User, project: Project, task: Task | None, issue: Issue | None = None) -> None:
    if not may_participate(actor, project, task, issue):
        raise PermissionDenied("Only the labeler of this label and the project's reviewers and managers may do this.")


def access_issue(actor: User, issue_id: object) -> Issue:
    queryset = Issue.objects.select_related("project", "task", "label", "data_row", "created_by", "resolved_by")
    issue = get_in_organization(queryset, actor, issue_id)
    project = access_project(actor, issue.project_id, "view")
    require_participation(actor, project, issue.task, issue)
    return issue


def issues_visible_to(actor: User, project: Project) -> QuerySet[Issue]:
    queryset = Issue.objects.filter(project=project)
    if can(actor, project, "review"):
        return queryset
    labeled = Label.objects.filter(task_id=OuterRef("task_id"), labeler=actor)
    return queryset.filter(
        Q(created_by=actor)
        | Q(task__assignee=actor)
        | Q(task__rework_user=actor)
        | Q(task__labeled_by=actor)
        | Exists(labeled)
    )
