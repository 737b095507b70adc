"""gunicorn configuration of `make run` and of the documented production setup (docs/deploy.md, README).

`gunicorn -c tdp/gunicorn_run.py tdp.wsgi` serves the `run` setup (what `make run` starts: SQLite); with
`WEB_SETUP=production`, the production one (PostgreSQL). Workers x threads of each are the fastest measured on 2 cores
with `python manage.py benchmark defaults` and `benchmark queue` (README, "Performance"); `benchmark queue` and
`benchmark defaults` start their servers from this file. Override any value from the environment (`WEB_WORKERS`,
`WEB_THREADS`, `WEB_KEEPALIVE`, `WEB_TIMEOUT`, `BIND` or `PORT`) or on gunicorn's command line.
"""

import os

# name: (worker processes, threads per process). One thread: gunicorn's sync workers.
SETUPS = {
    # SQLite has one writer: one process of eight threads, so every writer queues on apps.core.sqlite's in-process
    # lock (handed over in order) instead of a second process polling SQLite's busy handler. Measured 2026-12-08 with
    # `benchmark defaults --option setups=run` at load 1.1-1.9: 1 x 8 gave 67.6 label writes/s (p95 203 ms) and
    # 88.8 claim + submit cycles/s; 2 x 4 gave 45.3 /s (p95 799 ms) and 64.0 cycles/s; 1 x 12 gave 49.4 and 61.2.
    "run": (1, 8),
    # PostgreSQL: one process per request in flight beats threads sharing a GIL for claim + submit on 2 cores.
    "production": (4, 1),
}
setup = os.environ.get("WEB_SETUP", "run")
if setup not in SETUPS:
    raise SystemExit(f"WEB_SETUP is one of {', '.join(SETUPS)}, not {setup!r}.")
bind = os.environ.get("BIND") or f"127.0.0.1:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_WORKERS") or SETUPS[setup][0])
threads = int(os.environ.get("WEB_THREADS") or SETUPS[setup][1])
worker_class = "gthread" if threads > 1 else "sync"
# Clients (browsers, API scripts, a load balancer) reuse their connection across requests: no TCP setup per claim or
# submit. Behind a load balancer keep it above the balancer's idle timeout (60 s on most).
keepalive = int(os.environ.get("WEB_KEEPALIVE", "75"))
# Large synchronous imports and exports take minutes; a stuck worker is still replaced after this.
timeout = int(os.environ.get("WEB_TIMEOUT", "900"))
graceful_timeout = 30
# Import Django once before forking: workers start in a fraction of the time and share that memory.
preload_app = True
accesslog = os.environ.get("WEB_ACCESS_LOG") or None
loglevel = os.environ.get("WEB_LOG_LEVEL", "warning")
