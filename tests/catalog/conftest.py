"""Fixtures of the catalog tests: a dataset with metadata, rows, an embedding space with vectors."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from rest_framework.test import APIClient

from apps.accounts.models import Organization, User
from apps.catalog import index as catalog_index
from apps.catalog import services as catalog_services
from apps.catalog.models import EmbeddingSpace
from apps.datasets import services as dataset_services
from apps.datasets.models import DataRow, Dataset


@pytest.fixture(autouse=True)
def _fresh_indexes():
    catalog_index.clear()
    yield
    catalog_index.clear()


@pytest.fixture
def manager(users_by_role: dict[str, User]) -> User:
    return users_by_role["team_manager"]


@pytest.fixture
def manager_client(client_for, manager: User) -> APIClient:
    return client_for(manager)


@pytest.fixture
def labeler_client(client_for, users_by_role) -> APIClient:
    return client_for(users_by_role["labeler"])


@pytest.fixture
def dataset(manager: User) -> Dataset:
    dataset_services.metadata_field_create(actor=manager, name="camera", kind="string")
    dataset_services.metadata_field_create(actor=manager, name="brightness", kind="number")
    return dataset_services.dataset_create(actor=manager, name="street scenes")


def import_rows(actor: User, dataset: Dataset, rows: list[dict[str, Any]]) -> list[DataRow]:
    body = "\n".join(json.dumps(r) for r in rows).encode()
    result = dataset_services.data_rows_import(actor=actor, dataset=dataset, fmt="ndjson", chunks=[body])
    assert result["failed"] == 0, result
    keys = [r["global_key"] for r in rows]
    by_key = {r.global_key: r for r in DataRow.objects.filter(dataset=dataset, global_key__in=keys)}
    return [by_key[k] for k in keys]


@pytest.fixture
def make_rows(manager: User) -> Callable[..., list[DataRow]]:
    def make(dataset: Dataset, n: int, prefix: str = "row", camera: str = "a", brightness: float = 0.0):
        rows = [
            {
                "global_key": f"{prefix}-{i}",
                "row_data": f"text {prefix} {i}",
                "media_type": "text",
                "metadata": {"camera": camera, "brightness": brightness + i},
            }
            for i in range(n)
        ]
        return import_rows(manager, dataset, rows)

    return make


@pytest.fixture
def space(manager: User) -> EmbeddingSpace:
    return catalog_services.embedding_space_create(actor=manager, name="clip", dims=8)


def put_vectors(actor: User, space: EmbeddingSpace, rows: list[DataRow], vectors: np.ndarray) -> dict[str, Any]:
    items = [{"data_row": str(r.pk), "vector": v.tolist()} for r, v in zip(rows, vectors, strict=True)]
    return catalog_services.embedding_vectors_upload(actor=actor, space=space, items=items)


@pytest.fixture
def other_admin(other_org: Organization) -> User:
    return User.objects.get(organization=other_org, role="admin")
