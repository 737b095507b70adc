"""What the review app plugs into other apps' registries (called from `ReviewConfig.ready`)."""

from __future__ import annotations


def register() -> None:
    from apps.accounts.page_context import register_home_section
    from apps.labeling.registry import register_label_decisions, register_rework_feedback
    from apps.review.selectors import label_decisions, latest_rework_feedback
    from apps.review.views import to_review_section

    register_label_decisions(label_decisions)
    register_rework_feedback(latest_rework_feedback)
    register_home_section(to_review_section)
