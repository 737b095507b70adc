"""A tiny in-process event bus: services announce what happened, later apps (webhooks) listen.

`emit(...)` records nothing itself. It calls every listener registered with `register_listener` (from a later
app's `AppConfig.ready`) synchronously, inside the caller's transaction, so a listener's writes commit or roll back
with the change they describe. `object` may be a callable: it is only called (once) when a listener asks for the
event's data, so nothing is serialized when nobody listens.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

ObjectSource = dict[str, Any] | Callable[[], dict[str, Any]]


@dataclass
class Event:
    type: str
    organization_id: Any
    project_id: Any = None
    source: ObjectSource = field(default_factory=dict, repr=False)
    _data: dict[str, Any] | None = field(default=None, repr=False)

    def data(self) -> dict[str, Any]:
        """The object the event is about (serialized at most once)."""
        if self._data is None:
            self._data = self.source() if callable(self.source) else self.source
        return self._data


Listener = Callable[[Event], None]
Interest = Callable[[Event], bool]
_listeners: list[Listener] = []
_interests: dict[Listener, Interest] = {}


def register_listener(listener: Listener, *, interested: Interest | None = None) -> None:
    """`interested(event)` (optional) answers `listening(...)` for this listener without building any payload."""
    if listener not in _listeners:
        _listeners.append(listener)
    if interested is not None:
        _interests[listener] = interested


def unregister_listener(listener: Listener) -> None:
    if listener in _listeners:
        _listeners.remove(listener)
    _interests.pop(listener, None)


def listening(*, type: str, organization_id: Any, project_id: Any = None) -> bool:
    """Whether an event would reach anyone: lets a service skip extra work (locks, checks) only an event needs."""
    if not _listeners or organization_id is None:
        return False
    event = Event(type=type, organization_id=organization_id, project_id=project_id)
    return any(_interests[fn](event) if fn in _interests else True for fn in _listeners)


def emit(*, type: str, organization_id: Any, project_id: Any = None, object: ObjectSource) -> None:
    """Announce an event to every listener (call it inside the service's transaction, after the write)."""
    if not _listeners or organization_id is None:
        return
    event = Event(type=type, organization_id=organization_id, project_id=project_id, source=object)
    for listener in list(_listeners):
        listener(event)
