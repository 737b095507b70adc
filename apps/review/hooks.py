"""What the review app plugs into other apps' registries (called from `ReviewConfig.ready`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from apps.accounts.models import User
    from apps.labeling.models import Project


def register() -> None:
    from apps.accounts.page_context import register_home_section
    from apps.labeling.registry import register_label_decisions, register_project_link, register_rework_feedback
    from apps.review.selectors import label_decisions, latest_rework_feedback
    from apps.review.views import to_review_section

    register_label_decisions(label_decisions)
    register_rework_feedback(latest_rework_feedback)
    register_home_section(to_review_section)
    register_project_link(review_link)


def review_link(user: User, project: Project) -> tuple[str, str] | None:
    """The project page's link to the review queue, for those who may review."""
    from django.urls import reverse

    from apps.labeling.access import can

    return ("Review", reverse("review:start", args=[project.id])) if can(user, project, "review") else None
