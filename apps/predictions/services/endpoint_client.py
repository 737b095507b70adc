"""Calls to a model endpoint, all through the outbound URL guard (`apps.core.url_safety.safe_fetch`): the address is
checked at every call and every redirect hop (a redirect to a private address is refused; the secret header is not
sent to another origin), the answer is size-capped, and no error message ever quotes the answer's bytes."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urljoin, urlsplit

import orjson
from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import User
from apps.core.audit import audit_record
from apps.core.public_url import absolute_url
from apps.core.url_safety import REDIRECT_STATUSES, ConnectionPools, FetchFailed, UnsafeURL, safe_fetch
from apps.datasets.models import StorageIntegration
from apps.predictions.domain import endpoint_protocols as protocols
from apps.predictions.models import EndpointProtocol, ModelEndpoint
from apps.predictions.services.endpoints import ontology_features, secret_decrypt

MEDIA_SALT = "tdp.model-endpoint-media"
MAX_REDIRECTS = 3


class EndpointCallError(Exception):
    """A call that did not give a usable answer; `message` is safe to store and show."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable


@dataclass
class Called:
    status: int
    payload: Any
    ms: float
    # The model's own time for this call as the server reported it (`X-Model-Seconds`), when it does.
    model_seconds: float | None = None


def _model_seconds(headers: dict[str, str]) -> float | None:
    value = headers.get("X-Model-Seconds") or headers.get("x-model-seconds")
    try:
        seconds = float(value) if value else None
    except ValueError:
        return None
    return seconds if seconds is not None and 0 <= seconds < 86400 else None


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme, (parts.hostname or "").lower(), parts.port


def call(
    endpoint: ModelEndpoint,
    method: str,
    path: str,
    body: Any = None,
    *,
    secret: str | None = None,
    pools: ConnectionPools | None = None,
) -> Called:
    """One call through the outbound guard. `pools`: the calling thread's kept-alive connections (the dispatcher's
    workers); checked again at every call all the same."""
    url = f"{endpoint.url}{path}"
    secret = secret_decrypt(endpoint) if secret is None else secret
    data = None if body is None else orjson.dumps(body)
    started = time.monotonic()
    origin = _origin(url)
    for _hop in range(MAX_REDIRECTS + 1):
        headers = {"Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        if secret and _origin(url) == origin:
            headers[endpoint.secret_header] = secret
        try:
            result = safe_fetch(
                url,
                method=method,
                body=data,
                headers=headers,
                max_bytes=settings.TDP_ENDPOINT_MAX_RESPONSE_BYTES,
                timeout=endpoint.timeout_seconds,
                follow_redirects=False,
                pools=pools,
            )
        except UnsafeURL as exc:
            raise EndpointCallError(f"Refused by the outbound URL guard: {exc.message}", retryable=False) from None
        except FetchFailed as exc:
            raise EndpointCallError(_fetch_message(exc, endpoint)) from None
        if result.status in REDIRECT_STATUSES and result.headers.get("Location"):
            url = urljoin(url, result.headers["Location"])  # checked again by safe_fetch on the next hop
            if result.status == 303:
                method, data = "GET", None
            continue
        ms = (time.monotonic() - started) * 1000
        if not 200 <= result.status < 300:
            raise EndpointCallError(f"The endpoint answered HTTP {result.status} to {method} {path}.")
        try:
            payload = orjson.loads(result.body) if result.body else None
        except (ValueError, UnicodeDecodeError):
            raise EndpointCallError(
                f"The endpoint's answer to {method} {path} is not valid JSON ({len(result.body)} bytes)."
            ) from None
        return Called(result.status, payload, ms, _model_seconds(result.headers))
    raise EndpointCallError(f"More than {MAX_REDIRECTS} redirects.", retryable=False)


def _fetch_message(exc: FetchFailed, endpoint: ModelEndpoint) -> str:
    code = exc.code
    if code == "fetch_too_large":
        return f"The answer is larger than the {settings.TDP_ENDPOINT_MAX_RESPONSE_BYTES} byte cap."
    if code == "fetch_timeout" or "Timeout" in exc.message:
        return f"No answer within the endpoint's timeout of {endpoint.timeout_seconds:g} s."
    if "ProtocolError" in exc.message or "IncompleteRead" in exc.message:
        return "The connection was closed before the answer was complete."
    if "NewConnectionError" in exc.message or "MaxRetryError" in exc.message:
        return "The endpoint could not be reached (connection refused or no route)."
    return exc.message


# --- rows as the protocols send them -------------------------------------------------------------------------------


def media_token(data_row_id: Any) -> str:
    return signing.TimestampSigner(salt=MEDIA_SALT).sign(str(data_row_id))


def media_row_id(token: str) -> str | None:
    try:
        return signing.TimestampSigner(salt=MEDIA_SALT).unsign(token, max_age=settings.TDP_SIGNED_URL_TTL_SECONDS)
    except signing.BadSignature:
        return None


class RowFields(Protocol):
    """What a row's payload is made of: a `DataRow`, or the dispatcher's lighter `values_list` tuple."""

    @property
    def pk(self) -> Any: ...
    @property
    def organization_id(self) -> Any: ...
    @property
    def global_key(self) -> str: ...
    @property
    def media_type(self) -> str: ...
    @property
    def row_data(self) -> str: ...
    @property
    def width(self) -> int | None: ...
    @property
    def height(self) -> int | None: ...


def media_url(row: RowFields, integrations: dict[tuple[Any, str], Any] | None = None) -> str | None:
    """A short-lived URL of the row's asset the model server can fetch without credentials, or None (inline text).
    `integrations`: a cache of storage integrations by (organization, bucket) for many rows at once."""
    data = row.row_data
    if data.startswith(("http://", "https://")):
        return data
    if data.startswith("upload://"):
        path = reverse("api-model-endpoint-media", args=[media_token(row.pk)])
        public = str(getattr(settings, "TDP_PUBLIC_URL", "") or "").rstrip("/")
        # The public URL first: the model server reaches the site there, whoever's request made the call.
        return f"{public}{path}" if public else absolute_url(path)
    if data.startswith("s3://"):
        from apps.datasets import cloud

        bucket, _, key = data[5:].partition("/")
        cache = {} if integrations is None else integrations
        if (row.organization_id, bucket) not in cache:
            cache[(row.organization_id, bucket)] = StorageIntegration.objects.filter(
                organization_id=row.organization_id, bucket=bucket
            ).first()
        integration = cache[(row.organization_id, bucket)]
        if integration is None:
            return None
        return cloud.signed_get_url(integration, key, ttl=settings.TDP_SIGNED_URL_TTL_SECONDS)
    return None


def row_payload(row: RowFields, integrations: dict[tuple[Any, str], Any] | None = None) -> dict[str, Any]:
    url = media_url(row, integrations)
    return {
        "id": str(row.pk),
        "global_key": row.global_key,
        "media_type": row.media_type,
        "url": url,
        "text": row.row_data if url is None and row.media_type == "text" else None,
        "width": row.width,
        "height": row.height,
    }


def predict(
    endpoint: ModelEndpoint,
    rows: list[dict[str, Any]],
    *,
    features: list[dict[str, Any]],
    project_key: str,
    secret: str | None = None,
    pools: ConnectionPools | None = None,
) -> tuple[protocols.Answer, float]:
    """One batch to `/predict`; the parsed answer per row and the call's milliseconds. Raises EndpointCallError."""
    ids = [r["id"] for r in rows]
    if endpoint.protocol == EndpointProtocol.LABEL_STUDIO:
        media = rows[0].get("media_type", "image") if rows else "image"
        config = protocols.ls_label_config(features, media_type=media)
        body = protocols.ls_predict_body(rows=rows, project=project_key, label_config=config)
    else:
        body = protocols.tdp_predict_body(kind=endpoint.kind, features=features, rows=rows)
    called = call(endpoint, "POST", "/predict", body, secret=secret, pools=pools)
    try:
        if endpoint.protocol == EndpointProtocol.LABEL_STUDIO:
            answer = protocols.parse_ls_answer(called.payload, rows)
        else:
            answer = protocols.parse_tdp_answer(called.payload, ids)
    except protocols.ProtocolError as exc:
        raise EndpointCallError(exc.args[0]) from None
    answer.model_seconds = called.model_seconds
    return answer, called.ms


def embed(
    endpoint: ModelEndpoint,
    rows: list[dict[str, Any]],
    *,
    secret: str | None = None,
    pools: ConnectionPools | None = None,
    **_: Any,
) -> tuple[protocols.Answer, float]:
    """One batch to `/embed` (TDP protocol; Label Studio's has no embedding call). Raises EndpointCallError."""
    called = call(endpoint, "POST", "/embed", protocols.tdp_embed_body(rows=rows), secret=secret, pools=pools)
    try:
        answer = protocols.parse_tdp_embed_answer(called.payload, [r["id"] for r in rows])
    except protocols.ProtocolError as exc:
        raise EndpointCallError(exc.args[0]) from None
    answer.model_seconds = called.model_seconds
    return answer, called.ms


def check(endpoint: ModelEndpoint) -> dict[str, Any]:
    """`GET /health` then `POST /setup`: what works, in words (never the answers' raw bytes)."""
    result: dict[str, Any] = {"ok": False, "health": None, "setup": None, "errors": []}
    try:
        health = call(endpoint, "GET", "/health")
        status = health.payload.get("status") if isinstance(health.payload, dict) else None
        result["health"] = {"status": str(status)[:40] if status is not None else None, "ms": round(health.ms, 1)}
    except EndpointCallError as exc:
        result["errors"].append(f"/health: {exc.message}")
    features = ontology_features(endpoint.ontology)
    if endpoint.protocol == EndpointProtocol.LABEL_STUDIO:
        body: dict[str, Any] = {
            "project": f"tdp.{endpoint.pk}",
            "schema": protocols.ls_label_config(features),
            "model_version": endpoint.model_version or None,
        }
    else:
        body = {"protocol": protocols.TDP_PROTOCOL, "kind": endpoint.kind, "features": features}
    try:
        setup = call(endpoint, "POST", "/setup", body)
        payload = setup.payload if isinstance(setup.payload, dict) else {}
        version = payload.get("model_version")
        result["setup"] = {
            "model_version": str(version)[:200] if isinstance(version, str | int | float) else None,
            "ms": round(setup.ms, 1),
        }
    except EndpointCallError as exc:
        result["errors"].append(f"/setup: {exc.message}")
    result["ok"] = not result["errors"]
    return result


def model_endpoint_check(*, actor: User, endpoint: ModelEndpoint) -> dict[str, Any]:
    """Run the check (outside any transaction: the calls may take the endpoint's timeout) and record its outcome."""
    result = check(endpoint)
    version = (result.get("setup") or {}).get("model_version")
    with transaction.atomic():
        endpoint.last_check = result
        endpoint.last_checked_at = timezone.now()
        if version:
            endpoint.model_version = version
        endpoint.save(update_fields=["last_check", "last_checked_at", "model_version", "updated_at"])
        audit_record(
            action="model_endpoint.checked",
            actor=actor,
            organization=endpoint.organization,
            target=endpoint,
            extra={"ok": result["ok"]},
        )
    return result
