"""Demo content: each app may define `apps/<app>/demo.py` with `load(organization)` (idempotent)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from importlib import import_module
from typing import TYPE_CHECKING, Any
from unittest import mock

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


class DemoClock:
    """A simulated `timezone.now()` for demo loaders that replay weeks of work through the ordinary services (labels,
    reviews and issues get the timestamps they would have had). Inside `with clock:` every `django.utils.timezone.now`
    call returns `clock.moment`; `clock.at(moment)` moves it. Only for `load_demo`: never in a request."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment
        self._patch: Any = None

    def at(self, moment: datetime) -> DemoClock:
        self.moment = moment
        return self

    def advance(self, seconds: float) -> datetime:
        self.moment += timedelta(seconds=seconds)
        return self.moment

    def __enter__(self) -> DemoClock:
        self._patch = mock.patch("django.utils.timezone.now", side_effect=lambda: self.moment)
        self._patch.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._patch.stop()
