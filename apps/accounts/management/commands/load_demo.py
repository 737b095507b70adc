"""Load the demo organization and its users. Idempotent: a second run changes nothing."""

from __future__ import annotations

import os
import time
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from apps.accounts import services
from apps.accounts.models import Organization, User
from apps.accounts.roles import OrgRole
from apps.core.demo import demo_loaders
from apps.core.queue import held_back

DEMO_ORGANIZATION = "Demo Organization"
# Demo-only credentials for a local SQLite sandbox; printed so a newcomer can log in. Never used in production.
DEMO_USERS: list[tuple[str, str, str]] = [
    ("demo-admin", OrgRole.ADMIN, "demo-admin-pass-2026"),
    ("demo-manager", OrgRole.TEAM_MANAGER, "demo-manager-pass-2026"),
    ("demo-reviewer", OrgRole.REVIEWER, "demo-reviewer-pass-2026"),
    ("demo-labeler", OrgRole.LABELER, "demo-labeler-pass-2026"),
    ("demo-labeler2", OrgRole.LABELER, "demo-labeler2-pass-2026"),
    ("demo-labeler3", OrgRole.LABELER, "demo-labeler3-pass-2026"),
    ("demo-expert", OrgRole.EXPERT, "demo-expert-pass-2026"),
]


class Command(BaseCommand):
    help = "Create the demo organization, its users and demo content (safe to run repeatedly)."

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        # Each loader submits its history through the services and scores / rolls it up in batch itself: the
        # per-label background tasks those services enqueue would only redo that work, so they are held back.
        with held_back() as held:
            timings = self._load()
        total = time.perf_counter() - started
        parts = [f"{name} {seconds:.1f} s" for name, seconds in timings if seconds >= 0.1]
        if held:
            parts.append(f"{len(held)} background tasks done in batch instead")
        self.stdout.write(f"load_demo took {total:.1f} s" + (f" ({'; '.join(parts)})." if parts else "."))

    @transaction.atomic
    def _load(self) -> list[tuple[str, float]]:
        organization = Organization.objects.filter(name=DEMO_ORGANIZATION).first()
        created_org = organization is None
        if organization is None:
            admin_name, _, admin_password = DEMO_USERS[0]
            organization = services.organization_create(
                name=DEMO_ORGANIZATION,
                admin={"username": admin_name, "password": admin_password, "email": f"{admin_name}@example.com"},
                actor=None,
            ).organization
        for username, role, password in DEMO_USERS:
            if not User.objects.filter(username=username).exists():
                services.user_create(
                    organization=organization,
                    username=username,
                    password=password,
                    email=f"{username}@example.com",
                    role=role,
                )
        timings = []
        for loader in demo_loaders():
            started = time.perf_counter()
            loader(organization)
            timings.append((loader.__module__.split(".")[1], time.perf_counter() - started))
        state = "created" if created_org else "already present"
        self.stdout.write(f"Demo organization {organization.name!r} {state}. Logins (username / password):")
        for username, role, password in DEMO_USERS:
            self.stdout.write(f"  {role:<13} {username:<15} {password}")
        base = f"http://127.0.0.1:{os.environ.get('PORT') or 8000}"  # `make run` serves on $PORT (default 8000)
        self.stdout.write(f"Pages: {base}/  Admin: {base}/admin/  API docs: {base}/api/docs/")
        return timings
