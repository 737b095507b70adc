"""What the analytics app plugs into other apps' registries (called from `AnalyticsConfig.ready`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils import timezone

if TYPE_CHECKING:
    from apps.core.events import Event
    from apps.labeling.models import Label, Project, Task

# Events after which today's figures of the project changed (a review or an issue is dated now).
_DATED_NOW = frozenset({"review.approved", "review.rejected", "issue.created"})


def _label_submitted(label: Label, task: Task) -> None:
    """A new label revision: its day, the day the task was done before (an import re-does a done task) and the day
    of the revision it replaces (whose quality scores stop counting: they are of a label no longer current)."""
    from apps.analytics.services import dirty_days_mark_on_commit

    previous = label.previous if label.previous_id is not None else None  # the object the service just set
    moments = [label.created_at, task.done_at, previous.created_at if previous is not None else None]
    dirty_days_mark_on_commit(project_id=label.project_id, moments=moments)


def _scores_written(project: Project, labels: list[Label]) -> None:
    """Quality scores (re)written: they count on the days their labels were created."""
    from apps.analytics.services import dirty_days_mark_on_commit

    dirty_days_mark_on_commit(project_id=project.pk, moments=[label.created_at for label in labels])


def _figures_changed(event: Event) -> None:
    from apps.analytics.services import dirty_days_mark_on_commit

    if not _interested(event):
        return
    dirty_days_mark_on_commit(project_id=event.project_id, moments=[timezone.now()])


def _interested(event: Event) -> bool:
    return event.type in _DATED_NOW and event.project_id is not None


def register() -> None:
    from apps.accounts.page_context import register_home_section
    from apps.analytics.views import analytics_link, my_stats_section
    from apps.core.events import register_listener
    from apps.labeling.registry import register_label_submitted, register_project_link
    from apps.quality.registry import register_scores_written

    register_project_link(analytics_link)
    register_home_section(my_stats_section)
    register_label_submitted(_label_submitted)
    register_listener(_figures_changed, interested=_interested)
    register_scores_written(_scores_written)
