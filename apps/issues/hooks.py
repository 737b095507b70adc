"""What the issues app plugs into other apps' registries (called from `IssuesConfig.ready`)."""

from __future__ import annotations


def register() -> None:
    from apps.accounts.page_context import register_home_section
    from apps.issues.selectors import open_issue_count
    from apps.issues.views import inbox_section
    from apps.labeling.registry import register_open_issue_counter

    register_open_issue_counter(open_issue_count)
    register_home_section(inbox_section)
