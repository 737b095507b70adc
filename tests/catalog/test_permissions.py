"""Catalog permission matrix: every org role, another organization's admin, and nobody; plus query-count pins."""

from __future__ import annotations

import numpy as np
import pytest

from apps.catalog.index import get_index
from tests.catalog.conftest import put_vectors

pytestmark = pytest.mark.django_db

READ = {"admin": 200, "team_manager": 200, "reviewer": 200, "labeler": 200, "expert": 200, "other": 404, "anon": 401}
MANAGE = {"admin": 2, "team_manager": 2, "reviewer": 403, "labeler": 403, "expert": 403, "other": 404, "anon": 401}

CASES = [
    ("get", "/api/v1/embeddings/{space}", None, READ),
    ("get", "/api/v1/datasets/{dataset}/similar?embedding={space}&data_row={row}", None, READ),
    ("get", "/api/v1/embeddings/{space}/similar?data_row={row}", None, READ),
    ("get", "/api/v1/datasets/{dataset}/drift?a.metadata.camera=a&b.metadata.camera=a", None, READ),
    ("get", "/api/v1/data_rows/{row}/lineage", None, READ),
    ("get", "/api/v1/slices/{slice}", None, READ),
    ("post", "/api/v1/embeddings/{space}/vectors", lambda row: [{"data_row": str(row.id), "vector": [1] * 8}], MANAGE),
    ("post", "/api/v1/embeddings/{space}/analyses", lambda row: {"clusters": 1}, MANAGE),
    ("post", "/api/v1/datasets/{dataset}/embed", lambda row: {}, MANAGE),
]


@pytest.mark.parametrize("method,path,body,expected", CASES)
@pytest.mark.parametrize("role", list(READ))
def test_catalog_permission_matrix(
    method, path, body, expected, role, users_by_role, other_admin, client_for, api_client, dataset, space, make_rows,
    manager,
):  # fmt: skip
    from apps.catalog import services

    rows = make_rows(dataset, 2)
    put_vectors(manager, space, rows, np.ones((2, 8)))
    saved = services.slice_create(actor=manager, name="s", dataset=dataset, row_ids=[str(rows[0].id)])
    if role == "anon":
        client = api_client
    elif role == "other":
        client = client_for(other_admin)
    else:
        client = client_for(users_by_role[role])
    url = path.format(dataset=dataset.id, space=space.id, row=rows[0].id, slice=saved.id)
    response = client.get(url) if method == "get" else client.post(url, body(rows[0]), format="json")
    want = expected[role]
    if want == 2:
        assert 200 <= response.status_code < 300, (url, role, response.content)
    else:
        assert response.status_code == want, (url, role, response.content)


def test_similar_query_count_does_not_grow_with_k(labeler_client, manager, dataset, space, make_rows,
                                                  django_assert_max_num_queries):  # fmt: skip
    rows = make_rows(dataset, 60)
    put_vectors(manager, space, rows, np.random.default_rng(0).normal(size=(60, 8)))
    space.refresh_from_db()
    get_index(space)  # warm
    url = f"/api/v1/datasets/{dataset.id}/similar"
    for k in (1, 50):
        with django_assert_max_num_queries(8):
            response = labeler_client.get(url, {"embedding": str(space.id), "data_row": str(rows[0].id), "k": k})
        assert response.status_code == 200
        assert len(response.json()["results"]) == k
