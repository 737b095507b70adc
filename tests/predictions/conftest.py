"""Predictions fixtures: the labeling fixtures, a project with rows in a batch, NDJSON builders."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from apps.labeling import services
from tests.labeling.conftest import make_rows, members, ontology, project, project_factory  # noqa: F401


def box(key: str, left: float = 10, top: float = 20, width: float = 30, height: float = 40, **extra) -> dict:
    line = {
        "name": "vehicle",
        "bbox": {"top": top, "left": left, "height": height, "width": width},
        "classifications": [{"name": "kind", "answer": {"name": "police"}}],
        "data_row": {"global_key": key},
    }
    line.update(extra)
    return line


def ndjson(lines: list) -> bytes:
    return "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines).encode() + b"\n"


def add_batch(target, actor, rows, name="b1", priority=3):
    return services.batch_create(
        actor=actor, project=target, name=name, data_row_ids=[str(r.id) for r in rows], priority=priority
    )


@pytest.fixture
def rows(project, org_admin, make_rows):  # noqa: F811
    """img-0 … img-3, each in its own batch so the queue serves them in that order."""
    made = make_rows(4)
    for i, row in enumerate(made):
        add_batch(project, org_admin, [row], name=f"b{i}", priority=5 - i)
    return made


@pytest.fixture
def post_ndjson(client_for):
    def post(user, url: str, body: bytes):
        return client_for(user).generic("POST", url, body, content_type="application/x-ndjson")

    return post


@pytest.fixture
def routing_runs_at_once(monkeypatch):
    """Tests run inside one transaction that never commits: run the routing hook at once (django-q2 is sync).
    `test_worker.py` covers the real path (commit, then a real qcluster)."""
    from django.db import transaction

    from apps.predictions.services import routing

    at_once = SimpleNamespace(on_commit=lambda func, *args, **kwargs: func(), atomic=transaction.atomic)
    monkeypatch.setattr(routing, "transaction", at_once)
