"""Reads of the exports app: exports visible to a user, and the row pages every export format is written from."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import connection
from django.db.models import QuerySet

from apps.accounts.models import User
from apps.core.db_router import reads_from_replica
from apps.core.errors import ValidationFailed
from apps.datasets.selectors import attachment_texts_of_rows, metadata_filter_values
from apps.exports import registry
from apps.exports.domain.documents import categories
from apps.exports.domain.filters import ExportFilters, FilterError, parse_filters
from apps.exports.domain.ndjson import LabelEntry, LineEncoder, PageIds, select_labels, splice
from apps.exports.models import Export
from apps.labeling.access import projects_where
from apps.labeling.models import Project
from apps.labeling.selectors import (
    current_label_documents_of_rows,
    project_rows_count,
    project_rows_page,
    task_texts_of_rows,
)

if TYPE_CHECKING:
    from apps.exports.coco_sql import CocoPage
    from apps.exports.sql import PageQuery

DEFAULT_PAGE_SIZE = 5000


def filters_or_400(raw: Any, *, from_query: bool = False) -> ExportFilters:
    try:
        return parse_filters(raw, from_query=from_query)
    except FilterError as exc:
        raise ValidationFailed("Invalid export filters.", code="invalid_filters", details=exc.details) from None


@dataclass(frozen=True)
class RowQuery:
    """The filters of an export resolved against the project (metadata typed by the organization's schema)."""

    project: Project
    filters: ExportFilters
    row_filters: Mapping[str, Any]

    @classmethod
    def build(cls, project: Project, filters: ExportFilters) -> RowQuery:
        metadata = (
            metadata_filter_values(organization_id=project.organization_id, raw=filters.metadata)
            if filters.metadata
            else None
        )
        row_filters = {
            "states": filters.states,
            "batch_ids": filters.batch_ids,
            "global_keys": filters.global_keys,
            "metadata": metadata,
            "labeler_ids": filters.labeler_ids,
            "label_created_from": filters.label_created_from,
            "label_created_to": filters.label_created_to,
        }
        return cls(project=project, filters=filters, row_filters=row_filters)

    def count(self) -> int:
        return project_rows_count(project=self.project, **self.row_filters)

    @property
    def contiguous(self) -> bool:
        """Whether a page holds every project row between its first and last id (no row filter)."""
        return not any(self.row_filters.values())

    def page(
        self, *, after: Any, limit: int, as_json: bool = False, only: Sequence[str] | None = None
    ) -> list[dict[str, Any]]:
        return project_rows_page(
            project=self.project, after=after, limit=limit, as_json=as_json, only=only, **self.row_filters
        )

    def pages(
        self,
        *,
        after: Any = None,
        page_size: int = DEFAULT_PAGE_SIZE,
        as_json: bool = False,
        only: Sequence[str] | None = None,
    ) -> Iterator[list[dict[str, Any]]]:
        while True:
            page = self.page(after=after, limit=page_size, as_json=as_json, only=only)
            if not page:
                return
            yield page
            if len(page) < page_size:
                return
            after = page[-1]["id"]

    def winners(self, data_row_ids: Sequence[str]) -> dict[str, str]:
        if self.filters.label != "consensus_winner":
            return {}
        chooser = registry.label_chooser("consensus_winner")
        return chooser(self.project, data_row_ids) if chooser is not None else {}

    def chosen(self, labels: Sequence[LabelEntry], winner: str | None) -> list[LabelEntry]:
        f = self.filters
        return select_labels(
            labels,
            mode=f.label,
            winner=winner,
            labeler_ids=f.labeler_ids,
            created_from=f.label_created_from,
            created_to=f.label_created_to,
        )


def _project_json(project: Project, encoder: LineEncoder) -> str:
    return encoder.encode(
        {
            "id": project.pk,
            "name": project.name,
            "ontology": {"id": project.ontology_id, "version": project.ontology_version.number},
        }
    )


@reads_from_replica
def ndjson_page_lines(query: RowQuery, page: Sequence[Mapping[str, Any]], encoder: LineEncoder) -> list[str]:
    """The NDJSON lines (each ending in a newline) of one page of rows (from `RowQuery.page(as_json=True)`).

    Every section is loaded once for the page; the data row, workflow, tasks, attachments and labels arrive as JSON
    text from the database and are assembled here without being parsed and re-encoded."""
    project = query.project
    ids = PageIds.of((row["id_text"] for row in page), contiguous=query.contiguous)
    attachments: dict[str, list[str]] = {}
    for row_id, text in attachment_texts_of_rows(data_row_ids=ids):
        attachments.setdefault(row_id, []).append(text)
    tasks: dict[str, list[str]] = {}
    for row_id, text in task_texts_of_rows(project=project, data_row_ids=ids, id_range=ids.id_range):
        tasks.setdefault(row_id, []).append(text)
    loaded = [(section.name, section.loader(project, ids)) for section in registry.row_sections()]
    winners = query.winners(ids)
    project_json = _project_json(project, encoder)
    lines = []
    for row in page:
        row_id = row["id_text"]
        row_attachments = ",".join(attachments.get(row_id, ()))
        row_tasks = ",".join(tasks.get(row_id, ()))
        parts = [
            '{"data_row":' + splice(row["row_json"], f'"attachments":[{row_attachments}]'),
            f'"project":{project_json}',
            '"workflow":' + splice(row["workflow_json"], f'"tasks":[{row_tasks}]'),
        ]
        for name, values in loaded:
            value = values.get(row_id)
            if name == "labels":
                chosen = query.chosen(value or [], winners.get(row_id))
                parts.append(f'"labels":[{",".join(label.payload for label in chosen)}]')
            elif value is None:
                parts.append(f'"{name}":{"[]" if name == "issues" else "null"}')
            else:
                parts.append(f'"{name}":{encoder.encode(value)}')
        lines.append(",".join(parts) + "}\n")
    return lines


def ndjson_sql_usable(query: RowQuery) -> bool:
    """Whether the lines can be built by the database (PostgreSQL, and a label chooser it implements)."""
    return connection.vendor == "postgresql" and registry.label_chooser_has_sql(query.filters.label)


@reads_from_replica
def ndjson_sql_pages(query: RowQuery, *, after: Any = None, page_size: int = DEFAULT_PAGE_SIZE) -> Iterator[NdjsonPage]:
    """The NDJSON export page by page, each page's lines built by one query (`apps.exports.sql`). Sections that
    only have a Python loader are loaded once per page and added to the lines."""
    from apps.exports import sql, sql_pages

    project = query.project
    sections = registry.row_sections()
    in_sql = [(s.name, s.sql) for s in sections if s.sql is not None]
    in_python = [s for s in sections if s.sql is None]
    encoder = LineEncoder()
    project_json = _project_json(project, encoder)

    @functools.cache  # each variant built once
    def build(first: bool, bounded: bool = False) -> PageQuery:
        return sql.page_query(
            project_id=project.pk,
            project_json=project_json,
            row_filters=dict(query.row_filters),
            mode=query.filters.label,
            sections=in_sql,
            first=first,
            contiguous=query.contiguous,
            bounded=bounded,
        )

    concurrent = sql_pages.ConcurrentPages(
        workers=settings.TDP_EXPORT_PAGE_WORKERS,
        boundaries=lambda first: sql.boundaries_query(
            project_id=project.pk, row_filters=dict(query.row_filters), first=first
        ),
        bounded=lambda first: build(first, bounded=True),
    )
    pages = sql_pages.run_pages(
        build(False), first=build(True), after=after, page_size=page_size, concurrent=concurrent
    )
    for rows in pages:
        ids = [row[0] for row in rows]
        if in_python:
            page_ids = PageIds.of(ids, contiguous=query.contiguous)
            loaded = [(section.name, section.loader(project, page_ids)) for section in in_python]
            lines = []
            for row_id, line in rows:
                extra = "".join(
                    f',"{name}":{"null" if values.get(row_id) is None else encoder.encode(values[row_id])}'
                    for name, values in loaded
                )
                lines.append(f"{line[:-1]}{extra}}}")
        else:
            lines = [row[1] for row in rows]
        del rows
        yield NdjsonPage(ids=ids, lines=lines)


def coco_sql_usable(query: RowQuery) -> bool:
    """Whether COCO pages can be built by the database (PostgreSQL, and a label chooser it implements)."""
    return ndjson_sql_usable(query)


def coco_sql_pages(
    query: RowQuery, *, after: Any = None, page_size: int = DEFAULT_PAGE_SIZE, numbering: Callable[[], tuple[int, int]]
) -> Iterator[CocoPage]:
    """The COCO export page by page, each page's images and annotations built by one query (`apps.exports.coco_sql`).
    `numbering()`: the first image and annotation ids of the next page."""
    from apps.exports import coco_sql

    def build(first: bool) -> PageQuery:
        return coco_sql.page_query(
            project_id=query.project.pk,
            categories=categories(query.project.ontology_version.tree),
            row_filters=dict(query.row_filters),
            mode=query.filters.label,
            first=first,
            contiguous=query.contiguous,
        )

    return coco_sql.run_pages(build(False), first=build(True), after=after, page_size=page_size, numbering=numbering)


STREAM_CHUNK_LINES = 500


@dataclass(frozen=True)
class NdjsonPage:
    """A page's data row ids and NDJSON lines (without their newlines)."""

    ids: list[str]
    lines: list[str]

    @property
    def text(self) -> str:
        return "".join(line + "\n" for line in self.lines)

    def chunks(self, size: int = STREAM_CHUNK_LINES) -> Iterator[bytes]:
        """The page as byte chunks of `size` lines: the page is never held twice more (as one text, as bytes)."""
        for start in range(0, len(self.lines), size):
            yield "".join(line + "\n" for line in self.lines[start : start + size]).encode()


def ndjson_stream(query: RowQuery, *, page_size: int = DEFAULT_PAGE_SIZE) -> Iterator[bytes]:
    """The whole export as byte chunks (a few hundred lines each on PostgreSQL, a page otherwise): constant memory
    whatever the row count."""
    if ndjson_sql_usable(query):
        for sql_page in ndjson_sql_pages(query, page_size=page_size):
            yield from sql_page.chunks()
        return
    encoder = LineEncoder()
    for page in query.pages(page_size=page_size, as_json=True):
        yield "".join(ndjson_page_lines(query, page, encoder)).encode()


@reads_from_replica
def label_documents(query: RowQuery, page: Sequence[Mapping[str, Any]]) -> dict[str, list[tuple[str, Any]]]:
    """For the image formats: `{data_row_id: [(label_id, parsed document), ...]}` of the chosen labels."""
    ids = PageIds.of((str(row["id"]) for row in page), contiguous=query.contiguous)
    labels: dict[str, list[LabelEntry]] = {}
    for row in current_label_documents_of_rows(project=query.project, data_row_ids=ids, id_range=ids.id_range):
        labels.setdefault(str(row["data_row_id"]), []).append(
            LabelEntry(
                id=str(row["id"]),
                task_state=row["task__state"],
                labeler_id=str(row["labeler_id"]),
                created_at=row["created_at"],
                slot=row["task__slot"],
                payload=row["annotations"] or [],
            )
        )
    winners = query.winners(ids)
    return {
        row_id: [(label.id, label.payload) for label in query.chosen(found, winners.get(row_id))]
        for row_id, found in labels.items()
    }


def exports_visible_to(*, actor: User, project: Project | None = None) -> QuerySet[Export]:
    queryset = Export.objects.filter(project__in=projects_where(actor, "view_work").values("pk")).select_related(
        "project", "created_by", "job"
    )
    if project is not None:
        queryset = queryset.filter(project=project)
    return queryset.order_by("-created_at", "-id")
