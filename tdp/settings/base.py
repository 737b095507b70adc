"""Settings shared by every environment. Environment-specific files import * from here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tdp.env import BASE_DIR, DATA_DIR, env

SECRET_KEY = env.str("SECRET_KEY", default="")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS: list[str] = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS: list[str] = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "django_q",
    "axes",
    "apps.core",
    "apps.accounts",
    "apps.ontologies",
    "apps.datasets",
    "apps.labeling",
    "apps.review",
    "apps.issues",
    "apps.catalog",
    "apps.quality",
    "apps.predictions",
    "apps.diagnostics",
    "apps.analytics",
    "apps.exports",
    "apps.webhooks",
    "apps.imagery",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "apps.core.middleware.ApiErrorShapeMiddleware",  # the error shape for /api/ even under DEBUG
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "apps.core.middleware.RequestContextMiddleware",
    "apps.core.middleware.PageErrorMiddleware",
    "apps.core.security_headers.SecurityHeadersMiddleware",
    "apps.core.denied_requests.DeniedRequestMiddleware",
    # Last: turns a lockout flagged by the axes backend into our 429 answer (apps.accounts.lockout).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "tdp.urls"
WSGI_APPLICATION = "tdp.wsgi.application"
ASGI_APPLICATION = "tdp.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "apps.core.context_processors.open_alerts",
            ],
        },
    },
]


# Every SQLite database (the default file in var/ or `DATABASE_URL=sqlite:///...`) is opened with these options, chosen
# by measurement (`python manage.py benchmark defaults`, README): web threads and the worker share the file, so WAL
# (readers never wait for the writer), IMMEDIATE write transactions (a writer waits for the lock at BEGIN, under the
# busy timeout, instead of failing at its first write with "database is locked"), synchronous=NORMAL (durable at each
# WAL checkpoint, no fsync per commit), a 64 MB page cache and 256 MB of memory-mapped reads per connection, and
# temporary tables and sorts in memory.
SQLITE_BUSY_TIMEOUT_SECONDS = env.int("TDP_SQLITE_BUSY_TIMEOUT", default=20)
SQLITE_PRAGMAS: dict[str, str] = {
    "journal_mode": "WAL",
    "synchronous": "NORMAL",
    "busy_timeout": str(SQLITE_BUSY_TIMEOUT_SECONDS * 1000),
    "foreign_keys": "ON",
    "cache_size": str(env.int("TDP_SQLITE_CACHE_KB", default=65536) * -1),  # negative: KiB, not pages
    "mmap_size": str(env.int("TDP_SQLITE_MMAP_BYTES", default=256 * 1024 * 1024)),
    "temp_store": "MEMORY",
}


SQLITE_ENGINE = "apps.core.sqlite"  # Django's SQLite backend + one write transaction at a time per process


def sqlite_options(config: dict[str, Any]) -> dict[str, Any]:
    """`config` (a SQLite database) with TDP's connection options; options the caller set explicitly are kept."""
    pragmas = "".join(f"PRAGMA {name}={value}; " for name, value in SQLITE_PRAGMAS.items()).strip()
    options = {
        "transaction_mode": "IMMEDIATE",  # apps.core.sqlite queues a process's IMMEDIATE transactions in Python
        "timeout": SQLITE_BUSY_TIMEOUT_SECONDS,
        "init_command": pragmas,
        **config.get("OPTIONS", {}),
    }
    return {**config, "ENGINE": SQLITE_ENGINE, "OPTIONS": options}


def database_config() -> dict[str, Any]:
    """`DATABASE_URL` selects PostgreSQL (or anything django-environ knows); absent, a SQLite file in var/. Any SQLite
    database gets `sqlite_options`."""
    if env.str("DATABASE_URL", default=""):
        config: dict[str, Any] = env.db_url("DATABASE_URL")
        config.setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=60))
        config["CONN_HEALTH_CHECKS"] = True
        if config["ENGINE"] == "django.db.backends.sqlite3":
            config = sqlite_options(config)
        return config
    DATA_DIR.mkdir(exist_ok=True)
    # Persistent connections: a SQLite connection is cheap to open, but its PRAGMAs, page cache and compiled
    # statements are not worth throwing away after each request.
    return sqlite_options(
        {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "tdp.sqlite3",
            "CONN_MAX_AGE": env.int("DB_CONN_MAX_AGE", default=60),
            "CONN_HEALTH_CHECKS": True,
        }
    )


DATABASES = {"default": database_config()}
# An optional streaming replica for the heavy read-only selectors (analytics, diagnostics, exports): see
# apps/core/db_router.py. Tests mirror it onto default.
if env.str("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = {
        **env.db_url("DATABASE_REPLICA_URL"),
        "CONN_MAX_AGE": env.int("DB_CONN_MAX_AGE", default=60),
        "CONN_HEALTH_CHECKS": True,
        "TEST": {"MIRROR": "default"},
    }
DATABASE_ROUTERS = ["apps.core.db_router.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The database cache is shared by web processes and workers: throttling and django-q2 cluster stats need that.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "tdp_cache",
    },
    # Rate-limit counters: shared through Redis when scaled out, per process otherwise.
    "throttle": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": env.str("REDIS_URL"),
            "OPTIONS": {"socket_timeout": 1, "socket_connect_timeout": 1},
        }
        if env.str("REDIS_URL", default="")
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "tdp-throttle"}
    ),
}

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # First: refuses credentials of a locked-out username/address before any password is checked.
    "apps.accounts.lockout.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": env.int("TDP_PASSWORD_MIN_LENGTH", default=12)},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
ANONYMOUS_USER_NAME = None  # guardian: no anonymous user row

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(DATA_DIR / "staticfiles")))
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(DATA_DIR / "media")))
MEDIA_URL = "/media/"


def storages_config() -> dict[str, Any]:
    """Local files by default; `STORAGE_BUCKET` switches default storage to S3 (or any S3 API endpoint)."""
    static = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    bucket = env.str("STORAGE_BUCKET", default="")
    if not bucket:
        return {"default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}, "staticfiles": static}
    options: dict[str, Any] = {"bucket_name": bucket, "default_acl": None, "querystring_auth": True}
    if endpoint := env.str("STORAGE_ENDPOINT_URL", default=""):
        options["endpoint_url"] = endpoint
    if region := env.str("STORAGE_REGION", default=""):
        options["region_name"] = region
    return {"default": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}, "staticfiles": static}


STORAGES = storages_config()

REST_FRAMEWORK: dict[str, Any] = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.accounts.authentication.ApiTokenAuthentication",
        "apps.accounts.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["apps.core.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "apps.core.pagination.CursorPagination",
    "PAGE_SIZE": 100,
    "EXCEPTION_HANDLER": "apps.core.exceptions.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "apps.core.schema.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": [
        "apps.core.throttling.AnonRateThrottle",
        "apps.core.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("THROTTLE_ANON", default="60/minute"),
        "user": env.str("THROTTLE_USER", default="6000/minute"),
        "auth": env.str("THROTTLE_AUTH", default="20/minute"),
        "login": env.str("THROTTLE_LOGIN", default="30/minute"),
    },
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "TDP API",
    "DESCRIPTION": "Training data platform REST API (contract v1).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
}

# django-q2: ORM broker by default; REDIS_URL selects the Redis broker for scale-out.
Q_CLUSTER: dict[str, Any] = {
    "name": "tdp",
    "workers": env.int("Q_WORKERS", default=2),
    "timeout": env.int("Q_TIMEOUT", default=600),
    "retry": env.int("Q_RETRY", default=720),
    "max_attempts": 3,
    "queue_limit": 50,
    "bulk": 1,
    "save_limit": 1000,
    "catch_up": False,
    "poll": 0.2,
}
if DATABASES["default"]["ENGINE"] == SQLITE_ENGINE:
    # SQLite has one writer: every cluster status save (a database cache write) waits for it like a labeler's submit
    # does. The status lives 3 s; saving it every second instead of every 0.5 s keeps the worker visible to /healthz.
    # The pusher's poll of an empty queue is a read (WAL: it never blocks a writer) but costs CPU on 2 cores.
    Q_CLUSTER["guard_cycle"] = env.float("Q_GUARD_CYCLE", default=1.0)
    Q_CLUSTER["poll"] = env.float("Q_POLL", default=0.5)
# On SQLite, quality scoring after submits is handed to the worker as one task per this many seconds per web process
# (apps.core.queue.enqueue_coalesced); 0: one task per submit.
TDP_BACKGROUND_COALESCE_SECONDS = env.float("TDP_BACKGROUND_COALESCE_SECONDS", default=1.0)
if redis_url := env.str("REDIS_URL", default=""):
    # Timeouts: a Redis that hangs must fail an enqueue quickly (the caller logs it and the catch-up runs the work)
    # rather than hold a web request; above the broker's 1 s BLPOP.
    Q_CLUSTER["redis"] = redis_url + ("&" if "?" in redis_url else "?") + "socket_timeout=5&socket_connect_timeout=2"
else:
    Q_CLUSTER["orm"] = "default"

# Limits
TDP_MAX_JSON_BODY_BYTES = env.int("TDP_MAX_JSON_BODY_BYTES", default=2 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = TDP_MAX_JSON_BODY_BYTES
TDP_MAX_ANNOTATIONS_PER_LABEL = env.int("TDP_MAX_ANNOTATIONS_PER_LABEL", default=5000)  # more is a 413
TDP_MAX_JSON_DEPTH = env.int("TDP_MAX_JSON_DEPTH", default=64)  # deeper API bodies are a 400 (too_deep)
TDP_OUTBOUND_ALLOWED_HOSTS: list[str] = env.list("TDP_OUTBOUND_ALLOWED_HOSTS", default=[])
TDP_WORKER_STALE_SECONDS = env.int("TDP_WORKER_STALE_SECONDS", default=120)

# --- login protection and security headers ---
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=12 * 60 * 60)
CSRF_COOKIE_HTTPONLY = False
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy of every response (apps.core.security_headers): no inline scripts anywhere. Images may
# come from signed storage URLs or the rows' own http(s) URLs (the content endpoint redirects there).
TDP_CSP_IMG_SRC: list[str] = env.list("TDP_CSP_IMG_SRC", default=["'self'", "data:", "blob:", "https:", "http:"])
# Proxies in front of the app that append to X-Forwarded-For (e.g. 1 behind the load balancer of docs/deploy.md).
# The one client-address policy of throttles, login lockout and audit IPs (apps.core.client_address): 0 ignores
# X-Forwarded-For (any client can write it) and uses the peer's address.
TDP_TRUSTED_PROXIES = env.int("TDP_TRUSTED_PROXIES", default=0)
# Where users reach the site (e.g. https://tdp.example.com): links built outside a request (job results, e-mails).
TDP_PUBLIC_URL = env.str("TDP_PUBLIC_URL", default="")
# django-axes: after this many failed logins for one username from one address, that pair is locked out for
# TDP_LOCKOUT_MINUTES (login page, admin login and POST /api/v1/auth/token alike; 429 while locked).
AXES_FAILURE_LIMIT = env.int("TDP_LOCKOUT_FAILURES", default=5)
AXES_COOLOFF_TIME = env.float("TDP_LOCKOUT_MINUTES", default=15) / 60
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_DISABLE_ACCESS_LOG = True  # successful logins are in the audit trail already
AXES_CLIENT_IP_CALLABLE = "apps.core.client_address.client_ip"  # the one trusted-proxy policy (below)
AXES_LOCKOUT_CALLABLE = "apps.accounts.lockout.lockout_response"
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_VERBOSE = False
# Alerts: evaluation of a (kind, subject) is enqueued at most once per this many seconds per web process.
TDP_ALERT_CHECK_DEBOUNCE_SECONDS = env.int("TDP_ALERT_CHECK_DEBOUNCE_SECONDS", default=5)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="tdp@localhost")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.request": {"level": "ERROR"}},
}

# whitenoise serves collected files from STATIC_ROOT; in dev/test it also serves straight from the finders.
WHITENOISE_USE_FINDERS = DEBUG
STATIC_ROOT.mkdir(parents=True, exist_ok=True)

# --- datasets ---
# Import bodies: hard cap (413 above it); bodies above the sync threshold (or of unknown length) are spooled to
# storage and imported by a background job (202 {"job": id}); rows are written in batches of this size.
TDP_MAX_IMPORT_BYTES = env.int("TDP_MAX_IMPORT_BYTES", default=1024 * 1024 * 1024)
TDP_IMPORT_SYNC_MAX_BYTES = env.int("TDP_IMPORT_SYNC_MAX_BYTES", default=64 * 1024 * 1024)
# Exports are written (and checkpointed) in pages of this many data rows.
TDP_EXPORT_CHUNK_ROWS = env.int("TDP_EXPORT_CHUNK_ROWS", default=2000)
# NDJSON pages built at once on that many database connections (apps/exports/page_pool.py); 1: one after the other.
TDP_EXPORT_PAGE_WORKERS = env.int("TDP_EXPORT_PAGE_WORKERS", default=2)
TDP_IMPORT_BATCH_SIZE = env.int("TDP_IMPORT_BATCH_SIZE", default=5000)
TDP_IMPORT_MAX_ROW_CHARS = env.int("TDP_IMPORT_MAX_ROW_CHARS", default=2 * 1024 * 1024)
TDP_IMPORT_MAX_REPORTED_ERRORS = env.int("TDP_IMPORT_MAX_REPORTED_ERRORS", default=100_000)
# Uploads (multipart): per file and per request.
TDP_MAX_UPLOAD_FILE_BYTES = env.int("TDP_MAX_UPLOAD_FILE_BYTES", default=200 * 1024 * 1024)
TDP_MAX_UPLOAD_FILES = env.int("TDP_MAX_UPLOAD_FILES", default=100)
DATA_UPLOAD_MAX_NUMBER_FILES = TDP_MAX_UPLOAD_FILES
# Delegated cloud access: lifetime of signed URLs and of the assumed-role session.
TDP_SIGNED_URL_TTL_SECONDS = env.int("TDP_SIGNED_URL_TTL_SECONDS", default=15 * 60)
# Outbound fetches through apps.core.url_safety: time and size caps.
TDP_OUTBOUND_TIMEOUT_SECONDS = env.float("TDP_OUTBOUND_TIMEOUT_SECONDS", default=10.0)
TDP_OUTBOUND_MAX_BYTES = env.int("TDP_OUTBOUND_MAX_BYTES", default=50 * 1024 * 1024)
# Model endpoints (docs/model-endpoints.md): Fernet keys of their auth secrets (comma-separated, the first encrypts,
# all decrypt: rotation); empty derives one from SECRET_KEY. Answers above the byte cap are refused.
TDP_ENDPOINT_SECRET_KEYS: list[str] = env.list("TDP_ENDPOINT_SECRET_KEYS", default=[])
TDP_ENDPOINT_MAX_RESPONSE_BYTES = env.int("TDP_ENDPOINT_MAX_RESPONSE_BYTES", default=8 * 1024 * 1024)
TDP_ENDPOINT_MAX_ATTEMPTS = env.int("TDP_ENDPOINT_MAX_ATTEMPTS", default=4)
TDP_ENDPOINT_BACKOFF_SECONDS = env.float("TDP_ENDPOINT_BACKOFF_SECONDS", default=5.0)
TDP_ENDPOINT_BREAKER_FAILURES = env.int("TDP_ENDPOINT_BREAKER_FAILURES", default=5)
TDP_ENDPOINT_BREAKER_SECONDS = env.float("TDP_ENDPOINT_BREAKER_SECONDS", default=60.0)
# Asynchronous training jobs are polled with backoff (first after POLL_SECONDS, doubling up to POLL_MAX_SECONDS; the
# "retraining jobs poll" schedule runs every minute) and given up FOLLOW_SECONDS after the training call.
TDP_RETRAIN_POLL_SECONDS = env.float("TDP_RETRAIN_POLL_SECONDS", default=30.0)
TDP_RETRAIN_POLL_MAX_SECONDS = env.float("TDP_RETRAIN_POLL_MAX_SECONDS", default=900.0)
TDP_RETRAIN_FOLLOW_SECONDS = env.float("TDP_RETRAIN_FOLLOW_SECONDS", default=24 * 3600.0)
# --- webhooks ---
# Each delivery attempt: connect + answer within this many seconds (no redirects followed, answer capped).
TDP_WEBHOOK_TIMEOUT_SECONDS = env.float("TDP_WEBHOOK_TIMEOUT_SECONDS", default=5.0)
# --- background work (scale-out) ---
# A `queued` job older than this is handed to the broker again (its message was lost or never sent); a requeued job
# is left alone this long before the next try. A `running` job whose worker died is requeued at the next sweep.
TDP_JOB_REQUEUE_QUEUED_SECONDS = env.int("TDP_JOB_REQUEUE_QUEUED_SECONDS", default=300)
TDP_JOB_REQUEUE_GRACE_SECONDS = env.int("TDP_JOB_REQUEUE_GRACE_SECONDS", default=60)
# Quality scores: labels without a score older than the grace are scored by the catch-up schedule (their task was
# lost with a worker, or the broker was down at submit); only labels younger than the window are looked at.
TDP_SCORE_CATCHUP_GRACE_SECONDS = env.int("TDP_SCORE_CATCHUP_GRACE_SECONDS", default=60)
TDP_SCORE_CATCHUP_WINDOW_HOURS = env.int("TDP_SCORE_CATCHUP_WINDOW_HOURS", default=72)
# A database that cannot be reached answers 503 with this Retry-After (seconds).
TDP_DB_UNAVAILABLE_RETRY_AFTER = env.int("TDP_DB_UNAVAILABLE_RETRY_AFTER", default=5)
