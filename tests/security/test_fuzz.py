"""Schemathesis fuzzes every operation of the served OpenAPI schema (`/api/schema/`) through the WSGI app, as an
organization admin with real objects: no request may end in a 500, and documented responses match their schema.

Path parameters are half the time the ids of real objects of the admin's organization (so the fuzzer gets past
the 404 of a random id), half the time what the schema generates; half the examples have every string of the body
and query lengthened by 5,000 characters. Each call runs in a savepoint that is rolled
back, so every operation sees the same world whatever an earlier one deleted. The number of examples per operation
is `TDP_FUZZ_EXAMPLES` (default 6: the whole run stays within a few minutes on two cores).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from apps.accounts import services as account_services
from tests.security.matrix import PATH_OBJECTS
from tests.security.world import World

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("TDP_FUZZ_EXAMPLES", "6"))
SCHEMA_URL = "/api/schema/?format=json"
LONG = 5000


@schemathesis.serializer("application/x-ndjson")
def ndjson(ctx: Any, value: Any) -> bytes:
    """NDJSON bodies: a generated list is one line per item, anything else one line."""
    items = value if isinstance(value, list) else [value]
    return "".join(json.dumps(item) + "\n" for item in items).encode()


@pytest.fixture
def in_process_requests() -> Iterator[None]:
    """Requests served in this thread share the test's transaction: keep Django from closing its connection at
    the end of each request (what Django's own test client does)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def real_ids(world: World, case: Any, use_real: dict[str, bool]) -> None:
    for name in list(case.path_parameters or {}):
        key = PATH_OBJECTS.get(name)
        if key is not None and use_real.get(name, False):
            case.path_parameters[name] = world.ids[key]


def lengthen(value: Any) -> Any:
    """Every string made longer than any column allows (names, keys, ids): a 4xx, never a 500."""
    if isinstance(value, str):
        return value + "x" * LONG
    if isinstance(value, list):
        return [lengthen(v) for v in value]
    if isinstance(value, dict):
        return {k: lengthen(v) for k, v in value.items()}
    return value


def fuzz_operation(operation: Any, world: World, headers: dict[str, str]) -> None:
    names = [p.name for p in operation.path_parameters]

    @given(
        case=operation.as_strategy(),
        use_real=st.fixed_dictionaries({n: st.booleans() for n in names}),
        long_strings=st.booleans(),
    )
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any, use_real: dict[str, bool], long_strings: bool) -> None:
        real_ids(world, case, use_real)
        if long_strings:
            if isinstance(case.body, dict | list):
                case.body = lengthen(case.body)
            if case.query:
                case.query = lengthen(case.query)
        with transaction.atomic():
            case.call_and_validate(
                headers=headers, checks=[not_a_server_error, response_schema_conformance], excluded_checks=[]
            )
            transaction.set_rollback(True)

    run()


def test_every_operation_survives_fuzzing(world, in_process_requests, subtests):
    token = account_services.api_token_create(user=world.admin).key
    headers = {"Authorization": f"Token {token}"}
    schema = schemathesis.openapi.from_wsgi(SCHEMA_URL, WSGIHandler())
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 100, "the schema lost its operations"
    for operation in operations:
        with subtests.test(operation=operation.label):
            fuzz_operation(operation, world, headers)
