"""The permission matrix: every endpoint by every org role, another organization's admin, and nobody.

Kept as data so each new feature adds its rows. `{self}` is the caller's id, `{peer}` a labeler in `org`,
`{job}` a job created by that labeler.
"""

from __future__ import annotations

import itertools

import pytest

from apps.accounts.models import User
from apps.core.models import Job

pytestmark = pytest.mark.django_db

ROLES = ["admin", "team_manager", "reviewer", "labeler", "expert", "other_org_admin", "anonymous"]
_count = itertools.count()


def new_user_body() -> dict:
    return {"username": f"matrix-{next(_count)}", "password": "Matrix-pass-123", "role": "labeler"}


# (method, path, body factory, {role: expected status})
MATRIX: list[tuple[str, str, object, dict[str, int]]] = [
    ("get", "/api/v1/me", None, {**dict.fromkeys(ROLES[:6], 200), "anonymous": 401}),
    (
        "get",
        "/api/v1/users",
        None,
        {
            "admin": 200,
            "team_manager": 200,
            "reviewer": 403,
            "labeler": 403,
            "expert": 403,
            "other_org_admin": 200,
            "anonymous": 401,
        },
    ),
    (
        "post",
        "/api/v1/users",
        new_user_body,
        {
            "admin": 201,
            "team_manager": 403,
            "reviewer": 403,
            "labeler": 403,
            "expert": 403,
            "other_org_admin": 201,
            "anonymous": 401,
        },
    ),
    ("get", "/api/v1/users/{self}", None, {**dict.fromkeys(ROLES[:6], 200), "anonymous": 401}),
    (
        "get",
        "/api/v1/users/{peer}",
        None,
        {
            "admin": 200,
            "team_manager": 200,
            "reviewer": 403,
            "labeler": 403,
            "expert": 403,
            "other_org_admin": 404,
            "anonymous": 401,
        },
    ),
    (
        "patch",
        "/api/v1/users/{peer}",
        lambda: {"role": "labeler"},
        {
            "admin": 200,
            "team_manager": 403,
            "reviewer": 403,
            "labeler": 403,
            "expert": 403,
            "other_org_admin": 404,
            "anonymous": 401,
        },
    ),
    (
        "post",
        "/api/v1/organizations",
        lambda: {"name": f"New {next(_count)}", "admin": new_user_body()},
        {**dict.fromkeys(ROLES[:6], 403), "anonymous": 401},
    ),
    (
        "get",
        "/api/v1/audit_events",
        None,
        {
            "admin": 200,
            "team_manager": 403,
            "reviewer": 403,
            "labeler": 403,
            "expert": 403,
            "other_org_admin": 200,
            "anonymous": 401,
        },
    ),
    (
        "get",
        "/api/v1/jobs/{job}",
        None,
        {
            "admin": 200,
            "team_manager": 403,
            "reviewer": 403,
            "labeler": 403,
            "expert": 403,
            "other_org_admin": 404,
            "anonymous": 401,
        },
    ),
    # Models (predictions): admins and team managers; another organization's admin sees only their own (none).
    (
        "get",
        "/api/v1/models",
        None,
        {
            "admin": 200,
            "team_manager": 200,
            "reviewer": 403,
            "labeler": 403,
            "expert": 403,
            "other_org_admin": 200,
            "anonymous": 401,
        },
    ),
]


@pytest.fixture
def actors(users_by_role, other_org, make_user) -> dict[str, User | None]:
    actors: dict[str, User | None] = dict(users_by_role)
    actors["other_org_admin"] = User.objects.get(organization=other_org, role="admin")
    actors["anonymous"] = None
    return actors


@pytest.mark.parametrize(("method", "path", "body", "expected"), MATRIX, ids=[f"{m} {p}" for m, p, _, _ in MATRIX])
def test_permission_matrix(method, path, body, expected, actors, org, make_user, client_for, api_client):
    assert set(expected) == set(ROLES), "every row must state every role"
    peer = make_user(role="labeler", organization=org, username=f"peer-{next(_count)}")
    job = Job.objects.create(organization=org, created_by=peer, kind="test")
    for role, actor in actors.items():
        client = client_for(actor) if actor else api_client
        url = path.format(self=actor.id if actor else peer.id, peer=peer.id, job=job.id)
        kwargs = {"format": "json"}
        if body is not None:
            kwargs["data"] = body()
        response = getattr(client, method)(url, **kwargs)
        assert response.status_code == expected[role], f"{role}: {method.upper()} {path} → {response.status_code}"
        if response.status_code >= 400:
            assert set(response.json()["error"]) == {"code", "message", "details"}
