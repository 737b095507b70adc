"""How the permission matrix is walked: the actors, the URL patterns of the project, filling a pattern with the
world's ids, and sending one request as one actor inside a savepoint that is rolled back (every request sees the
same world, whatever an earlier one changed or deleted)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient
from rest_framework.views import APIView

from apps.accounts import services as account_services
from apps.accounts.models import User
from tests.security.world import World

# Who asks. Org roles are also project members with the matching project role (reviewer, labeler, expert);
# `project_manager` is an org labeler who is the project's team manager; `non_member` an org labeler outside the
# project; `other_org_admin` the admin of another organization.
ACTORS = (
    "anonymous",
    "admin",
    "team_manager",
    "reviewer",
    "labeler",
    "expert",
    "project_manager",
    "non_member",
    "other_org_admin",
)

# URL parameter → the world's object it names, unless a row says otherwise.
PATH_OBJECTS = {
    "user_id": "user",
    "job_id": "job",
    "ontology_id": "ontology",
    "schema_id": "feature",
    "dataset_id": "dataset",
    "data_row_id": "data_row",
    "integration_id": "integration",
    "project_id": "project",
    "batch_id": "batch",
    "task_id": "open_task",
    "label_id": "label",
    "issue_id": "issue",
    "space_id": "space",
    "slice_id": "slice",
    "model_id": "model",
    "run_id": "run",
    "export_id": "export",
    "webhook_id": "webhook",
    "delivery_id": "delivery",
    "token_id": "token",
    "alert_id": "alert",
    "rule_id": "alert_rule",
    "endpoint_id": "endpoint",
    "token": "media_token",
}
EXCLUDED_PREFIXES = ("admin/",)  # the Django admin has its own tests (tests/*/test_admin*.py)
_PARAM = re.compile(r"<(?:\w+:)?(\w+)>")
_CONVERTER = re.compile(r"<\w+:(\w+)>")


@dataclass(frozen=True)
class Row:
    """One request and the status each actor gets. `route` is the URL pattern as Django spells it."""

    method: str
    route: str
    expect: dict[str, int]
    body: Callable[[World], Any] | None = None
    objects: dict[str, str] = field(default_factory=dict)  # URL parameter → world object, overriding PATH_OBJECTS
    page: bool = False  # a server-rendered page (session login, form body) rather than the API

    @property
    def label(self) -> str:
        return f"{self.method.upper()} /{self.route}"


def url_patterns(resolver: URLResolver | None = None, prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    """Every URL pattern of the project outside the admin, as (route without converters, pattern)."""
    for entry in (resolver or get_resolver()).url_patterns:
        route = prefix + _CONVERTER.sub(r"<\1>", str(entry.pattern))
        if route.startswith(EXCLUDED_PREFIXES):
            continue
        if isinstance(entry, URLResolver):
            yield from url_patterns(entry, route)
        else:
            yield route, entry


def methods_of(pattern: URLPattern) -> set[str]:
    """The HTTP methods a class-based view implements (a function view answers `{"?"}`: rows decide)."""
    view_class = getattr(pattern.callback, "view_class", None)
    if view_class is None or not issubclass(view_class, APIView):
        return {"?"}
    return {m for m in ("get", "post", "put", "patch", "delete") if hasattr(view_class, m)}


def url_for(row: Row, world: World) -> str:
    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        return world.ids[row.objects.get(name) or PATH_OBJECTS[name]]

    return "/" + _PARAM.sub(fill, row.route)


def client_for(actor: User | None, *, page: bool) -> Client | APIClient:
    if page:
        client = Client()
        if actor is not None:
            client.force_login(actor)
        return client
    api = APIClient()
    if actor is not None:
        api.credentials(HTTP_AUTHORIZATION=f"Token {account_services.api_token_create(user=actor).key}")
    return api


def send(client: Client | APIClient, row: Row, world: World) -> Any:
    url = url_for(row, world)
    body = row.body(world) if row.body else None
    with transaction.atomic():
        if row.page:
            response = getattr(client, row.method)(url, data=body or {})
        else:
            response = getattr(client, row.method)(url, data=body if body is not None else {}, format="json")
        transaction.set_rollback(True)
    return response
