"""Fixtures of the attack tests: a full world in `org` and another in `other_org`."""

from __future__ import annotations

import pytest

from apps.catalog import index as catalog_index
from tests.security.world import HOOK_HOST, World, build_world


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.TDP_OUTBOUND_ALLOWED_HOSTS = [HOOK_HOST]
    catalog_index.clear()
    yield
    catalog_index.clear()


@pytest.fixture
def world(org, make_user) -> World:
    return build_world(org, make_user)


@pytest.fixture
def other_world(other_org, make_user) -> World:
    return build_world(other_org, make_user)
