"""The HTTP core: token auth, retries that honour `Retry-After`, `Idempotency-Key` on writes, the error shape,
cursor pages, 202 jobs and streamed bodies."""

from __future__ import annotations

import email.utils
import json
import random
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

import httpx

from tdp_sdk import __version__
from tdp_sdk.errors import JobFailed, TDPError, error_from_response

F = TypeVar("F", bound=Callable[..., Any])

API_PREFIX = "/api/v1"
RETRY_STATUSES = {429, 502, 503, 504}
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}

#: every (METHOD, path template) an SDK method calls, for the schema coverage check
ROUTES: dict[tuple[str, str], str] = {}


def route(method: str, path: str) -> Callable[[F], F]:
    """Declare the API route an SDK method calls (`path` below /api/v1, with `{name}` placeholders)."""

    def mark(function: F) -> F:
        ROUTES[(method.upper(), API_PREFIX + path)] = function.__qualname__
        return function

    return mark


def retry_after_seconds(value: str | None, default: float) -> float:
    """`Retry-After` as seconds (a number or an HTTP date); `default` when absent or unreadable."""
    if not value:
        return default
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    return max(0.0, when.timestamp() - time.time())


class Http:
    """One authenticated connection pool to a TDP server."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        timeout: float = 120.0,
        max_retries: int = 5,
        max_retry_wait: float = 60.0,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.max_retries = max_retries
        self.max_retry_wait = max_retry_wait
        self._sleep = sleep
        headers = {"User-Agent": f"tdp-sdk/{__version__}", "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Token {token}"
        self.client = httpx.Client(
            base_url=self.base_url, headers=headers, timeout=timeout, transport=transport, follow_redirects=False
        )

    def close(self) -> None:
        self.client.close()

    def set_token(self, token: str) -> None:
        self.client.headers["Authorization"] = f"Token {token}"

    # -- requests -------------------------------------------------------------------------------------------

    def _url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return path if path.startswith(API_PREFIX) else API_PREFIX + path

    def send(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        content: bytes | Iterable[bytes] | None = None,
        content_type: str | None = None,
        files: Any = None,
        form: dict[str, Any] | None = None,
        headers_extra: dict[str, str] | None = None,
        idempotency_key: str | None = None,
        stream: bool = False,
    ) -> httpx.Response:
        """One API call with retries. Writes carry an `Idempotency-Key` (the same on every retry), so a retried
        label submit or review is stored once. Raises the `TDPError` subclass of an error answer."""
        method = method.upper()
        headers: dict[str, str] = dict(headers_extra or {})
        if method in WRITE_METHODS:
            headers["Idempotency-Key"] = idempotency_key or uuid.uuid4().hex
        if content_type:
            headers["Content-Type"] = content_type
        if json_body is not None:
            content = json.dumps(json_body).encode()
            headers["Content-Type"] = "application/json"
        # A streamed body (an iterator) is read once: it cannot be sent again after a failure.
        replayable = (content is None or isinstance(content, bytes)) and not _has_stream(files)
        # None when empty: httpx would otherwise drop the query string of a `next` URL
        params = {k: v for k, v in (params or {}).items() if v is not None} or None
        attempt = 0
        while True:
            attempt += 1
            try:
                request = self.client.build_request(
                    method, self._url(path), params=params, content=content, files=files, data=form, headers=headers
                )
                response = self.client.send(request, stream=stream)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                # Nothing reached the server: always safe to try again.
                if attempt > self.max_retries or not replayable:
                    raise TDPError(0, "connection_failed", str(exc)) from exc
                self._sleep(self._backoff(attempt))
                continue
            except (httpx.ReadError, httpx.ReadTimeout, httpx.RemoteProtocolError) as exc:
                # The server may have acted: only reads and writes whose route honours Idempotency-Key are repeated.
                safe = method == "GET" or idempotency_key is not None
                if attempt > self.max_retries or not replayable or not safe:
                    raise TDPError(0, "connection_failed", str(exc)) from exc
                self._sleep(self._backoff(attempt))
                continue
            if response.status_code in RETRY_STATUSES and attempt <= self.max_retries and replayable:
                wait = retry_after_seconds(response.headers.get("Retry-After"), self._backoff(attempt))
                response.close()
                self._sleep(min(wait, self.max_retry_wait))
                continue
            if response.status_code >= 400:
                if stream:
                    response.read()
                raise error_from_response(response.status_code, _json_or_none(response), response.text)
            return response

    def _backoff(self, attempt: int) -> float:
        return min(self.max_retry_wait, 0.5 * 2 ** (attempt - 1)) * (0.75 + random.random() / 2)  # noqa: S311

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.send(method, path, **kwargs)
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    # -- pages, jobs, streams ----------------------------------------------------------------------------------

    def pages(self, path: str, params: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """Every item of a cursor-paginated list, fetched lazily page by page."""
        body = self.json("GET", path, params=params)
        while True:
            if isinstance(body, list):  # a few lists are plain arrays
                yield from body
                return
            yield from body.get("results", [])
            next_url = body.get("next")
            if not next_url:
                return
            body = self.json("GET", next_url)

    def wait_job(
        self,
        job_id: str,
        *,
        progress: Callable[[dict[str, Any]], None] | None = None,
        timeout: float | None = None,
        interval: float = 0.5,
    ) -> dict[str, Any]:
        """Poll `/jobs/{id}` until it succeeds (→ the job) or fails (→ `JobFailed`); `progress(job)` on each poll."""
        deadline = None if timeout is None else time.monotonic() + timeout
        delay = interval
        while True:
            job = self.json("GET", f"/jobs/{job_id}")
            if progress:
                progress(job)
            if job["status"] == "succeeded":
                return job
            if job["status"] == "failed":
                raise JobFailed(0, "job_failed", str(job.get("error") or "the job failed"), job)
            if deadline is not None and time.monotonic() > deadline:
                raise TDPError(0, "job_timeout", f"job {job_id} still {job['status']} after {timeout} s", job)
            self._sleep(delay)
            delay = min(delay * 1.5, 5.0)

    def result_or_job(
        self, response: httpx.Response, *, wait: bool, progress: Callable[[dict[str, Any]], None] | None = None
    ) -> Any:
        """A 200/201 answer as is; a 202 `{"job"}` awaited (its `result`) when `wait`, else the 202 body."""
        body = response.json() if response.content else None
        if response.status_code == 202 and isinstance(body, dict) and "job" in body and wait:
            return self.wait_job(body["job"], progress=progress).get("result")
        return body


def _has_stream(files: Any) -> bool:
    return bool(files)  # open file objects are consumed by the first attempt


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None
