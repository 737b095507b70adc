"""Health checks for load balancers and orchestrators.

- `/healthz/live`: the process answers (no dependency checked): restart the process when this fails.
- `/healthz/ready`: the database answers and the task broker is reachable: send traffic only when this is 200.
- `/healthz`: ready + at least one django-q2 worker cluster alive (heartbeat via the broker or the shared cache):
  for monitoring the whole deployment.
"""

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


def broker_status() -> dict[str, Any]:
    """The django-q2 broker answers a ping (Redis), or is the database itself (ORM broker) / absent (sync)."""
    from django_q.brokers import get_broker
    from django_q.conf import Conf

    if Conf.SYNC:
        return {"ok": True, "mode": "sync"}
    if Conf.ORM:
        return {"ok": True, "mode": "orm"}
    started = time.perf_counter()
    try:
        get_broker().ping()
    except Exception as exc:  # the health endpoint reports, never raises
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 2)}


def _answer(checks: dict[str, dict[str, Any]]) -> JsonResponse:
    healthy = all(check["ok"] for check in checks.values())
    response = JsonResponse(
        {"status": "ok" if healthy else "degraded", "checks": checks}, status=200 if healthy else 503
    )
    if not healthy:
        response["Retry-After"] = "5"
    return response


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    return _answer({"database": database_status(), "broker": broker_status(), "worker": worker_status()})


@never_cache
def liveness(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@never_cache
def readiness(request: HttpRequest) -> JsonResponse:
    return _answer({"database": database_status(), "broker": broker_status()})
