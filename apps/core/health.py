"""`/healthz`: database reachable and a django-q2 worker cluster alive (heartbeat via the shared cache)."""

from __future__ import annotations

import time
from typing import Any

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache


def database_status() -> dict[str, Any]:
    started = time.perf_counter()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # the health endpoint reports, never raises
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 2)}


def worker_status() -> dict[str, Any]:
    from django_q.conf import Conf
    from django_q.status import Stat

    if Conf.SYNC:
        return {"ok": True, "mode": "sync"}
    try:
        clusters = Stat.get_all()
    except Exception as exc:  # the health endpoint reports, never raises
        return {"ok": False, "error": type(exc).__name__}
    alive = [c for c in clusters if c.status in (Conf.IDLE, Conf.WORKING, Conf.STARTING)]
    return {"ok": bool(alive), "clusters": len(alive)}


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {"database": database_status(), "worker": worker_status()}
    healthy = all(check["ok"] for check in checks.values())
    return JsonResponse({"status": "ok" if healthy else "degraded", "checks": checks}, status=200 if healthy else 503)
