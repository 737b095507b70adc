"""Cross-organization attacks: an organization's admin (the strongest non-superuser) names every object of another
organization by id, with every method of every URL (API and pages): each answer is a 404, and not one row of the
database changed. Lists and pages without ids never show the other organization's objects."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.apps import apps

from tests.security.matrix import client_for, url_for
from tests.security.permission_matrix import MATRIX
from tests.security.world import World

pytestmark = pytest.mark.django_db

# Rows the attacker's own requests may write: the audit trail, token use times, django-q's queue.
BOOKKEEPING = {"accounts.apitoken", "core.auditevent", "django_q.ormq", "sessions.session"}


def database_state() -> dict[str, list[dict[str, Any]]]:
    state = {}
    for model in apps.get_models():
        label = model._meta.label_lower
        if label in BOOKKEEPING or not model._meta.managed:
            continue
        state[label] = sorted(map(repr, model.objects.order_by("pk").values()))  # type: ignore[assignment]
    return state


def ids_of(world: World) -> set[str]:
    return set(world.ids.values()) | {str(row.pk) for row in world.rows} | {str(u.pk) for u in world.people.values()}


def _object_route(route: str) -> bool:
    """Routes naming an object by id. `<token>` routes are signed links (media and training data for model
    servers, which hold no account): the link is the permission, whoever presents it; their own tests check the
    signature, the expiry and tampering (tests/predictions/test_endpoint_*.py)."""
    return "<" in route and "<token>" not in route


def test_another_organizations_objects_are_404_for_every_method(world, other_world):
    object_rows = [row for row in MATRIX if _object_route(row.route)]
    assert len(object_rows) > 100
    for row in object_rows:
        assert row.expect["other_org_admin"] == 404, f"{row.label}: the matrix lets another organization in"
    api, page = client_for(world.admin, page=False), client_for(world.admin, page=True)
    before = database_state()
    wrong = []
    for row in object_rows:
        url = url_for(row, other_world)
        body = row.body(other_world) if row.body else {}
        if row.page:
            response = getattr(page, row.method)(url, body)
        else:
            response = getattr(api, row.method)(url, body, format="json")
        if response.status_code != 404:
            wrong.append(f"{row.label}: {response.status_code}")
    assert not wrong, "\n".join(wrong)
    after = database_state()
    changed = [label for label in before if before[label] != after[label]]
    assert not changed, f"another organization's requests changed {changed}"


def test_lists_and_pages_never_show_another_organizations_objects(world, other_world):
    theirs = ids_of(other_world)
    mine = ids_of(world)
    rows = [row for row in MATRIX if row.method == "get" and "<" not in row.route and row.expect["admin"] == 200]
    api, page = client_for(world.admin, page=False), client_for(world.admin, page=True)
    seen_mine, leaks = 0, []
    uuid = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
    for row in rows:
        response = (page if row.page else api).get(url_for(row, world), {"page_size": 1000} if not row.page else {})
        if response.status_code != 200:
            continue
        content = b"".join(response.streaming_content) if response.streaming else response.content
        shown = set(uuid.findall(content.decode(errors="replace")))
        seen_mine += len(shown & mine)
        if shown & theirs:
            leaks.append(f"{row.label}: {sorted(shown & theirs)[:3]}")
    assert seen_mine > 20, "the lists showed nothing of the caller's own organization: the check saw nothing"
    assert not leaks, "\n".join(leaks)
