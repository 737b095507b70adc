"""What the home page lists. Apps that own work items register a provider here (projects, review queues...)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from apps.accounts.models import User


@dataclass
class HomeSection:
    title: str
    items: list[dict[str, Any]] = field(default_factory=list)
    empty_text: str = "Nothing here yet."


HomeProvider = Callable[[User], "HomeSection | None"]  # None: the section does not concern this user
_providers: list[HomeProvider] = []


def register_home_section(provider: HomeProvider) -> HomeProvider:
    """Decorator for app modules: `@register_home_section def my_projects(user): ...`."""
    if provider not in _providers:
        _providers.append(provider)
    return provider


def my_projects_placeholder(user: User) -> HomeSection:
    return HomeSection(title="My projects", empty_text="You are not a member of any project yet.")


def home_sections(user: User) -> list[HomeSection]:
    providers = _providers or [my_projects_placeholder]
    return [section for provider in providers if (section := provider(user)) is not None]
