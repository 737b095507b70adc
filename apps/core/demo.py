"""Demo content: each app may define `apps/<app>/demo.py` with `load(organization)` (idempotent)."""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import TYPE_CHECKING

from django.apps import apps as django_apps

if TYPE_CHECKING:
    from apps.accounts.models import Organization


def demo_loaders() -> list[Callable[[Organization], None]]:
    """`load` functions of every installed app's `demo` module, in INSTALLED_APPS order."""
    loaders = []
    for config in django_apps.get_app_configs():
        if not config.name.startswith("apps.") or config.name == "apps.core":
            continue
        try:
            module = import_module(f"{config.name}.demo")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.demo":
                raise
            continue
        loaders.append(module.load)
    return loaders
