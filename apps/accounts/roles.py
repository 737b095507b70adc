"""Organization roles and what each may do, as guardian object permissions on the Organization."""

from __future__ import annotations

from typing import Any

from django.db import models


class OrgRole(models.TextChoices):
    ADMIN = "admin", "Admin"
    TEAM_MANAGER = "team_manager", "Team manager"
    REVIEWER = "reviewer", "Reviewer"
    LABELER = "labeler", "Labeler"
    EXPERT = "expert", "Expert"


# How far each role reaches; a change to a lower rank is a demotion (project roles above it are capped).
ROLE_RANK: dict[str, int] = {
    OrgRole.LABELER: 1,
    OrgRole.EXPERT: 1,
    OrgRole.REVIEWER: 2,
    OrgRole.TEAM_MANAGER: 3,
    OrgRole.ADMIN: 4,
}

# Organization-level capabilities (codenames of `Organization.Meta.permissions`).
MANAGE_USERS = "manage_users"
VIEW_USERS = "view_users"
MANAGE_ORGANIZATION = "manage_organization"
VIEW_AUDIT = "view_audit"
MANAGE_ONTOLOGIES = "manage_ontologies"
MANAGE_DATASETS = "manage_datasets"
MANAGE_PROJECTS = "manage_projects"

ORGANIZATION_PERMISSIONS: list[tuple[str, str | Any]] = [
    (MANAGE_ORGANIZATION, "Can change the organization's settings"),
    (MANAGE_USERS, "Can create users and change their roles"),
    (VIEW_USERS, "Can list the organization's users"),
    (VIEW_AUDIT, "Can read the organization's audit trail"),
    (MANAGE_ONTOLOGIES, "Can create and change ontologies"),
    (MANAGE_DATASETS, "Can create datasets and import data"),
    (MANAGE_PROJECTS, "Can create projects and manage their members"),
]

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    OrgRole.ADMIN: frozenset(code for code, _ in ORGANIZATION_PERMISSIONS),
    OrgRole.TEAM_MANAGER: frozenset({VIEW_USERS, MANAGE_ONTOLOGIES, MANAGE_DATASETS, MANAGE_PROJECTS}),
    OrgRole.REVIEWER: frozenset(),
    OrgRole.LABELER: frozenset(),
    OrgRole.EXPERT: frozenset(),
}


def org_perm(codename: str) -> str:
    """Full permission name for `user.has_perm(..., organization)`."""
    return f"accounts.{codename}"
