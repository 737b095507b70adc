"""Fixtures of the video tests (the datasets tests' users, clients and dataset)."""

from __future__ import annotations

from tests.datasets.conftest import dataset, manager, manager_client, other_dataset, post_rows  # noqa: F401
