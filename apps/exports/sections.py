"""The row sections the exports app registers itself: labels (with revision history, reviews and timings, from the
labeling and review apps) and issues (with comment threads, from the issues app). Each loads a whole page of rows
in one or two queries. Labels come as JSON text built by the database and are copied into the line unparsed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from apps.exports.domain.ndjson import LabelEntry, seconds_json, splice
from apps.issues.selectors import issues_of_rows
from apps.labeling.models import Project
from apps.labeling.selectors import label_texts_of_rows
from apps.review.selectors import review_texts_of_rows


def _id_range(data_row_ids: Sequence[str]) -> tuple[Any, Any] | None:
    return getattr(data_row_ids, "id_range", None)


def _sum(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) if present else None


def load_labels(project: Project, data_row_ids: Sequence[str]) -> dict[str, list[LabelEntry]]:
    """Every task's current label of each row, with its revision history, review decisions (feedback included) and
    the seconds spent creating, reviewing and reworking it (revisions after the first that a reviewer did not make
    count as rework)."""
    id_range = _id_range(data_row_ids)
    reviews: dict[str, list[str]] = {}
    review_seconds: dict[str, list[float | None]] = {}
    by_reviewer: set[str] = set()
    for task_id, result_label, seconds, text in review_texts_of_rows(
        project=project, data_row_ids=data_row_ids, id_range=id_range
    ):
        reviews.setdefault(task_id, []).append(text)
        review_seconds.setdefault(task_id, []).append(seconds)
        if result_label:
            by_reviewer.add(result_label)
    found: dict[str, list[LabelEntry]] = {}
    task_rows: list[tuple[Any, ...]] = []

    def flush() -> None:
        if not task_rows:
            return
        current = task_rows[-1]
        label_id, task_id, row_id, labeler_id, state, created_at, _, _, current_json, _ = current
        if current_json is None:  # no current revision (cannot happen with the one-current constraint)
            return
        history = ",".join(splice(r[9], '"by_reviewer":true') if r[0] in by_reviewer else r[9] for r in task_rows)
        create = _sum([r[7] for r in task_rows if r[6] == 1])
        rework = _sum([r[7] for r in task_rows if r[6] > 1 and r[0] not in by_reviewer])
        review = _sum(review_seconds.get(task_id, []))
        extra = (
            f'"seconds":{{"create":{seconds_json(create)},"review":{seconds_json(review)},'
            f'"rework":{seconds_json(rework)}}},"history":[{history}],"reviews":[{",".join(reviews.get(task_id, []))}]'
        )
        entry = LabelEntry(
            id=label_id,
            task_state=state,
            labeler_id=labeler_id,
            created_at=created_at,
            slot=0,
            payload=splice(current_json, extra),
        )
        found.setdefault(row_id, []).append(entry)

    for row in label_texts_of_rows(project=project, data_row_ids=data_row_ids, id_range=id_range):
        if task_rows and task_rows[-1][1] != row[1]:
            flush()
            task_rows = []
        task_rows.append(row)
    flush()
    return found


def load_issues(project: Project, data_row_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    return issues_of_rows(project=project, data_row_ids=data_row_ids, id_range=_id_range(data_row_ids))


def load_label_scores(project: Project, data_row_ids: Sequence[str]) -> dict[str, dict[str, dict[str, Any]]]:
    from apps.quality.selectors import label_scores_of_rows

    return label_scores_of_rows(project=project, data_row_ids=list(data_row_ids))


def load_prelabel_provenance(project: Project, data_row_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    from apps.predictions.selectors import provenance_of_rows

    return provenance_of_rows(project=project, data_row_ids=list(data_row_ids))


def register() -> None:
    from apps.exports.quality_section import consensus_winners, load_quality
    from apps.exports.registry import register_label_chooser, register_row_section
    from apps.exports.sql import SQL_SECTIONS
    from apps.exports.views import exports_link
    from apps.labeling.registry import register_project_link

    register_row_section("labels", load_labels, sql="labels")
    register_row_section("issues", load_issues, sql=SQL_SECTIONS["issues"])
    register_row_section("quality", load_quality, sql=SQL_SECTIONS["quality"])
    register_row_section("label_scores", load_label_scores, sql=SQL_SECTIONS["label_scores"])
    register_row_section("prelabel_provenance", load_prelabel_provenance, sql=SQL_SECTIONS["prelabel_provenance"])
    register_label_chooser("consensus_winner", consensus_winners, sql=True)
    register_project_link(exports_link)
