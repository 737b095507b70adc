"""Project roles as django-guardian permissions on the project."""

from __future__ import annotations

from apps.labeling.models import ProjectRole

LABEL = "label_project"
REVIEW = "review_project"
EXPERT = "expert_project"
MANAGE = "manage_project"
VIEW_WORK = "view_project_work"
ALL_PROJECT_PERMS = (LABEL, REVIEW, EXPERT, MANAGE, VIEW_WORK)

ROLE_PROJECT_PERMS: dict[str, frozenset[str]] = {
    ProjectRole.LABELER: frozenset({LABEL}),
    ProjectRole.REVIEWER: frozenset({REVIEW, VIEW_WORK}),
    ProjectRole.EXPERT: frozenset({EXPERT, LABEL}),
    ProjectRole.TEAM_MANAGER: frozenset({MANAGE, VIEW_WORK, REVIEW, LABEL}),
    ProjectRole.ADMIN: frozenset(ALL_PROJECT_PERMS),
}


def project_perm(codename: str) -> str:
    return f"labeling.{codename}"
