"""Run code against a fresh SQLite database with the `make run` settings (`tdp.settings.run`), in a new Python process
(the test process is bound to PostgreSQL): the way tests compare what the SQLite paths store with PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from django.conf import settings

PRELUDE = """
import json, django
django.setup()
from django.core.management import call_command
from django.db import connection
call_command("migrate", verbosity=0)
"""


def run_on_sqlite(body: str, database: Path, *, timeout: int = 600) -> dict[str, Any]:
    """Migrate a new SQLite file at `database`, run `body` after `PRELUDE` (it prints its answer as the last line, one
    JSON object) and return that answer. Fails the test with the process's error output if it fails."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tdp.settings.run",
        "DATABASE_URL": f"sqlite:///{database}",
        "SECRET_KEY": "a-test-only-secret-key-of-enough-length-0123456789abcdef",
    }
    done = subprocess.run(
        [sys.executable, "-c", PRELUDE + body],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    answer: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    assert answer["vendor"] == "sqlite"
    return answer
