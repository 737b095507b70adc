"""Walks the permission matrix (`permission_matrix.py`): every row × every actor gets the stated status, and every
URL pattern of the project (and every method of its API view) has a row, so a new endpoint cannot ship without
stating who may call it."""

from __future__ import annotations

from collections import defaultdict

import pytest

from apps.accounts.models import User
from tests.security.matrix import ACTORS, client_for, methods_of, send, url_patterns
from tests.security.permission_matrix import MATRIX


def test_every_url_pattern_and_api_method_has_a_row():
    rows: dict[str, set[str]] = defaultdict(set)
    for row in MATRIX:
        rows[row.route].add(row.method)
    patterns = dict(url_patterns())
    missing = []
    for route, pattern in patterns.items():
        methods = methods_of(pattern)
        if route not in rows:
            missing.append(f"/{route} (no row)")
        elif methods != {"?"}:
            missing += [f"{m.upper()} /{route}" for m in sorted(methods - rows[route])]
    assert not missing, "add these to tests/security/permission_matrix.py:\n" + "\n".join(missing)
    stale = sorted(set(rows) - set(patterns))
    assert not stale, f"rows for URL patterns that no longer exist: {stale}"
    labels = [row.label for row in MATRIX]
    assert len(labels) == len(set(labels)), "one row per method and route"


@pytest.mark.django_db
def test_permission_matrix(world, other_org):
    people: dict[str, User | None] = {**world.people, "anonymous": None}
    people["other_org_admin"] = User.objects.get(organization=other_org, role="admin")
    assert set(people) == set(ACTORS)
    clients = {(actor, page): client_for(people[actor], page=page) for actor in ACTORS for page in (False, True)}
    wrong: list[str] = []
    for row in MATRIX:
        for actor in ACTORS:
            response = send(clients[actor, row.page], row, world)
            if response.status_code != row.expect[actor]:
                wrong.append(f"{row.label} as {actor}: {response.status_code}, expected {row.expect[actor]}")
            elif response.status_code >= 400 and not row.page and response.get("Content-Type") == "application/json":
                error = response.json().get("error")
                if not isinstance(error, dict) or set(error) != {"code", "message", "details"}:
                    wrong.append(f"{row.label} as {actor}: {response.status_code} without the error shape")
    assert not wrong, "\n".join(wrong)
