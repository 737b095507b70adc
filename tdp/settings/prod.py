"""Production: everything from the environment (see docs/deploy.md); refuses to start misconfigured.

Stateless web processes: the database holds sessions, cache (`tdp_cache` table) and jobs; uploads, imports spooled
for jobs and export files go to `STORAGES["default"]` (S3 when `STORAGE_BUCKET` is set); static files are
collected at build time and served by whitenoise from the image. Nothing a request needs lives on one machine's disk.
"""

from django.core.exceptions import ImproperlyConfigured

from tdp.secret_strength import secret_key_problem

from .base import *  # noqa: F403
from .base import DATABASES, DEBUG, LOGGING, Q_CLUSTER, SECRET_KEY, env

if DEBUG:
    raise ImproperlyConfigured("DEBUG must be off in production (unset DEBUG or set DEBUG=false).")
if (problem := secret_key_problem(SECRET_KEY)) is not None:
    raise ImproperlyConfigured(
        f"SECRET_KEY is too weak: {problem}. Set it to a random value of at least 50 characters, e.g. the output of "
        "python -c 'import secrets; print(secrets.token_urlsafe(50))'."
    )
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("Production runs on PostgreSQL: set DATABASE_URL=postgres://...")
if env.bool("TDP_REQUIRE_SHARED_STORAGE", default=True) and not env.str("STORAGE_BUCKET", default=""):
    raise ImproperlyConfigured(
        "Set STORAGE_BUCKET (S3 or an S3 API endpoint): web and worker processes must share uploads and exports. "
        "A single-machine install may set TDP_REQUIRE_SHARED_STORAGE=false to keep files in MEDIA_ROOT."
    )
if env.bool("TDP_REQUIRE_REDIS", default=True) and "redis" not in Q_CLUSTER:
    raise ImproperlyConfigured(
        "Set REDIS_URL: the task broker and the rate-limit counters are shared through Redis when scaled out. "
        "A single-machine install may set TDP_REQUIRE_REDIS=false to use the database broker."
    )

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")  # required: the load balancer's public names
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# TLS ends at the load balancer, which sets X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
USE_X_FORWARDED_HOST = env.bool("USE_X_FORWARDED_HOST", default=False)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^healthz"]  # load balancer probes (/healthz, /healthz/live, /healthz/ready) speak HTTP

# Sessions in the database (shared by every web process); no file-based cache or session anywhere.
SESSION_ENGINE = "django.contrib.sessions.backends.db"

STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = False
WHITENOISE_MAX_AGE = env.int("WHITENOISE_MAX_AGE", default=3600)

# Logs go to stdout/stderr for the platform to collect.
LOGGING = {**LOGGING, "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}}}
LOGGING["handlers"] = {"console": {"class": "logging.StreamHandler", "formatter": "plain"}}
