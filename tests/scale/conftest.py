"""Fixtures of the scale tests: one production-shaped stack per test session (private PostgreSQL cloned from the
migrated test database, Redis, moto S3) and, per test, the test process's ORM pointed at that stack's database
(`on_stack`) to seed data through the real services and to check the outcome in the database.

All scale tests share the `scale` xdist group: one worker runs them, one after another.
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection, connections

from tests.scale.stack import MotoS3, PgCluster, RedisServer, Stack


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/scale/" in str(item.fspath):
            item.add_marker(pytest.mark.xdist_group("scale"))
            item.add_marker(pytest.mark.worker)
            # Makes pytest-django create the test database (the stack clones it); no wrapping transaction.
            item.add_marker(pytest.mark.django_db(transaction=True))


@pytest.fixture(scope="session")
def stack(django_db_setup, django_db_blocker) -> Iterator[Stack]:
    folder = Path(tempfile.mkdtemp(prefix="tdp-scale-"))
    pg = PgCluster()
    redis = RedisServer(folder)
    s3 = MotoS3()
    built = Stack(
        folder=folder, pg=pg, redis=redis, s3=s3, secret_key=secrets.token_urlsafe(50), trace_file=folder / "trace"
    )
    try:
        pg.init_and_start()
        with django_db_blocker.unblock():
            pg.clone_from(dict(connection.settings_dict))
        redis.start()
        s3.start(built.bucket)
        yield built
    finally:
        built.stop_all()
        redis.stop()
        s3.stop()
        pg.destroy()
        shutil.rmtree(folder, ignore_errors=True)  # the logs that matter are in the failure messages


@pytest.fixture
def on_stack(stack: Stack, django_db_blocker) -> Iterator[Stack]:
    """For the test's duration, the ORM of this process uses the stack's database (no wrapping transaction: what
    the test writes is committed and seen by the web and worker processes)."""
    with django_db_blocker.unblock():
        conn = connections["default"]
        conn.close()
        saved = dict(conn.settings_dict)
        conn.settings_dict.update(HOST="127.0.0.1", PORT=str(stack.pg.port), NAME="tdp", USER="tdp", PASSWORD="")
        stack.trace_file.unlink(missing_ok=True)
        try:
            yield stack
        finally:
            stack.stop_all()
            connections.close_all()
            conn.settings_dict.clear()
            conn.settings_dict.update(saved)
            if stack.redis.process is None:
                stack.redis.start()
