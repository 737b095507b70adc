"""Local development (`make run`): SQLite unless DATABASE_URL is set, DEBUG on, a per-machine secret key."""

import secrets

from tdp.env import DATA_DIR

from .base import *  # noqa: F403
from .base import env


def _local_secret_key() -> str:
    """A random key kept in the git-ignored var/ folder: never a hard-coded secret, stable across restarts."""
    DATA_DIR.mkdir(exist_ok=True)
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env.str("SECRET_KEY", default="") or _local_secret_key()
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]
WHITENOISE_USE_FINDERS = True
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
