"""Delegated access to customer buckets: assume the integration's role through STS, sign short-lived URLs.

The server's own AWS credentials (environment / instance profile) only need `sts:AssumeRole`; what they may read is
decided by the customer's role and its trust policy, which must require our generated external ID.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError, NoCredentialsError

from apps.core.errors import ApplicationError
from apps.core.pinned_dns import pinned
from apps.core.url_safety import Target, UnsafeURL, validate_outbound_url
from apps.datasets.models import StorageIntegration

_BOTO_CONFIG = Config(
    signature_version="s3v4", connect_timeout=5, read_timeout=15, retries={"max_attempts": 2, "mode": "standard"}
)
_cache: dict[tuple[str, str], tuple[float, dict[str, str]]] = {}
_cache_lock = threading.Lock()


class StorageUnavailable(ApplicationError):
    status_code = 502
    code = "storage_unavailable"
    default_message = "The storage integration could not be used."


def _endpoint(integration: StorageIntegration) -> tuple[str | None, Target | None]:
    """The endpoint URL and the addresses it was checked against (re-checked at each use: DNS may have changed).
    Calls through it run inside `pinned(target)`: boto3 connects to those addresses, not to a second lookup's."""
    if not integration.endpoint_url:
        return None, None
    return integration.endpoint_url, validate_outbound_url(integration.endpoint_url)


def _region(integration: StorageIntegration) -> str:
    return integration.region or "us-east-1"


def _assume_role(integration: StorageIntegration, *, min_ttl: int) -> dict[str, str]:
    cache_key = (str(integration.pk), f"{integration.role_arn}|{integration.external_id}|{integration.endpoint_url}")
    now = time.time()
    with _cache_lock:
        hit = _cache.get(cache_key)
        if hit is not None and hit[0] - now > min_ttl + 60:
            return hit[1]
    duration = min(max(900, min_ttl + 300), 3600)
    # A fresh session: the server's own credentials are resolved now (rotated keys, changed environment).
    endpoint, target = _endpoint(integration)
    sts = boto3.session.Session().client(
        "sts", region_name=_region(integration), endpoint_url=endpoint, config=_BOTO_CONFIG
    )
    with pinned(target):
        response = sts.assume_role(
            RoleArn=integration.role_arn,
            RoleSessionName=f"tdp-{str(integration.organization_id)[:8]}-{str(integration.pk)[:8]}",
            ExternalId=integration.external_id,
            DurationSeconds=duration,
        )
    credentials = response["Credentials"]
    values = {
        "aws_access_key_id": credentials["AccessKeyId"],
        "aws_secret_access_key": credentials["SecretAccessKey"],
        "aws_session_token": credentials["SessionToken"],
    }
    with _cache_lock:
        _cache[cache_key] = (now + duration, values)
    return values


def _s3(integration: StorageIntegration, *, min_ttl: int) -> Any:
    """A client for signing URLs (no connection is made: the browser fetches the signed URL)."""
    credentials = _assume_role(integration, min_ttl=min_ttl)
    return boto3.client(
        "s3",
        region_name=_region(integration),
        endpoint_url=_endpoint(integration)[0],
        config=_BOTO_CONFIG,
        **credentials,
    )


def signed_get_url(integration: StorageIntegration, key: str, *, ttl: int) -> str:
    """A presigned GET URL for `s3://bucket/key`, valid for `ttl` seconds."""
    try:
        client = _s3(integration, min_ttl=ttl)
        return str(
            client.generate_presigned_url(
                "get_object", Params={"Bucket": integration.bucket, "Key": key}, ExpiresIn=ttl, HttpMethod="GET"
            )
        )
    except UnsafeURL:
        raise
    except (ClientError, BotoCoreError) as exc:
        raise StorageUnavailable(f"Could not sign a URL through the storage integration: {_reason(exc)}") from None


def _reason(exc: Exception) -> str:
    if isinstance(exc, NoCredentialsError):
        return "the server has no AWS credentials to call STS with."
    if isinstance(exc, EndpointConnectionError):
        return "the storage endpoint could not be reached."
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"{error.get('Code', 'error')}: {error.get('Message', '')}".strip()
    return type(exc).__name__


def check_access(integration: StorageIntegration) -> tuple[bool, str]:
    """(ok, human-readable reason): can we assume the role, and can the role list the bucket?"""
    try:
        _endpoint(integration)
    except UnsafeURL as exc:
        return False, f"The endpoint URL is not allowed: {exc.message}"
    try:
        credentials = _assume_role(integration, min_ttl=0)
    except (ClientError, BotoCoreError) as exc:
        return False, (
            f"Could not assume the role {integration.role_arn}: {_reason(exc)} Check that the role's trust policy "
            f"allows this platform's AWS principal with the external ID {integration.external_id}."
        )
    endpoint, target = _endpoint(integration)
    client = boto3.client(
        "s3", region_name=_region(integration), endpoint_url=endpoint, config=_BOTO_CONFIG, **credentials
    )
    try:
        with pinned(target):
            client.head_bucket(Bucket=integration.bucket)
            client.list_objects_v2(Bucket=integration.bucket, MaxKeys=1)
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in ("404", "NoSuchBucket", "NotFound"):
            return False, f"The bucket {integration.bucket!r} does not exist (or is in another partition)."
        if code in ("403", "AccessDenied", "Forbidden"):
            return False, (
                f"The role can be assumed but may not read the bucket {integration.bucket!r}: allow s3:ListBucket "
                "and s3:GetObject on it."
            )
        if code in ("301", "PermanentRedirect"):
            return False, f"The bucket {integration.bucket!r} is in another region than {_region(integration)!r}."
        return False, f"The bucket could not be read: {_reason(exc)}"
    except BotoCoreError as exc:
        return False, f"The bucket could not be read: {_reason(exc)}"
    return True, f"The role was assumed and the bucket {integration.bucket!r} can be listed."


def list_keys(integration: StorageIntegration, *, prefix: str, limit: int) -> tuple[list[str], bool]:
    """The object keys under `prefix` in the integration's bucket, in S3's (lexicographic) order, at most `limit`
    of them: (keys, truncated). "Folder" placeholders (keys ending in `/`) are left out. The endpoint is re-checked
    against private addresses (`_endpoint`) before any call; a failure is a 502 with the reason."""
    try:
        client = _s3(integration, min_ttl=0)
        keys: list[str] = []
        token: str | None = None
        while True:
            params: dict[str, Any] = {"Bucket": integration.bucket, "Prefix": prefix, "MaxKeys": 1000}
            if token:
                params["ContinuationToken"] = token
            page = client.list_objects_v2(**params)
            for entry in page.get("Contents", []):
                key = str(entry.get("Key", ""))
                if key and not key.endswith("/"):
                    if len(keys) >= limit:
                        return keys, True
                    keys.append(key)
            token = page.get("NextContinuationToken") if page.get("IsTruncated") else None
            if not token:
                return keys, False
    except UnsafeURL:
        raise
    except (ClientError, BotoCoreError) as exc:
        raise StorageUnavailable(f"Could not list the bucket through the storage integration: {_reason(exc)}") from None
