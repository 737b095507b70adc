"""Reads of the exports app: exports visible to a user, and the row pages every export format is written from."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from apps.accounts.models import User
from apps.core.errors import ValidationFailed
from apps.datasets.selectors import attachments_of_rows, metadata_filter_values
from apps.exports import registry
from apps.exports.domain.filters import ExportFilters, FilterError, parse_filters
from apps.exports.domain.ndjson import LineEncoder, select_labels
from apps.exports.models import Export
from apps.labeling.access import projects_where
from apps.labeling.models import Project
from apps.labeling.selectors import labels_of_rows, project_rows_count, project_rows_page, tasks_of_rows

DEFAULT_PAGE_SIZE = 2000


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

    def page(self, *, after: Any, limit: int) -> list[dict[str, Any]]:
        return project_rows_page(project=self.project, after=after, limit=limit, **self.row_filters)

    def pages(self, *, after: Any = None, page_size: int = DEFAULT_PAGE_SIZE) -> Iterator[list[dict[str, Any]]]:
        while True:
            page = self.page(after=after, limit=page_size)
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

    def chosen(self, labels: Sequence[Mapping[str, Any]], winner: str | None) -> list[Mapping[str, Any]]:
        f = self.filters
        return select_labels(
            labels,
            mode=f.label,
            winner=winner,
            labeler_ids=f.labeler_ids,
            created_from=f.label_created_from,
            created_to=f.label_created_to,
        )


def _data_row(row: Mapping[str, Any], attachments: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "global_key": row["global_key"],
        "external_id": row["external_id"],
        "row_data": row["row_data"],
        "media_type": row["media_type"],
        "width": row["width"],
        "height": row["height"],
        "dataset": {"id": row["dataset_id"], "name": row["dataset_name"]},
        "created_at": row["created_at"],
        "metadata": row["metadata"],
        "attachments": attachments,
    }


def ndjson_page_lines(query: RowQuery, page: Sequence[Mapping[str, Any]], encoder: LineEncoder) -> list[str]:
    """The NDJSON lines (each ending in a newline) of one page of rows: every section loaded once for the page."""
    project = query.project
    ids = [str(row["id"]) for row in page]
    attachments = attachments_of_rows(data_row_ids=ids)
    tasks = tasks_of_rows(project=project, data_row_ids=ids)
    loaded = [(section.name, section.loader(project, ids)) for section in registry.row_sections()]
    winners = query.winners(ids)
    project_info = {
        "id": project.pk,
        "name": project.name,
        "ontology": {"id": project.ontology_id, "version": project.ontology_version.number},
    }
    lines = []
    for row in page:
        row_id = str(row["id"])
        line: dict[str, Any] = {
            "data_row": _data_row(row, attachments.get(row_id, [])),
            "project": project_info,
            "workflow": {
                "state": row["state"],
                "priority": row["priority"],
                "batch": {"id": row["batch_id"], "name": row["batch_name"], "priority": row["batch_priority"]},
                "tasks": tasks.get(row_id, []),
            },
        }
        for name, values in loaded:
            value = values.get(row_id)
            if name == "labels":
                value = query.chosen(value or [], winners.get(row_id))
            elif value is None and name == "issues":
                value = []
            line[name] = value
        lines.append(encoder.encode(line) + "\n")
    return lines


def ndjson_stream(query: RowQuery, *, page_size: int = DEFAULT_PAGE_SIZE) -> Iterator[bytes]:
    """The whole export as byte chunks, one per page: constant memory whatever the row count."""
    encoder = LineEncoder()
    for page in query.pages(page_size=page_size):
        yield "".join(ndjson_page_lines(query, page, encoder)).encode()


def label_documents(query: RowQuery, page: Sequence[Mapping[str, Any]]) -> dict[str, list[tuple[str, Any]]]:
    """For the image formats: `{data_row_id: [(label_id, parsed document), ...]}` of the chosen labels."""
    ids = [str(row["id"]) for row in page]
    labels: dict[str, list[dict[str, Any]]] = {}
    for row in labels_of_rows(project=query.project, data_row_ids=ids):
        if not row["is_current"]:
            continue
        labels.setdefault(str(row["data_row_id"]), []).append(
            {
                "id": str(row["id"]),
                "task_state": row["task__state"],
                "labeler": {"id": str(row["labeler_id"])},
                "created_at": row["created_at"],
                "slot": row["task__slot"],
                "document": row["document"] or [],
            }
        )
    winners = query.winners(ids)
    return {
        row_id: [
            (label["id"], label["document"])
            for label in query.chosen(sorted(found, key=lambda item: item["slot"]), winners.get(row_id))
        ]
        for row_id, found in labels.items()
    }


def exports_visible_to(*, actor: User, project: Project | None = None) -> QuerySet[Export]:
    queryset = Export.objects.filter(project__in=projects_where(actor, "view_work").values("pk")).select_related(
        "project", "created_by", "job"
    )
    if project is not None:
        queryset = queryset.filter(project=project)
    return queryset.order_by("-created_at", "-id")
