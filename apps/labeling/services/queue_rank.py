"""The active learning order of a project's queue: ranks precomputed per data row (by the predictions app's job)
stored on the open tasks, which the claim orders by (`queue._locked_first`) without computing anything itself."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from django.db import connection, transaction

from apps.labeling.models import Project, Task, TaskKind
from apps.labeling.selectors import RANKED_STATES

CHUNK = 50  # tasks locked at once: a claim passes over them for the moment of one small UPDATE


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _write(pairs: list[tuple[Any, float | None]]) -> None:
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(Task._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} AS t SET queue_rank = v.rank "  # noqa: S608 (table name from the model)
                "FROM unnest(%s::uuid[], %s::float8[]) AS v(id, rank) WHERE t.id = v.id",
                [[p[0] for p in pairs], [p[1] for p in pairs]],
            )
        return
    tasks = [Task(pk=task_id, queue_rank=rank) for task_id, rank in pairs]
    Task.objects.bulk_update(tasks, ["queue_rank"], batch_size=500)


def queue_ranks_set(
    *,
    project: Project,
    ranks: Mapping[Any, float] | None,
    chunk: int = CHUNK,
    only_rows: Sequence[Any] | None = None,
) -> int:
    """Give the project's open tasks the rank of their data row (`ranks`: data row id → rank, lowest claimed first;
    rows missing from it and every row when `ranks` is None get no rank: they come after the ranked ones, by age).

    Only tasks whose rank changes are written, a few at a time in short transactions that lock them `SKIP LOCKED`:
    claims and submits never wait for it (a claim at that instant passes over the few tasks being written), and a
    task being claimed right now keeps its old rank (it is leaving the queue anyway). Returns the tasks written.

    `only_rows`: touch only the tasks of these rows (rows that just joined the project), leaving the others' ranks."""
    found = {str(k): float(v) for k, v in (ranks or {}).items()}
    current = (
        Task.objects.filter(project=project, state__in=RANKED_STATES)
        .exclude(kind=TaskKind.EXPERT)
        .order_by("id")
        .values_list("id", "data_row_id", "queue_rank")
    )
    if only_rows is not None:
        current = current.filter(data_row_id__in=list(only_rows))
    changed = [task_id for task_id, row_id, rank in current if found.get(str(row_id)) != rank]
    written = 0
    for ids in _chunks(changed, chunk):
        with transaction.atomic():
            locked = (
                Task.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(pk__in=list(ids), state__in=RANKED_STATES)
                .order_by("id")
                .values_list("id", "data_row_id")
            )
            pairs = [(task_id, found.get(str(row_id))) for task_id, row_id in locked]
            if pairs:
                _write(pairs)
            written += len(pairs)
    return written
