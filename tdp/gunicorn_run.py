"""gunicorn configuration of `make run` and of the documented production setup (docs/deploy.md).

Measured on 2 cores with `python manage.py benchmark defaults` (README, "Performance"): see there for the figures
behind the defaults. Every value can be overridden from the environment (`WEB_WORKERS`, `WEB_THREADS`, `PORT`,
`BIND`) or on gunicorn's command line.
"""

import os

bind = os.environ.get("BIND") or f"127.0.0.1:{os.environ.get('PORT', '8000')}"
worker_class = "gthread"
workers = int(os.environ.get("WEB_WORKERS", "2"))
threads = int(os.environ.get("WEB_THREADS", "4"))
# Clients (browsers, API scripts) reuse their connection across requests: no TCP setup per claim or submit.
keepalive = int(os.environ.get("WEB_KEEPALIVE", "75"))
# Large synchronous imports and exports take minutes; a stuck worker is still replaced after this.
timeout = int(os.environ.get("WEB_TIMEOUT", "900"))
graceful_timeout = 30
# Import Django once before forking: workers start in a fraction of the time and share that memory.
preload_app = True
accesslog = os.environ.get("WEB_ACCESS_LOG") or None
loglevel = os.environ.get("WEB_LOG_LEVEL", "warning")
