"""Requests the live server is still answering (tests only, see `tdp/settings/test.py`): a browser test waits for
them to end before its database is flushed, or a request still in its transaction (a draft saved on the way out)
deadlocks with the flush's TRUNCATE."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

_changed = threading.Condition()
_active = 0


class InFlightRequests:
    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        global _active
        with _changed:
            _active += 1
        try:
            return self.get_response(request)
        finally:
            with _changed:
                _active -= 1
                _changed.notify_all()


def wait_idle(timeout: float = 10.0) -> bool:
    """Block until no request is being answered (True), or `timeout` seconds passed (False)."""
    with _changed:
        return _changed.wait_for(lambda: _active == 0, timeout=timeout)
