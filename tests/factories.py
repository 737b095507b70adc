"""Test data built through the real services (so tests exercise the same paths as users)."""

from __future__ import annotations

from typing import Any

import factory

from apps.accounts import services
from apps.accounts.models import Organization, User
from apps.accounts.roles import OrgRole

TEST_PASSWORD = "a-Strong-test-pass-123"


class OrganizationFactory(factory.Factory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Org {n}")

    @classmethod
    def _create(cls, model_class: type[Organization], *args: Any, **kwargs: Any) -> Organization:
        admin_username = kwargs.pop("admin_username", None) or f"{kwargs['name'].lower().replace(' ', '-')}-admin"
        return services.organization_create(
            name=kwargs["name"], admin={"username": admin_username, "password": TEST_PASSWORD}, actor=None
        ).organization


class UserFactory(factory.Factory):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")
    role = OrgRole.LABELER
    organization = factory.SubFactory(OrganizationFactory)
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")

    @classmethod
    def _create(cls, model_class: type[User], *args: Any, **kwargs: Any) -> User:
        return services.user_create(password=kwargs.pop("password", TEST_PASSWORD), **kwargs)
