"""Project permission matrix: each project role (and non-members, other organizations, nobody) x each endpoint.

`{project}`, `{task}` (leased to the caller when they may label), `{label}` (by the project labeler) are filled in per
row. Kept as data so later features add rows.
"""

from __future__ import annotations

import itertools

import pytest

from apps.accounts.models import User
from apps.labeling import services
from tests.labeling.conftest import good_label

pytestmark = pytest.mark.django_db

ROLES = ["org_admin", "admin", "team_manager", "reviewer", "labeler", "expert", "outsider", "other_org", "anonymous"]
_n = itertools.count()

MATRIX: list[tuple[str, str, object, dict[str, int]]] = [
    (
        "get",
        "/api/v1/projects/{project}",
        None,
        {
            "org_admin": 200,
            "admin": 200,
            "team_manager": 200,
            "reviewer": 200,
            "labeler": 200,
            "expert": 200,
            "outsider": 404,
            "other_org": 404,
            "anonymous": 401,
        },
    ),
    (
        "patch",
        "/api/v1/projects/{project}",
        lambda: {"instructions": "new"},
        {
            "org_admin": 200,
            "admin": 200,
            "team_manager": 200,
            "reviewer": 403,
            "labeler": 403,
            "expert": 403,
            "outsider": 404,
            "other_org": 404,
            "anonymous": 401,
        },
    ),
    (
        "get",
        "/api/v1/projects/{project}/overview",
        None,
        {
            "org_admin": 200,
            "admin": 200,
            "team_manager": 200,
            "reviewer": 200,
            "labeler": 200,
            "expert": 200,
            "outsider": 404,
            "other_org": 404,
            "anonymous": 401,
        },
    ),
    (
        "get",
        "/api/v1/projects/{project}/members",
        None,
        {
            "org_admin": 200,
            "admin": 200,
            "team_manager": 200,
            "reviewer": 200,
            "labeler": 403,
            "expert": 403,
            "outsider": 404,
            "other_org": 404,
            "anonymous": 401,
        },
    ),
    (
        "post",
        "/api/v1/projects/{project}/batches",
        lambda: {"name": f"b{next(_n)}", "global_keys": ["row-0"]},
        {
            "org_admin": 201,
            "admin": 201,
            "team_manager": 201,
            "reviewer": 403,
            "labeler": 403,
            "expert": 403,
            "outsider": 404,
            "other_org": 404,
            "anonymous": 401,
        },
    ),
    (
        "post",
        "/api/v1/projects/{project}/queue/next",
        None,
        {
            "org_admin": 204,
            "admin": 204,
            "team_manager": 204,
            "reviewer": 403,
            "labeler": 204,
            "expert": 204,
            "outsider": 404,
            "other_org": 404,
            "anonymous": 401,
        },
    ),
    (
        "get",
        "/api/v1/projects/{project}/labels",
        None,
        {
            "org_admin": 200,
            "admin": 200,
            "team_manager": 200,
            "reviewer": 200,
            "labeler": 200,
            "expert": 200,
            "outsider": 404,
            "other_org": 404,
            "anonymous": 401,
        },
    ),
    (
        "get",
        "/api/v1/labels/{label}",
        None,
        {
            "org_admin": 200,
            "admin": 200,
            "team_manager": 200,
            "reviewer": 200,
            "labeler": 200,
            "expert": 403,
            "outsider": 404,
            "other_org": 404,
            "anonymous": 401,
        },
    ),
    (
        "post",
        "/api/v1/tasks/{task}/skip",
        lambda: {"reason": "blurry"},
        {
            "org_admin": 409,
            "admin": 409,
            "team_manager": 409,
            "reviewer": 403,
            "labeler": 409,
            "expert": 409,
            "outsider": 404,
            "other_org": 404,
            "anonymous": 401,
        },
    ),
    # Quality: everyone's work for reviewers and up; references and recomputes for managers.
    *[
        (
            "get",
            path,
            None,
            {
                "org_admin": 200,
                "admin": 200,
                "team_manager": 200,
                "reviewer": 200,
                "labeler": 403,
                "expert": 403,
                "outsider": 404,
                "other_org": 404,
                "anonymous": 401,
            },
        )
        for path in ("/api/v1/projects/{project}/quality", "/api/v1/projects/{project}/quality/rows")
    ],
    *[
        (
            "post",
            path,
            None,
            {
                "org_admin": status,
                "admin": status,
                "team_manager": status,
                "reviewer": 403,
                "labeler": 403,
                "expert": 403,
                "outsider": 404,
                "other_org": 404,
                "anonymous": 401,
            },
        )
        for path, status in (
            ("/api/v1/labels/{label}/benchmark", 201),
            ("/api/v1/projects/{project}/quality/recompute", 202),
        )
    ],
]


@pytest.fixture
def setup(project, members, org_admin, other_org, make_rows, client_for):
    rows = make_rows(1, prefix="row")
    services.batch_create(actor=org_admin, project=project, name="seed", data_row_ids=[str(rows[0].id)])
    labeler = client_for(members["labeler"])
    task = labeler.post(f"/api/v1/projects/{project.id}/queue/next").json()["task"]
    label = labeler.post(f"/api/v1/tasks/{task}/labels", {"annotations": good_label()}, format="json").json()["id"]
    actors: dict[str, User | None] = {
        "org_admin": org_admin,
        **{role: members[role] for role in ("admin", "team_manager", "reviewer", "labeler", "expert", "outsider")},
        "other_org": User.objects.get(organization=other_org, role="admin"),
        "anonymous": None,
    }
    return {"project": project.id, "task": task, "label": label}, actors


@pytest.mark.parametrize(("method", "path", "body", "expected"), MATRIX, ids=[f"{m} {p}" for m, p, _, _ in MATRIX])
def test_project_permission_matrix(method, path, body, expected, setup, client_for, api_client):
    assert set(expected) == set(ROLES)
    ids, actors = setup
    for role, actor in actors.items():
        client = client_for(actor) if actor else api_client
        kwargs = {"format": "json"}
        if body is not None:
            kwargs["data"] = body()
        response = getattr(client, method)(path.format(**ids), **kwargs)
        assert response.status_code == expected[role], f"{role}: {method.upper()} {path} -> {response.status_code}"
