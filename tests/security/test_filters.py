"""Filters come from allow-lists: query parameters naming ORM lookup paths (`labeler__password__startswith`, …) on
every list of the API and every page are rejected (400) or ignored (the same answer as without them) — they never
filter. A filter that leaked would answer differently for a right and a wrong first letter of a password hash."""

from __future__ import annotations

import re

import pytest

from tests.security.matrix import client_for, url_for
from tests.security.permission_matrix import MATRIX

pytestmark = pytest.mark.django_db

# Lookups that, were they passed to `.filter(**params)`, would match (or not) on secrets of related rows.
INJECTIONS = [
    {"labeler__password__startswith": "pbkdf2"},
    {"labeler__password__startswith": "zzz"},
    {"created_by__password": "x"},
    {"created_by__password__startswith": "pbkdf2"},
    {"user__password__startswith": "pbkdf2"},
    {"author__password__regex": "^z"},
    {"organization__name": "nope"},
    {"organization__users__password__startswith": "zzz"},
    {"project__organization__name__startswith": "zzz"},
    {"metadata.sensor__password": "a"},
    {"metadata__sensor": "zzz"},
    {"ordering": "-created_by__password"},
    {"order": "created_by__password"},
    {"o": "password"},
    {"id__in": "00000000-0000-0000-0000-000000000000"},
    {"dataset__organization__name": "zzz"},
]


UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _objects(response) -> set[str]:
    """The ids of the objects an answer shows (JSON or page): what a filter would change."""
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return set(UUID.findall(content.decode(errors="replace")))


def test_orm_lookups_in_query_parameters_never_filter(world, other_world):
    rows = [
        row
        for row in MATRIX
        if row.method == "get" and row.expect["admin"] == 200 and not row.route.startswith("api/schema")
    ]
    client_admin = client_for(world.admin, page=False)
    page_admin = client_for(world.admin, page=True)
    leaks = []
    checked = 0
    for row in rows:
        client = page_admin if row.page else client_admin
        url = url_for(row, world)
        baseline = client.get(url)
        if baseline.status_code != 200:
            continue
        expected = _objects(baseline)
        for injection in INJECTIONS:
            response = client.get(url, injection)
            if response.status_code == 400:
                continue
            checked += 1
            # A page may echo the query string (the API docs page passes it on to its script URL): ids that are
            # only there because the request named them are not a filter's effect.
            echoed = set(UUID.findall(" ".join(injection.values())))
            if response.status_code != 200 or _objects(response) - echoed != expected:
                leaks.append(f"{row.label} ?{injection}: {response.status_code}")
    assert checked > 200, checked
    assert not leaks, "\n".join(leaks)
