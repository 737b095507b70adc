"""`make run`'s demo loader is idempotent; production settings refuse unsafe configuration."""

import os
import secrets
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.utils import get_random_secret_key
from guardian.models import UserObjectPermission

from apps.accounts.models import Organization, User
from apps.core.models import AuditEvent
from tdp.secret_strength import secret_key_problem

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def small_demo(monkeypatch, settings, tmp_path):
    """A demo of a few scenes (the full one is exercised by tests/e2e/test_demo_pages.py)."""
    from apps.datasets import demo

    monkeypatch.setattr(demo, "SCENES", 12)
    settings.MEDIA_ROOT = tmp_path


def snapshot():
    users = sorted(
        User.objects.values_list("username", "password", "role", "organization_id", "is_staff", "updated_at")
    )
    orgs = sorted(Organization.objects.values_list("id", "name", "updated_at"))
    return users, orgs, UserObjectPermission.objects.count(), AuditEvent.objects.count()


@pytest.mark.django_db
def test_demo_loader_is_idempotent_and_prints_logins(small_demo):
    out = StringIO()
    call_command("load_demo", stdout=out)
    first = snapshot()
    assert {"demo-admin", "demo-labeler", "demo-reviewer"} <= {u[0] for u in first[0]}
    call_command("load_demo", stdout=out)
    assert snapshot() == first
    printed = out.getvalue()
    assert "demo-labeler" in printed and "demo-reviewer" in printed and "demo-admin" in printed


@pytest.mark.django_db
def test_demo_logins_work(client, small_demo):
    call_command("load_demo", stdout=StringIO())
    assert client.login(username="demo-labeler", password="demo-labeler-pass-2026")
    assert client.get("/").status_code == 200


# A single-machine production install (no S3 bucket, no Redis: both opted out explicitly), behind a balancer name.
SINGLE_MACHINE = {"TDP_REQUIRE_SHARED_STORAGE": "false", "TDP_REQUIRE_REDIS": "false", "ALLOWED_HOSTS": "tdp.example"}


def run_prod_settings(
    code: str = "import django; django.setup(); print('started')", **env_overrides: str
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG", "REDIS_URL", "STORAGE_BUCKET"}}
    env.update({"DJANGO_SETTINGS_MODULE": "tdp.settings.prod", **SINGLE_MACHINE, **env_overrides})
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def test_prod_refuses_to_start_without_a_secret_key():
    result = run_prod_settings()
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_prod_refuses_to_start_with_debug_on():
    result = run_prod_settings(
        SECRET_KEY="x" * 10 + "a-real-looking-random-secret-key-0123456789abcdefgh", DEBUG="true"
    )
    assert result.returncode != 0
    assert "DEBUG" in result.stderr


def test_prod_starts_with_a_real_secret_and_debug_off():
    result = run_prod_settings(SECRET_KEY="k3J9x-a-real-looking-random-secret-key-0123456789abcdefgh")
    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout


def test_prod_refuses_a_long_but_low_entropy_secret_key():
    result = run_prod_settings(SECRET_KEY="correct-horse-battery-staple" * 3)
    assert result.returncode != 0
    assert "SECRET_KEY is too weak" in result.stderr


@pytest.mark.parametrize(
    "key",
    [
        "password" * 8,  # one word repeated
        "abcdefghijklmnopqrstuvwxyz" * 2,  # an alphabet repeated
        "CorrectHorseBatteryStaple2024!" * 2,  # a passphrase repeated
        "0123456789" * 6,
        "short-but-random-K9x!",
        "django-insecure-" + "k3J9x-a-real-looking-random-secret-key-0123456789",
    ],
)
def test_weak_secret_keys_are_named(key):
    assert secret_key_problem(key) is not None


def test_generated_secret_keys_pass():
    for _ in range(200):
        for key in (get_random_secret_key(), secrets.token_urlsafe(50), secrets.token_hex(32)):
            assert secret_key_problem(key) is None, key
