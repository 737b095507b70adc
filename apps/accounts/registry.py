"""Hooks later apps register into from `AppConfig.ready()`: what to do when a user's organization role is lowered
(labeling caps the user's project roles; see docs/security.md "Demotion and tokens")."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

RoleLoweredListener = Callable[..., Any]  # (*, user, actor, old_role, new_role) -> None, inside the transaction

_role_lowered: list[RoleLoweredListener] = []


def register_role_lowered_listener(listener: RoleLoweredListener) -> None:
    if listener not in _role_lowered:
        _role_lowered.append(listener)


def role_lowered_listeners() -> list[RoleLoweredListener]:
    return list(_role_lowered)
