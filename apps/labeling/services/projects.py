"""Projects, members and batches."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from guardian.shortcuts import assign_perm, remove_perm

from apps.accounts.models import User
from apps.core.audit import audit_record
from apps.core.errors import Conflict, ValidationFailed
from apps.core.ids import is_uuid
from apps.datasets.models import DataRow
from apps.labeling import registry, roles
from apps.labeling.access import require_project_creator
from apps.labeling.domain.project_settings import normalize_batch_quality, normalize_settings
from apps.labeling.models import Batch, Project, ProjectMember, ProjectRole, Task, TaskKind, TaskState
from apps.ontologies.models import Ontology, OntologyVersion
from apps.ontologies.selectors import ontology_diff

MEDIA_TYPES = ("image", "text", "video")
BATCH_CHUNK = 5000
MAX_BATCH_ROWS = 1_000_000


def _clean_name(name: Any, field: str = "name") -> str:
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > 200:
        raise ValidationFailed(f"Invalid {field}.", details={field: ["A name of 1 to 200 characters is required."]})
    return name.strip()


def project_settings_check(
    *, organization_id: Any, raw: Any, current: dict[str, Any] | None = None
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The settings `raw` (partial blocks) would give over `current`, and the errors by "block.field" path: the
    one check of the API and the admin form."""
    settings, errors = normalize_settings(raw, current)
    if not errors:
        errors = registry.settings_errors(organization_id, settings)
    return settings, errors


def _settings_or_400(raw: Any, organization_id: Any, current: dict[str, Any] | None = None) -> dict[str, Any]:
    settings, errors = project_settings_check(organization_id=organization_id, raw=raw, current=current)
    if errors:
        raise ValidationFailed("Invalid project settings.", details=errors)
    return settings


@transaction.atomic
def project_create(
    *,
    actor: User,
    name: str,
    ontology: Ontology,
    media_type: str = "image",
    instructions: str = "",
    description: str = "",
    settings: dict[str, Any] | None = None,
) -> Project:
    organization = require_project_creator(actor)
    name = _clean_name(name)
    if ontology.organization_id != organization.pk:
        raise ValidationFailed("Unknown ontology.", details={"ontology": ["No such ontology in your organization."]})
    if media_type not in MEDIA_TYPES:
        raise ValidationFailed("Invalid media type.", details={"media_type": [f"One of: {', '.join(MEDIA_TYPES)}."]})
    version = OntologyVersion.objects.get(ontology=ontology, number=ontology.current_version)
    if Project.objects.filter(organization=organization, name__iexact=name).exists():
        raise Conflict(f"A project named {name!r} exists.", code="project_exists")
    project = Project.objects.create(
        organization=organization,
        name=name,
        description=description or "",
        ontology=ontology,
        ontology_version=version,
        media_type=media_type,
        instructions=instructions or "",
        settings=_settings_or_400(settings, organization.pk),
        created_by=actor,
    )
    audit_record(action="project.created", actor=actor, organization=organization, target=project)
    return project


@transaction.atomic
def project_update(*, actor: User, project: Project, data: dict[str, Any]) -> Project:
    project = Project.objects.select_for_update().get(pk=project.pk)
    if "name" in data:
        name = _clean_name(data["name"])
        if (
            Project.objects.filter(organization_id=project.organization_id, name__iexact=name)
            .exclude(pk=project.pk)
            .exists()
        ):
            raise Conflict(f"A project named {name!r} exists.", code="project_exists")
        project.name = name
    for field in ("description", "instructions"):
        if field in data:
            setattr(project, field, data[field] or "")
    if "archived" in data:
        project.archived = bool(data["archived"])
    previous = project.settings
    if "settings" in data:
        project.settings = _settings_or_400(data["settings"], project.organization_id, project.settings)
    project.save()
    if project.settings != previous:
        registry.settings_changed(project, previous)
    audit_record(
        action="project.updated",
        actor=actor,
        organization=project.organization,
        target=project,
        extra={"fields": sorted(data)},
    )
    return project


@dataclass(frozen=True)
class OntologyUpgrade:
    project: Project
    diff: dict[str, Any]
    applied: bool


@transaction.atomic
def project_upgrade_ontology(
    *, actor: User, project: Project, version_number: int | None = None, dry_run: bool = False
) -> OntologyUpgrade:
    """Move the project to a newer version of its ontology (default: the latest), reporting what changes."""
    project = Project.objects.select_for_update().select_related("ontology", "ontology_version").get(pk=project.pk)
    target = project.ontology.current_version if version_number is None else version_number
    if target <= project.ontology_version.number:
        raise Conflict(
            f"The project is on version {project.ontology_version.number}; choose a newer one.",
            code="not_newer",
        )
    diff = ontology_diff(ontology=project.ontology, from_number=project.ontology_version.number, to_number=target)
    if not dry_run:
        project.ontology_version = OntologyVersion.objects.get(ontology=project.ontology, number=target)
        project.save(update_fields=["ontology_version", "updated_at"])
        audit_record(
            action="project.ontology_upgraded",
            actor=actor,
            organization=project.organization,
            target=project,
            extra={"from": diff["from"], "to": diff["to"]},
        )
    return OntologyUpgrade(project=project, diff=diff, applied=not dry_run)


def project_mark(*, project_id: Any, has_benchmark_references: bool = False, has_prelabels: bool = False) -> None:
    """Record that the project now holds benchmark references / pre-labels (see `Project.has_prelabels`). Writes
    only when a flag changes, so callers may call it after every import."""
    if has_benchmark_references:
        Project.objects.filter(pk=project_id, has_benchmark_references=False).update(has_benchmark_references=True)
    if has_prelabels:
        Project.objects.filter(pk=project_id, has_prelabels=False).update(has_prelabels=True)


def _sync_member_perms(project: Project, user: User, role: str | None) -> None:
    wanted = roles.ROLE_PROJECT_PERMS.get(role, frozenset()) if role else frozenset()
    for codename in roles.ALL_PROJECT_PERMS:
        if codename in wanted:
            assign_perm(roles.project_perm(codename), user, project)
        else:
            remove_perm(roles.project_perm(codename), user, project)


@transaction.atomic
def project_member_set(*, actor: User, project: Project, user: User, role: str) -> ProjectMember:
    """Add a member with a role, or change the role of an existing one."""
    if role not in ProjectRole.values:
        raise ValidationFailed("Invalid role.", details={"role": [f"One of: {', '.join(ProjectRole.values)}."]})
    if user.organization_id != project.organization_id or not user.is_active:
        raise ValidationFailed("Unknown user.", details={"user": ["No such active user in your organization."]})
    member, created = ProjectMember.objects.update_or_create(project=project, user=user, defaults={"role": role})
    _sync_member_perms(project, user, role)
    audit_record(
        action="project.member_set",
        actor=actor,
        organization=project.organization,
        target=project,
        extra={"user": str(user.pk), "role": role, "created": created},
    )
    return member


@transaction.atomic
def project_member_remove(*, actor: User, project: Project, user: User) -> None:
    deleted, _ = ProjectMember.objects.filter(project=project, user=user).delete()
    if deleted:
        _sync_member_perms(project, user, None)
        Task.objects.filter(project=project, assignee=user, state="in_progress").update(
            state="to_label", assignee=None, lease_expires_at=None, claimed_at=None
        )
        audit_record(
            action="project.member_removed",
            actor=actor,
            organization=project.organization,
            target=project,
            extra={"user": str(user.pk)},
        )


# Project roles that manage a project, and the organization roles allowed to keep them through a demotion.
PROJECT_ROLE_RANK = {"labeler": 1, "expert": 1, "reviewer": 2, "team_manager": 3, "admin": 4}


@transaction.atomic
def project_roles_cap(*, user: User, actor: User | None, old_role: str, new_role: str) -> int:
    """After the user's organization role went down (`old_role` → `new_role`), every project membership that ranks
    above the new organization role is lowered to it: a demoted org admin does not keep project admin rights.
    Project roles granted above a role that did not change are kept (a labeler made a project's team manager stays
    one). Registered as the accounts app's role-lowered listener; returns how many memberships changed."""
    ceiling = PROJECT_ROLE_RANK.get(new_role, 1)
    capped_role = new_role if new_role in ProjectRole.values else ProjectRole.LABELER
    changed = 0
    members = ProjectMember.objects.select_for_update().select_related("project__organization").filter(user=user)
    for member in members:
        if PROJECT_ROLE_RANK.get(member.role, 0) <= ceiling:
            continue
        previous = member.role
        member.role = capped_role
        member.save(update_fields=["role", "updated_at"])
        _sync_member_perms(member.project, user, capped_role)
        audit_record(
            action="project.member_capped",
            actor=actor,
            organization=member.project.organization,
            target=member.project,
            extra={"user": str(user.pk), "from": previous, "to": capped_role, "org_role": [old_role, new_role]},
        )
        changed += 1
    return changed


@dataclass(frozen=True)
class BatchResult:
    batch: Batch
    added: int
    already_in_project: list[str]
    not_found: list[str]


def _consensus_slots(project: Project, overrides: dict[str, Any], data_row_id: str) -> int:
    """How many distinct labelers the row needs: the batch's overrides over the project's quality settings; the
    draw per (project, row) is reproducible, so re-adding a row later gives the same answer."""
    quality = {**project.settings.get("quality", {}), **overrides}
    coverage = float(quality.get("consensus_coverage") or 0)
    labelers = int(quality.get("consensus_labelers") or 1)
    if labelers <= 1 or coverage <= 0:
        return 1
    draw = zlib.crc32(f"{project.pk}:{data_row_id}".encode()) / 0xFFFFFFFF
    return labelers if draw < coverage else 1


@transaction.atomic
def batch_create(
    *,
    actor: User,
    project: Project,
    name: str,
    data_row_ids: Sequence[str] | None = None,
    global_keys: Sequence[str] | None = None,
    priority: int = 3,
    quality: Any = None,
) -> BatchResult:
    """Queue data rows of the organization in the project. A row already in the project is reported, not re-added.
    `quality` may override the project's consensus coverage and labelers for this batch."""
    name = _clean_name(name)
    overrides, quality_errors = normalize_batch_quality(quality)
    if quality_errors:
        raise ValidationFailed("Invalid batch quality settings.", details=quality_errors)
    if not isinstance(priority, int) or isinstance(priority, bool) or not 1 <= priority <= 5:
        raise ValidationFailed("Invalid priority.", details={"priority": ["An integer from 1 to 5."]})
    if (data_row_ids is None) == (global_keys is None):
        raise ValidationFailed("Give either data_rows or global_keys.", details={"data_rows": ["One of the two."]})
    requested = list(dict.fromkeys(str(v) for v in (data_row_ids if data_row_ids is not None else global_keys or [])))
    if not requested:
        raise ValidationFailed("The batch is empty.", details={"data_rows": ["Give at least one data row."]})
    if len(requested) > MAX_BATCH_ROWS:
        raise ValidationFailed(f"At most {MAX_BATCH_ROWS} rows per batch.", details={"data_rows": ["Too many."]})
    key_field = "id" if data_row_ids is not None else "global_key"
    rows = DataRow.objects.filter(organization_id=project.organization_id)
    found: dict[str, str] = {}
    for start in range(0, len(requested), BATCH_CHUNK):
        chunk = requested[start : start + BATCH_CHUNK]
        if key_field == "id":
            chunk = [c for c in chunk if is_uuid(c)]
        for row_id, key in rows.filter(**{f"{key_field}__in": chunk}).values_list("id", key_field):
            found[str(key)] = str(row_id)
    not_found = [key for key in requested if key not in found]
    existing = {
        str(v)
        for v in Task.objects.filter(project=project, data_row_id__in=list(found.values())).values_list(
            "data_row_id", flat=True
        )
    }
    already = [key for key, row_id in found.items() if row_id in existing]
    try:
        with transaction.atomic():
            batch = Batch.objects.create(
                project=project, name=name, priority=priority, quality=overrides, created_by=actor
            )
    except IntegrityError:
        raise Conflict(f"A batch named {name!r} exists in this project.", code="batch_exists") from None
    # In the order the rows were given (not the database's): rows of equal priority are handed out in that order.
    new_rows = [found[key] for key in requested if key in found and found[key] not in existing]
    tasks: list[Task] = []
    for row_id in new_rows:
        slots = _consensus_slots(project, overrides, row_id)
        kind = TaskKind.CONSENSUS if slots > 1 else TaskKind.LABEL
        tasks.extend(
            Task(project=project, batch=batch, data_row_id=row_id, slot=slot, kind=kind, priority=priority)
            for slot in range(slots)
        )
    Task.objects.bulk_create(tasks, batch_size=BATCH_CHUNK, ignore_conflicts=True)
    if new_rows:
        registry.rows_joined(project, new_rows)  # ranked by the queue order before the first claim
    audit_record(
        action="batch.created",
        actor=actor,
        organization=project.organization,
        target=batch,
        extra={"added": len(new_rows), "already_in_project": len(already), "not_found": len(not_found)},
    )
    return BatchResult(batch=batch, added=len(new_rows), already_in_project=already, not_found=not_found)


@transaction.atomic
def batch_update(*, actor: User, batch: Batch, priority: Any = None, paused: Any = None) -> Batch:
    """Change a batch's priority (its tasks' too: the queue serves higher first) and pause or resume it. A paused
    batch hands out no new work: its queued tasks (and leases already run out) wait in the `paused` state until it is
    resumed; leases held now run to their end, and rework goes on."""
    if priority is None and paused is None:
        raise ValidationFailed("Nothing to change.", details={"priority": ["Give priority and/or paused."]})
    if priority is not None and (not isinstance(priority, int) or isinstance(priority, bool) or not 1 <= priority <= 5):
        raise ValidationFailed("Invalid priority.", details={"priority": ["An integer from 1 to 5."]})
    if paused is not None and not isinstance(paused, bool):
        raise ValidationFailed("Invalid paused.", details={"paused": ["true or false."]})
    locked = Batch.objects.select_for_update().select_related("project__organization").get(pk=batch.pk)
    changes: dict[str, Any] = {}
    tasks = Task.objects.filter(batch=locked)
    if priority is not None and priority != locked.priority:
        changes["priority"] = {"from": locked.priority, "to": priority}
        locked.priority = priority
        tasks.update(priority=priority)
    if paused is not None and paused != locked.paused:
        locked.paused = paused
        if paused:
            now = timezone.now()
            waiting = tasks.filter(
                Q(state=TaskState.TO_LABEL) | Q(state=TaskState.IN_PROGRESS, lease_expires_at__lt=now)
            ).update(state=TaskState.PAUSED, assignee=None, lease_expires_at=None, claimed_at=None)
        else:
            waiting = tasks.filter(state=TaskState.PAUSED).update(state=TaskState.TO_LABEL)
        changes["paused"] = paused
        changes["tasks"] = waiting
    if changes:
        locked.save()
        audit_record(
            action="batch.updated", actor=actor, organization=locked.project.organization, target=locked, extra=changes
        )
    return locked
