"""Who may export: members with `view_work` on the project (team managers, project admins, org admins and team
managers). Another organization's export or project is a 404, a member without the permission gets a 403."""

from __future__ import annotations

from apps.accounts.models import User
from apps.core.access import get_in_organization
from apps.exports.models import Export
from apps.labeling.access import access_project
from apps.labeling.models import Project


def access_project_export(actor: User, project_id: object) -> Project:
    return access_project(actor, project_id, "view_work")


def access_export(actor: User, export_id: object) -> Export:
    queryset = Export.objects.select_related("project", "project__organization", "job", "created_by")
    export = get_in_organization(queryset, actor, export_id)
    access_project(actor, export.project_id, "view_work")
    return export
