"""Shared fixtures: organizations, users per role, authenticated API clients."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from apps.accounts import services
from apps.accounts.models import Organization, User
from apps.accounts.roles import OrgRole
from tests.factories import OrganizationFactory, UserFactory


@pytest.fixture
def org(db) -> Organization:
    return OrganizationFactory(name="Acme")


@pytest.fixture
def other_org(db) -> Organization:
    return OrganizationFactory(name="Globex")


@pytest.fixture
def make_user(db) -> Callable[..., User]:
    def make(role: str = OrgRole.LABELER, organization: Organization | None = None, **kwargs) -> User:
        if organization is not None:
            kwargs["organization"] = organization
        return UserFactory(role=role, **kwargs)

    return make


@pytest.fixture
def org_admin(org: Organization) -> User:
    return User.objects.get(organization=org, role=OrgRole.ADMIN)


@pytest.fixture
def users_by_role(org: Organization, org_admin: User, make_user) -> dict[str, User]:
    """One user of each org role in `org`."""
    users = {OrgRole.ADMIN.value: org_admin}
    for role in OrgRole.values:
        if role != OrgRole.ADMIN:
            users[role] = make_user(role=role, organization=org, username=f"acme-{role}")
    return users


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def client_for(db) -> Callable[[User], APIClient]:
    """An API client authenticated with a real token of that user."""

    def make(user: User) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {services.api_token_create(user=user).key}")
        return client

    return make


@pytest.fixture
def superuser(db) -> User:
    return User.objects.create_superuser(username="root", password="root-pass-123!", email="root@example.com")
