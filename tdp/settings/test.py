"""Test settings: PostgreSQL only (the test script starts a private cluster and exports DATABASE_URL)."""

import secrets

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import DATABASES, Q_CLUSTER, REST_FRAMEWORK, env

if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("Tests run on PostgreSQL: run `make test` (it starts one) or export DATABASE_URL.")

DEBUG = False
SECRET_KEY = env.str("SECRET_KEY", default="") or secrets.token_urlsafe(50)
ALLOWED_HOSTS = ["*"]
WHITENOISE_USE_FINDERS = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Tasks run inline unless a test starts a real worker (which sets TDP_Q_SYNC=false for its qcluster process).
Q_CLUSTER = {**Q_CLUSTER, "sync": env.bool("TDP_Q_SYNC", default=True), "poll": 0.1}
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": {
        "anon": "100000/minute",
        "user": "100000/minute",
        "auth": "100000/minute",
        "login": "100000/minute",
    },
}
# Browser tests wait for the live server's requests to end before the database is flushed (tests/inflight.py).
MIDDLEWARE = ["tests.inflight.InFlightRequests", *MIDDLEWARE]  # noqa: F405
