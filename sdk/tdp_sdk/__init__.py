"""TDP's Python client: `Client(url, token)` with one attribute per area of the REST API."""

from __future__ import annotations

__version__ = "0.1.0"

from tdp_sdk.client import Client
from tdp_sdk.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    JobFailed,
    NotFound,
    PayloadTooLarge,
    RowErrors,
    ServerUnavailable,
    TDPError,
    Throttled,
    Unauthorized,
)
from tdp_sdk.resources.ontologies import Classification, OntologyBuilder
from tdp_sdk.resources.webhooks import verify_signature

__all__ = [
    "BadRequest",
    "Classification",
    "Client",
    "Conflict",
    "Forbidden",
    "JobFailed",
    "NotFound",
    "OntologyBuilder",
    "PayloadTooLarge",
    "RowErrors",
    "ServerUnavailable",
    "TDPError",
    "Throttled",
    "Unauthorized",
    "__version__",
    "verify_signature",
]
