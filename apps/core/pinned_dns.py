"""Connect to the address that was checked, for clients we do not drive ourselves (boto3 for storage integrations).

`validate_outbound_url` resolves a host and checks every address; a client that resolves the name again when it
connects could be handed another address (DNS rebinding: a public address at check time, 169.254.169.254 a second
later). Inside `pinned(target)`, a name lookup of the target's host from this thread answers only the checked
addresses; TLS still verifies the certificate against the host name (the URL is unchanged). Other threads and
other hosts resolve as usual."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from apps.core.url_safety import Target

_local = threading.local()
_install_lock = threading.Lock()
_system_getaddrinfo = socket.getaddrinfo


def _pins() -> dict[str, list[str]]:
    pins = getattr(_local, "pins", None)
    if pins is None:
        pins = _local.pins = {}
    return pins


def _getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
    addresses = _pins().get(host.lower().strip("[]")) if isinstance(host, str) else None
    if not addresses:
        return _system_getaddrinfo(host, port, *args, **kwargs)
    found: list[Any] = []
    for address in addresses:  # numeric: no DNS query is made
        found.extend(_system_getaddrinfo(address, port, *args, **kwargs))
    return found


def _install() -> None:
    with _install_lock:
        if socket.getaddrinfo is not _getaddrinfo:
            socket.getaddrinfo = _getaddrinfo


@contextmanager
def pinned(target: Target | None) -> Iterator[None]:
    """Lookups of `target.host` in this thread answer the addresses checked by `validate_outbound_url`. A target
    without addresses (an allow-listed host that did not resolve) or None: nothing pinned."""
    if target is None or not target.addresses:
        yield
        return
    _install()
    pins = _pins()
    previous = pins.get(target.host)
    pins[target.host] = [str(a) for a in target.addresses]
    try:
        yield
    finally:
        if previous is None:
            pins.pop(target.host, None)
        else:
            pins[target.host] = previous
