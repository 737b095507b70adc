"""Organizations (the tenancy boundary), users with one org role each, and hashed API tokens."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models

from apps.accounts.roles import ORGANIZATION_PERMISSIONS, OrgRole
from apps.core.ids import uuid7
from apps.core.models import BaseModel


class Organization(BaseModel):
    name = models.CharField(max_length=200, unique=True)

    class Meta(BaseModel.Meta):
        permissions = ORGANIZATION_PERMISSIONS

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A person (or pipeline account) in exactly one organization. Superusers may have none."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="users"
    )
    role = models.CharField(max_length=20, choices=OrgRole.choices, default=OrgRole.LABELER)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "user"
        verbose_name_plural = "users"
        swappable = "AUTH_USER_MODEL"
        ordering = ["username"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(is_superuser=True) | models.Q(organization__isnull=False),
                name="user_in_organization_unless_superuser",
            )
        ]

    def __str__(self) -> str:
        return self.username


class ApiToken(BaseModel):
    """An API token. Only the SHA-256 of the key is stored; the key is shown once when created."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=12, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"
