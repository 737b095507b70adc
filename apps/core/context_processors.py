"""Template context shared by pages: the open-alerts count of the admin banner (`templates/admin/base_site.html`)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest

from apps.core.admin_scoping import is_org_admin
from apps.core.models import Alert


def open_alerts(request: HttpRequest) -> dict[str, Callable[[], int]]:
    """A callable, so the count query runs only on pages that show the banner, and only for admins."""

    def count() -> int:
        user = request.user
        if user.is_superuser:
            return Alert.objects.filter(acknowledged_at__isnull=True).count()
        if not is_org_admin(request):
            return 0
        return Alert.objects.filter(
            organization_id=user.organization_id,  # type: ignore[union-attr,misc]
            acknowledged_at__isnull=True,
        ).count()

    return {"tdp_open_alerts": count}
