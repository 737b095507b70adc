"""Absolute URLs for links handed to API clients (`download_url`): against the request being served, else
`TDP_PUBLIC_URL` (background jobs, e-mails), else the path itself."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from apps.core.middleware import current_request_context


def absolute_url(path: str) -> str:
    if not path.startswith("/"):
        return path
    context = current_request_context()
    if context is not None and context.request is not None:
        return context.request.build_absolute_uri(path)
    base = str(getattr(settings, "TDP_PUBLIC_URL", "") or "").rstrip("/")
    return f"{base}{path}" if base else path


def absolute_links(result: Any) -> Any:
    """A job result with its top-level `download_url` made absolute (results stored by the worker hold a path)."""
    if isinstance(result, dict) and isinstance(result.get("download_url"), str):
        return {**result, "download_url": absolute_url(result["download_url"])}
    return result
