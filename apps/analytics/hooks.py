"""What the analytics app plugs into other apps' registries (called from `AnalyticsConfig.ready`)."""

from __future__ import annotations


def register() -> None:
    from apps.accounts.page_context import register_home_section
    from apps.analytics.views import analytics_link, my_stats_section
    from apps.labeling.registry import register_project_link

    register_project_link(analytics_link)
    register_home_section(my_stats_section)
