"""Exceptions carrying the API's error shape: `{"error": {"code", "message", "details"}}`."""

from __future__ import annotations

from typing import Any


class TDPError(Exception):
    """Any error answer of the API (or a job that failed). `status` is the HTTP status (0 for a failed job)."""

    def __init__(self, status: int, code: str, message: str, details: Any = None) -> None:
        super().__init__(f"{status} {code}: {message}" if status else f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details if details is not None else {}


class BadRequest(TDPError):
    """400: the input was refused; `details` says which field or line."""


class Unauthorized(TDPError):
    """401: no or a wrong token."""


class Forbidden(TDPError):
    """403: visible, but the caller's role does not allow this."""


class NotFound(TDPError):
    """404: missing, or not visible to the caller."""


class Conflict(TDPError):
    """409: the object's state does not allow this (e.g. removing a feature that labels use)."""


class PayloadTooLarge(TDPError):
    """413: the body is larger than the server accepts."""


class Throttled(TDPError):
    """429 after the client's retries ran out."""


class ServerUnavailable(TDPError):
    """5xx after the client's retries ran out."""


class JobFailed(TDPError):
    """A background job ended in `failed`; `details` is the job."""


class RowErrors(TDPError):
    """An import stored the good rows and refused some: `errors` lists `{index, global_key, message}` per row."""

    def __init__(self, result: dict[str, Any]) -> None:
        errors = list(result.get("errors") or [])
        super().__init__(400, "row_errors", f"{len(errors)} rows were refused", {"result": result})
        self.result = result
        self.errors = errors


_BY_STATUS: dict[int, type[TDPError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    413: PayloadTooLarge,
    429: Throttled,
}


def error_from_response(status: int, body: Any, fallback_text: str = "") -> TDPError:
    """The exception for an error answer: the API's error shape when present, else the status and a short text."""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        code = str(error.get("code") or "error")
        message = str(error.get("message") or "")
        details = error.get("details")
    else:
        code, message, details = "http_error", (fallback_text or "")[:300], None
    cls = _BY_STATUS.get(status) or (ServerUnavailable if status >= 500 else TDPError)
    return cls(status, code, message, details)
