"""The one way the server reaches a user-given URL (SSRF guard).

- `validate_outbound_url(url)`: scheme http(s), a host, and every address it resolves to is public: loopback,
  private, link-local, multicast, reserved, unspecified, shared (CGNAT) and cloud metadata addresses are refused
  unless `host[:port]` is listed in `settings.TDP_OUTBOUND_ALLOWED_HOSTS`.
- `safe_fetch(url)`: GET/POST through urllib3 to the exact address that was checked (no second DNS lookup that
  could be rebound), redirects followed by hand and re-checked at each hop, body size and total time capped.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import urllib3
from django.conf import settings

from apps.core.errors import ValidationFailed

METADATA_ADDRESSES = frozenset(
    {
        ipaddress.ip_address("169.254.169.254"),  # AWS, GCP, Azure, OpenStack
        ipaddress.ip_address("fd00:ec2::254"),  # AWS IPv6
        ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud
        ipaddress.ip_address("169.254.170.2"),  # ECS task metadata
    }
)
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeURL(ValidationFailed):
    code = "unsafe_url"
    default_message = "The URL is not allowed."


class FetchFailed(ValidationFailed):
    code = "fetch_failed"
    default_message = "The URL could not be fetched."


@dataclass
class Target:
    scheme: str
    host: str
    port: int
    path: str
    addresses: list[IPAddress] = field(default_factory=list)
    allowlisted: bool = False


@dataclass
class FetchResult:
    url: str
    status: int
    headers: dict[str, str]
    body: bytes


def _allowed_hosts() -> set[str]:
    return {h.strip().lower() for h in getattr(settings, "TDP_OUTBOUND_ALLOWED_HOSTS", []) if h.strip()}


def is_public_address(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        mapped = address.ipv4_mapped or address.sixtofour
        if mapped is not None:
            return is_public_address(mapped)
        if address.teredo is not None:
            return False
    if address in METADATA_ADDRESSES:
        return False
    return not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    )


def _resolve(host: str, port: int) -> list[IPAddress]:
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError):
        raise UnsafeURL(f"The host {host!r} could not be resolved.", code="unresolvable_host") from None
    addresses: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


def validate_outbound_url(url: str, *, schemes: tuple[str, ...] = ("http", "https")) -> Target:
    """Check a URL the server is about to contact; returns where to connect. Raises UnsafeURL."""
    if not isinstance(url, str) or len(url) > 4096:
        raise UnsafeURL("The URL is missing or too long.")
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise UnsafeURL("The URL is malformed.") from None
    scheme = parts.scheme.lower()
    if scheme not in schemes:
        raise UnsafeURL(f"Only {', '.join(schemes)} URLs are allowed.")
    host = (parts.hostname or "").lower()
    if not host:
        raise UnsafeURL("The URL has no host.")
    if parts.username or parts.password:
        raise UnsafeURL("URLs with credentials are not allowed.")
    port = port or (443 if scheme == "https" else 80)
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    target = Target(scheme=scheme, host=host, port=port, path=path)
    allowed = _allowed_hosts()
    host_text = f"[{host}]" if ":" in host else host
    target.addresses = _resolve(host, port)
    if f"{host_text}:{port}" in allowed or host in allowed or host_text in allowed:
        target.allowlisted = True
        return target
    if not target.addresses:
        raise UnsafeURL(f"The host {host!r} has no address.", code="unresolvable_host")
    for address in target.addresses:
        if not is_public_address(address):
            raise UnsafeURL(
                f"The URL points to a non-public address ({address}); only public hosts, or hosts listed in "
                "TDP_OUTBOUND_ALLOWED_HOSTS, may be contacted.",
                details={"host": host, "address": str(address)},
            )
    return target


def _pool(target: Target, address: IPAddress, timeout: urllib3.Timeout) -> urllib3.HTTPConnectionPool:
    kwargs: dict[str, Any] = {"timeout": timeout, "retries": False, "maxsize": 1}
    if target.scheme == "https":
        return urllib3.HTTPSConnectionPool(
            str(address),
            target.port,
            server_hostname=target.host,
            assert_hostname=target.host,
            cert_reqs="CERT_REQUIRED",
            **kwargs,
        )
    return urllib3.HTTPConnectionPool(str(address), target.port, **kwargs)


def safe_fetch(
    url: str,
    *,
    method: str = "GET",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    max_bytes: int | None = None,
    timeout: float | None = None,
    max_redirects: int = 5,
    follow_redirects: bool = True,
    truncate: bool = False,
    pools: ConnectionPools | None = None,
) -> FetchResult:
    """Fetch a user-given URL safely. Raises UnsafeURL (refused target) or FetchFailed (network, size, time).

    `follow_redirects=False` returns a redirect response as it is (webhooks never follow one); `truncate=True` keeps
    the first `max_bytes` of a larger body instead of failing (a receiver's answer is only recorded). `pools`: keep
    the connection open for the caller's next fetch (see `ConnectionPools`); the URL is still checked every time."""
    max_bytes = settings.TDP_OUTBOUND_MAX_BYTES if max_bytes is None else max_bytes
    timeout = settings.TDP_OUTBOUND_TIMEOUT_SECONDS if timeout is None else timeout
    deadline = time.monotonic() + timeout
    current = url
    for _hop in range(max_redirects + 1):
        target = validate_outbound_url(current)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise FetchFailed(f"Fetching the URL took longer than {timeout:g} seconds.", code="fetch_timeout")
        host_header = target.host if ":" not in target.host else f"[{target.host}]"
        if target.port not in (80, 443):
            host_header = f"{host_header}:{target.port}"
        request_headers = {"Host": host_header, "User-Agent": "TDP/1.0", **(headers or {})}
        request_timeout = urllib3.Timeout(connect=remaining, read=remaining)
        pool = _pool(target, target.addresses[0], request_timeout) if pools is None else pools.get(target)
        try:
            response = pool.urlopen(
                method,
                target.path,
                body=body,
                headers=request_headers,
                redirect=False,
                preload_content=False,
                timeout=request_timeout,
            )
        except urllib3.exceptions.HTTPError as exc:
            raise FetchFailed(f"The URL could not be fetched: {type(exc).__name__}.") from None
        complete = False
        try:
            if follow_redirects and response.status in REDIRECT_STATUSES and response.headers.get("Location"):
                current = urljoin(current, response.headers["Location"])
                if response.status == 303 or (response.status in (301, 302) and method == "POST"):
                    method, body = "GET", None
                continue
            declared = response.headers.get("Content-Length")
            if not truncate and declared and declared.isdigit() and int(declared) > max_bytes:
                raise FetchFailed(f"The response is larger than {max_bytes} bytes.", code="fetch_too_large")
            chunks: list[bytes] = []
            size = 0
            try:
                while chunk := response.read1(65536):
                    size += len(chunk)
                    if size > max_bytes and truncate:
                        chunks.append(chunk[: max_bytes - (size - len(chunk))])
                        break
                    if size > max_bytes:
                        raise FetchFailed(f"The response is larger than {max_bytes} bytes.", code="fetch_too_large")
                    if time.monotonic() > deadline:
                        raise FetchFailed(
                            f"Fetching the URL took longer than {timeout:g} seconds.", code="fetch_timeout"
                        )
                    chunks.append(chunk)
            except urllib3.exceptions.HTTPError as exc:
                raise FetchFailed(f"The URL could not be fetched: {type(exc).__name__}.") from None
            complete = size <= max_bytes
            return FetchResult(
                url=current, status=response.status, headers=dict(response.headers), body=b"".join(chunks)
            )
        finally:
            if pools is not None and not complete:
                response.close()  # a body left unread (too large, cut, a redirect's) must not reach the next request
            response.release_conn()
            if pools is None:
                pool.close()
    raise FetchFailed(f"More than {max_redirects} redirects.", code="too_many_redirects")


class ConnectionPools:
    """Kept-alive connections for one caller thread (a model endpoint dispatcher's worker): one pool per checked
    address, host, port and scheme. Every fetch still validates its URL (and resolves its host) first; a host that
    now resolves elsewhere gets a new pool to the new, checked address: a kept connection never outlives the check
    that allowed it. Not thread-safe: one per thread. `close()` when done."""

    def __init__(self) -> None:
        self._pools: dict[tuple[str, str, int, str], urllib3.HTTPConnectionPool] = {}

    def get(self, target: Target) -> urllib3.HTTPConnectionPool:
        address = target.addresses[0]
        key = (target.scheme, str(address), target.port, target.host)
        pool = self._pools.get(key)
        if pool is None:
            pool = self._pools[key] = _pool(target, address, urllib3.Timeout(connect=10, read=10))
        return pool

    def close(self) -> None:
        for pool in self._pools.values():
            pool.close()
        self._pools.clear()
