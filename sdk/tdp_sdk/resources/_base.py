"""What every resource shares: the HTTP core and small helpers to build query strings and bodies."""

from __future__ import annotations

from typing import Any

from tdp_sdk._http import Http


def body(**fields: Any) -> dict[str, Any]:
    """A JSON body of the fields that were given (None means: not sent)."""
    return {key: value for key, value in fields.items() if value is not None}


def metadata_params(metadata: dict[str, Any] | None) -> dict[str, Any]:
    """`{"sensor": "A"}` → `{"metadata.sensor": "A"}`, the API's metadata filter parameters."""
    return {f"metadata.{key}": value for key, value in (metadata or {}).items()}


class Resource:
    def __init__(self, http: Http) -> None:
        self._http = http
