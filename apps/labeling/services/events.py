"""Labeling events for `apps.core.events` (webhooks): `label.*`, `task.done`, `batch.done`. Payloads use the API's
label JSON (`apps.labeling.serialization`) and are built only when someone listens (the callables are called lazily)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from apps.core.events import emit, listening
from apps.labeling.models import Batch, Label, Project, Task, TaskState
from apps.labeling.serialization import LabelOutputSerializer

_OPEN = (
    TaskState.TO_LABEL,
    TaskState.IN_PROGRESS,
    TaskState.IN_REVIEW,
    TaskState.IN_REWORK,
    TaskState.AWAITING_CONSENSUS,
)


def label_payload(label: Label) -> dict[str, Any]:
    return dict(LabelOutputSerializer(label).data)


def task_payload(task: Task) -> dict[str, Any]:
    return {
        "id": str(task.pk),
        "project": str(task.project_id),
        "batch": str(task.batch_id),
        "data_row": str(task.data_row_id),
        "kind": task.kind,
        "slot": task.slot,
        "state": task.state,
        "labeled_by": str(task.labeled_by_id) if task.labeled_by_id else None,
        "done_at": task.done_at.isoformat() if task.done_at else None,
    }


def label_emit(event_type: str, project: Project, label: Label) -> None:
    emit(
        type=event_type,
        organization_id=project.organization_id,
        project_id=project.pk,
        object=lambda: label_payload(label),
    )


def tasks_done_emit(project: Project, tasks: Iterable[Task]) -> None:
    """`task.done` for each task that is done now, then `batch.done` for each of their batches with no open task
    left. The batch row is locked first, so of two last tasks finishing at once exactly one announces the batch."""
    done = [task for task in tasks if task.state == TaskState.DONE]
    if done:
        from apps.labeling import registry  # registry imports the models only; late import keeps events light

        registry.tasks_done(project, done)
    for task in done:
        emit(
            type="task.done",
            organization_id=project.organization_id,
            project_id=project.pk,
            object=lambda task=task: task_payload(task),  # type: ignore[misc]
        )
    if not done or not listening(type="batch.done", organization_id=project.organization_id, project_id=project.pk):
        return
    for batch_id in sorted({task.batch_id for task in done}, key=str):
        batch = Batch.objects.select_for_update().filter(pk=batch_id).first()
        if batch is None or Task.objects.filter(batch_id=batch_id, state__in=_OPEN).exists():
            continue
        emit(
            type="batch.done",
            organization_id=project.organization_id,
            project_id=project.pk,
            object=lambda batch=batch: {  # type: ignore[misc]
                "id": str(batch.pk),
                "project": str(batch.project_id),
                "name": batch.name,
                "priority": batch.priority,
                "quality": batch.quality,
                "created_at": batch.created_at.isoformat(),
            },
        )
