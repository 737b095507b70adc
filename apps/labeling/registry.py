"""Hooks other apps plug into the labeling app (registered from their AppConfig.ready), so labeling never imports
them: open issue counts for the overview, the reviewer's feedback shown with rework, review decisions in a label's
history."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from apps.labeling.models import Label, Project, Task

if TYPE_CHECKING:
    from apps.accounts.models import User

OpenIssueCounter = Callable[[Project], int]
ReworkFeedback = Callable[[Task], "dict[str, Any] | None"]
LabelDecisions = Callable[[Label], "list[dict[str, Any]]"]
# A claim source may hand the labeler a task before new work (benchmark rows, expert routing): called inside the
# claim's transaction with the labeler's row locked; returns a task it has already leased to them, or None.
ClaimSource = Callable[[Project, "User", datetime], "Task | None"]
# Called inside the submit transaction after a label is stored and the task moved on (quality scoring, ...).
LabelSubmitted = Callable[[Label, Task], None]

_open_issue_counters: list[OpenIssueCounter] = []
_rework_feedback: list[ReworkFeedback] = []
_label_decisions: list[LabelDecisions] = []
_claim_sources: list[ClaimSource] = []
_project_admin_actions: list[Callable[..., Any]] = []
# (user, project) -> (link text, url) shown on the project page, or None when the user may not follow it.
ProjectLink = Callable[["User", Project], "tuple[str, str] | None"]
_project_links: list[ProjectLink] = []
_label_submitted: list[LabelSubmitted] = []
# task -> annotations (API.md format) a model proposes for the task's row, shown to the labeler as pre-labels.
PrelabelSource = Callable[[Task], "list[dict[str, Any]]"]
_prelabel_sources: list[PrelabelSource] = []
# Called inside the submit transaction with the stored label and, aligned with its annotations, the `prelabel`
# reference each one carried (stripped before validation; None for annotations drawn by hand).
LabelProvenance = Callable[[Label, Task, "list[str | None]"], None]
_label_provenance: list[LabelProvenance] = []
# (key, project -> int) extra counters of the project overview (e.g. overdue expert tasks).
OverviewCounter = Callable[[Project], int]
_overview_counters: dict[str, OverviewCounter] = {}
# (organization id, normalized settings) -> errors by path: checks only a later app can make (that an id in the
# settings is one of its objects in the organization). Called before a project's settings are stored.
SettingsCheck = Callable[[Any, "dict[str, Any]"], "dict[str, list[str]]"]
_settings_checks: list[SettingsCheck] = []
# (project with its new settings, previous settings): called inside the update's transaction after they changed.
SettingsChanged = Callable[[Project, "dict[str, Any]"], None]
_settings_changed: list[SettingsChanged] = []
# (project, data row ids of the tasks just created): called inside the batch's transaction when rows join the
# project, so a precomputed queue order (predictions' active learning) ranks them before anyone claims.
RowsJoined = Callable[[Project, "list[str]"], None]
_rows_joined: list[RowsJoined] = []
# (data row, normalized annotations aligned with the posted list, None where invalid) -> errors in the validator's
# shape ({"index", "path", "message"}): checks of fields only a later app can judge (an image stack's `slice`).
LabelCheck = Callable[[Any, "list[dict[str, Any] | None]"], "list[dict[str, Any]]"]
_label_checks: list[LabelCheck] = []


def register_label_check(check: LabelCheck) -> None:
    if check not in _label_checks:
        _label_checks.append(check)


def label_check_errors(data_row: Any, normalized: list[dict[str, Any] | None]) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = []
    for check in _label_checks:
        errors.extend(check(data_row, normalized))
    return errors


def register_settings_check(check: SettingsCheck) -> None:
    if check not in _settings_checks:
        _settings_checks.append(check)


def register_settings_changed(listener: SettingsChanged) -> None:
    if listener not in _settings_changed:
        _settings_changed.append(listener)


def register_rows_joined(listener: RowsJoined) -> None:
    if listener not in _rows_joined:
        _rows_joined.append(listener)


def rows_joined(project: Project, data_row_ids: list[str]) -> None:
    for listener in _rows_joined:
        listener(project, data_row_ids)


def settings_errors(organization_id: Any, settings: dict[str, Any]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for check in _settings_checks:
        errors.update(check(organization_id, settings))
    return errors


def settings_changed(project: Project, previous: dict[str, Any]) -> None:
    for listener in _settings_changed:
        listener(project, previous)


def register_open_issue_counter(counter: OpenIssueCounter) -> None:
    if counter not in _open_issue_counters:
        _open_issue_counters.append(counter)


def register_rework_feedback(source: ReworkFeedback) -> None:
    if source not in _rework_feedback:
        _rework_feedback.append(source)


def register_label_decisions(source: LabelDecisions) -> None:
    if source not in _label_decisions:
        _label_decisions.append(source)


def register_claim_source(source: ClaimSource) -> None:
    if source not in _claim_sources:
        _claim_sources.append(source)


def register_label_submitted(listener: LabelSubmitted) -> None:
    if listener not in _label_submitted:
        _label_submitted.append(listener)


def register_prelabel_source(source: PrelabelSource) -> None:
    if source not in _prelabel_sources:
        _prelabel_sources.append(source)


def register_label_provenance(listener: LabelProvenance) -> None:
    if listener not in _label_provenance:
        _label_provenance.append(listener)


def register_overview_counter(key: str, counter: OverviewCounter) -> None:
    _overview_counters[key] = counter


def prelabels_for(task: Task) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for source in _prelabel_sources:
        found.extend(source(task))
    return found


def label_provenance(label: Label, task: Task, references: list[str | None]) -> None:
    for listener in _label_provenance:
        listener(label, task, references)


def overview_counts(project: Project) -> dict[str, int]:
    return {key: counter(project) for key, counter in _overview_counters.items()}


def register_project_admin_action(action: Callable[..., Any]) -> None:
    """An admin action `(modeladmin, request, queryset of projects)` shown on the project admin."""
    if action not in _project_admin_actions:
        _project_admin_actions.append(action)


def register_project_link(link: ProjectLink) -> None:
    if link not in _project_links:
        _project_links.append(link)


def project_links(user: User, project: Project) -> list[tuple[str, str]]:
    return [found for link in _project_links if (found := link(user, project)) is not None]


def project_admin_actions() -> list[Callable[..., Any]]:
    return list(_project_admin_actions)


def claim_from_sources(project: Project, actor: User, now: datetime) -> Task | None:
    for source in _claim_sources:
        task = source(project, actor, now)
        if task is not None:
            return task
    return None


# (project, tasks that are done now): called inside the transaction that made them done (a submit without review,
# a review approval, a label import), e.g. to count done labels for the predictions app's retraining hook.
TasksDone = Callable[[Project, "list[Task]"], None]
_tasks_done: list[TasksDone] = []


def register_tasks_done(listener: TasksDone) -> None:
    if listener not in _tasks_done:
        _tasks_done.append(listener)


def tasks_done(project: Project, tasks: list[Task]) -> None:
    for listener in _tasks_done:
        listener(project, tasks)


def label_submitted(label: Label, task: Task) -> None:
    for listener in _label_submitted:
        listener(label, task)


def open_issue_count(project: Project) -> int:
    return sum(counter(project) for counter in _open_issue_counters)


def rework_feedback(task: Task) -> dict[str, Any] | None:
    for source in _rework_feedback:
        found = source(task)
        if found is not None:
            return found
    return None


def label_decisions(label: Label) -> list[dict[str, Any]]:
    decisions: list[dict[str, Any]] = []
    for source in _label_decisions:
        decisions.extend(source(label))
    return decisions


@dataclass(frozen=True)
class BatchRowSource:
    """Somewhere the admin's "new batch" form can take rows from (the catalog registers its slices): `choices`
    lists what the actor may pick, `row_ids` resolves a pick to data row ids (NotFound when not theirs)."""

    key: str
    label: str
    choices: Callable[[User], list[tuple[str, str]]]
    row_ids: Callable[[User, str], list[str]]


_batch_row_sources: dict[str, BatchRowSource] = {}


def register_batch_row_source(source: BatchRowSource) -> None:
    _batch_row_sources[source.key] = source


def batch_row_sources() -> list[BatchRowSource]:
    return list(_batch_row_sources.values())
