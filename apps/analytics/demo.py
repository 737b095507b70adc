"""Demo content of the analytics app (idempotent): the daily rollup of the demo projects' replayed month, built
at once (the per-day refresh tasks were held back by `load_demo`)."""

from __future__ import annotations

from apps.accounts.models import Organization
from apps.analytics import services
from apps.analytics.models import PerformanceDaily
from apps.labeling.models import Project


def load(organization: Organization) -> None:
    for project in Project.objects.filter(organization=organization, name__startswith="Demo: ").order_by("name"):
        if not PerformanceDaily.objects.filter(project=project).exists():
            services.rollup_rebuild(project=project)
