"""The row sections the exports app registers itself: labels (with revision history, reviews and timings, from the
labeling and review apps) and issues (with comment threads, from the issues app). Each loads a whole page of rows
in one or two queries."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from apps.exports.domain.ndjson import RawJSON
from apps.issues.selectors import issues_of_rows
from apps.labeling.models import Project
from apps.labeling.selectors import labels_of_rows
from apps.review.selectors import reviews_of_rows


def _seconds(row: dict[str, Any]) -> float | None:
    value = row["seconds_spent"] if row["seconds_spent"] is not None else row["server_seconds"]
    return float(value) if value is not None else None


def _sum(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(sum(present), 3) if present else None


def _review(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "label": str(row["label_id"]),
        "result_label": str(row["result_label_id"]) if row["result_label_id"] else None,
        "reviewer": {"id": str(row["reviewer_id"]), "username": row["reviewer__username"]},
        "decision": row["decision"],
        "feedback": row["feedback"],
        "edited": row["edited"],
        "overrode_open_issues": row["overrode_open_issues"],
        "seconds_spent": row["seconds_spent"],
        "server_seconds": row["server_seconds"],
        "created_at": row["created_at"],
    }


def load_labels(project: Project, data_row_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """Every task's current label of each row, with its revision history, review decisions (feedback included) and
    the seconds spent creating, reviewing and reworking it. The annotation document is copied through as JSON text."""
    revisions = labels_of_rows(project=project, data_row_ids=data_row_ids, document_as_text=True)
    reviews_by_task: dict[str, list[dict[str, Any]]] = {}
    reviewer_revisions: set[str] = set()
    for row in reviews_of_rows(project=project, data_row_ids=data_row_ids):
        reviews_by_task.setdefault(str(row["task_id"]), []).append(row)
        if row["result_label_id"]:
            reviewer_revisions.add(str(row["result_label_id"]))
    by_task: dict[str, list[dict[str, Any]]] = {}
    for row in revisions:
        by_task.setdefault(str(row["task_id"]), []).append(row)
    found: dict[str, list[dict[str, Any]]] = {}
    for task_id, rows in by_task.items():
        current = next((r for r in rows if r["is_current"]), None)
        if current is None:
            continue
        reviews = reviews_by_task.get(task_id, [])
        created = [_seconds(r) for r in rows if r["revision"] == 1]
        rework = [_seconds(r) for r in rows if r["revision"] > 1 and str(r["id"]) not in reviewer_revisions]
        label = {
            "id": str(current["id"]),
            "task": task_id,
            "slot": current["task__slot"],
            "task_kind": current["task__kind"],
            "task_state": current["task__state"],
            "revision": current["revision"],
            "labeler": {"id": str(current["labeler_id"]), "username": current["labeler__username"]},
            "ontology_version": {
                "id": str(current["ontology_version_id"]),
                "number": current["ontology_version__number"],
            },
            "created_at": current["created_at"],
            "updated_at": current["updated_at"],
            "seconds_spent": current["seconds_spent"],
            "server_seconds": current["server_seconds"],
            "seconds": {
                "create": _sum(created),
                "review": _sum([_seconds(r) for r in reviews]),
                "rework": _sum(rework),
            },
            "annotations": RawJSON(current["document"]),
            "history": [
                {
                    "id": str(r["id"]),
                    "revision": r["revision"],
                    "labeler": {"id": str(r["labeler_id"]), "username": r["labeler__username"]},
                    "by_reviewer": str(r["id"]) in reviewer_revisions,
                    "created_at": r["created_at"],
                    "seconds_spent": r["seconds_spent"],
                    "server_seconds": r["server_seconds"],
                }
                for r in rows
            ],
            "reviews": [_review(r) for r in reviews],
        }
        found.setdefault(str(current["data_row_id"]), []).append(label)
    for labels in found.values():
        labels.sort(key=lambda label: label["slot"])
    return found


def load_issues(project: Project, data_row_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    return issues_of_rows(project=project, data_row_ids=data_row_ids)


def register() -> None:
    from apps.exports.registry import register_row_section

    register_row_section("labels", load_labels)
    register_row_section("issues", load_issues)
