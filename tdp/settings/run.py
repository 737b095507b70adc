"""`make run`: the demo served the way a small team runs it for real, on one machine.

The development conveniences of `tdp.settings.dev` (a per-machine secret key kept in var/, loopback ALLOWED_HOSTS,
SQLite in var/ unless DATABASE_URL is set, console e-mail), but DEBUG always off (no debug pages, no SQL logging in
memory) and static files collected into var/staticfiles (`make run` runs collectstatic) and served by whitenoise
compressed, with content-hashed names cached for a year. Served by gunicorn (`tdp/gunicorn_run.py`); `make dev` keeps
the autoreloading development server on `tdp.settings.dev`.
"""

from .dev import *  # noqa: F403
from .dev import STORAGES

DEBUG = False  # not read from the environment: `make dev` is the debugging setup
WHITENOISE_USE_FINDERS = False
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "apps.core.staticfiles.RunStaticFilesStorage"}}
