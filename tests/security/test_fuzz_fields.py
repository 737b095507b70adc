"""Property-based fuzz of every JSON field of every write endpoint of the served OpenAPI schema (extends
`test_fuzz.py`, which fuzzes whole operations): no answer may be a 500.

For each POST/PUT/PATCH operation with a JSON body, a plausible body is built from its request schema (real ids of
the admin's organization where a field names an object), then every field path of that body (nested objects and
the first item of arrays included) is given hostile values drawn by hypothesis: integers no float can hold, tiny
and huge floats, NaN/Infinity written as JSON literals, nesting just under and over the depth limit, wrong types,
long strings, NUL, lone surrogates, right-to-left overrides. Path parameters are the world's real objects, so the
requests get past the 404 of a random id. Each request runs in a savepoint that is rolled back.

`TDP_FUZZ_FIELD_EXAMPLES` hostile values per field (default 4; the whole run is about a minute on two cores)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from apps.accounts import services as account_services
from tests.security.matrix import PATH_OBJECTS
from tests.security.world import World

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("TDP_FUZZ_FIELD_EXAMPLES", "4"))
WRITE_METHODS = ("post", "put", "patch")
MAX_DEPTH = 3
RAW = "__raw_json__:"  # a value written into the body as this literal JSON text


def nested(levels: int) -> Any:
    value: Any = 1
    for _ in range(levels):
        value = [value]
    return value


HOSTILE: list[Any] = [
    10**400,
    -(10**400),
    2**64,
    -(2**63) - 1,
    5e-324,
    1.7976931348623157e308,
    -1,
    0,
    RAW + "NaN",
    RAW + "Infinity",
    RAW + "1e400",
    RAW + "-1e999",
    nested(60),
    nested(200),
    {},
    [],
    "",
    True,
    None,
    "not a number",
    {"$gt": ""},
    "x" * 20_000,
    "a\x00b",
    "\ud800 lone surrogate",
    "\u202egnp.exe",
    [None, {"a": [1e308, -1e308]}],
]


def resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    while isinstance(schema, dict) and "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    if isinstance(schema, dict) and "allOf" in schema and len(schema["allOf"]) == 1:
        return resolve({**schema["allOf"][0], **{k: v for k, v in schema.items() if k != "allOf"}}, components)
    if isinstance(schema, dict) and ("oneOf" in schema or "anyOf" in schema):
        return resolve((schema.get("oneOf") or schema.get("anyOf"))[0], components)
    return schema


def example(schema: dict[str, Any], components: dict[str, Any], ids: dict[str, str], name: str = "", depth: int = 0):
    """A plausible value for the schema: enum's first, real ids for fields naming the world's objects."""
    schema = resolve(schema, components)
    kind = schema.get("type")
    if schema.get("enum"):
        return next((v for v in schema["enum"] if v is not None), None)
    key = PATH_OBJECTS.get(f"{name}_id", name)
    if kind == "string" or (kind is None and schema.get("format") == "uuid"):
        if key in ids:
            return ids[key]
        return {"uuid": ids["data_row"], "date-time": "2026-01-01T00:00:00Z", "email": "a@example.com"}.get(
            schema.get("format", ""), "fuzz"
        )
    if kind == "integer":
        return max(1, int(schema.get("minimum", 1)))
    if kind == "number":
        return 0.5
    if kind == "boolean":
        return True
    if kind == "array":
        if depth >= MAX_DEPTH:
            return []
        item = example(schema.get("items", {}), components, ids, name.rstrip("s"), depth + 1)
        return [] if item is None else [item]
    if kind == "object" or "properties" in schema:
        if depth >= MAX_DEPTH:
            return {}
        return {
            prop: example(sub, components, ids, prop, depth + 1)
            for prop, sub in (schema.get("properties") or {}).items()
        }
    return "fuzz"


def field_paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, dict):
        for key, sub in value.items():
            yield (*prefix, key)
            yield from field_paths(sub, (*prefix, key))
    elif isinstance(value, list) and value:
        yield (*prefix, 0)
        yield from field_paths(value[0], (*prefix, 0))


def replaced(body: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    copy = dict(body) if isinstance(body, dict) else list(body)
    copy[head] = replaced(copy[head], rest, value)
    return copy


def encode(body: Any) -> str:
    """JSON text; RAW markers become their literal (NaN, Infinity, 1e400: what a hostile client can send)."""
    literals: dict[str, str] = {}

    def mark(value: Any) -> Any:
        if isinstance(value, str) and value.startswith(RAW):
            token = f"__literal_{len(literals)}__"
            literals[token] = value[len(RAW) :]
            return token
        if isinstance(value, dict):
            return {k: mark(v) for k, v in value.items()}
        if isinstance(value, list):
            return [mark(v) for v in value]
        return value

    text = json.dumps(mark(body))
    for token, literal in literals.items():
        text = text.replace(f'"{token}"', literal)
    return text


def write_operations(schema: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in schema["paths"].items():
        for method in WRITE_METHODS:
            operation = item.get(method)
            content = (operation or {}).get("requestBody", {}).get("content", {})
            if "application/json" in content:
                yield method, path, content["application/json"].get("schema", {})


def fill_path(path: str, ids: dict[str, str]) -> str:
    for name, key in PATH_OBJECTS.items():
        path = path.replace("{" + name + "}", ids.get(key, ids["data_row"]))
    return path


def _upstream_error(response: Any) -> bool:
    """A 502 in the error shape: a documented upstream failure (e.g. `storage_unreachable`), not a crash."""
    try:
        error = response.json()["error"]
    except (ValueError, KeyError, TypeError):
        return False
    return bool(error.get("code")) and bool(error.get("message"))


def fuzz_operation(api: APIClient, method: str, path: str, url: str, base: Any, failures: list[str]) -> int:
    """Hostile values in the fields of one operation's body; returns how many fields it has."""
    paths = list(field_paths(base)) or [()]

    @given(target=st.sampled_from(paths), value=st.sampled_from(HOSTILE))
    @settings(
        max_examples=max(EXAMPLES * len(paths), 1),
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def fuzz(target: tuple[Any, ...], value: Any) -> None:
        text = encode(replaced(base, target, value))
        with transaction.atomic():
            response = getattr(api, method)(url, data=text.encode(), content_type="application/json")
            transaction.set_rollback(True)
        status = response.status_code
        if status == 502 and _upstream_error(response):
            return  # the input was valid and a service the server calls (a customer's bucket) failed: said as such
        if status >= 500:
            failures.append(f"{method.upper()} {path} {'.'.join(map(str, target))}={text[:120]!r} → {status}")

    fuzz()
    return len(paths)


def test_every_json_field_of_every_write_endpoint_survives_hostile_values(world: World, client):
    schema = client.get("/api/schema/?format=json").json()
    components = schema.get("components", {}).get("schemas", {})
    api = APIClient(raise_request_exception=False)  # a 500 is an answer to record, not an exception
    api.credentials(HTTP_AUTHORIZATION=f"Token {account_services.api_token_create(user=world.admin).key}")
    operations = list(write_operations(schema))
    assert len(operations) > 40, "the schema lost its write operations"
    failures: list[str] = []
    fields = 0
    for method, path, body_schema in operations:
        base = example(body_schema, components, world.ids)
        fields += fuzz_operation(api, method, path, fill_path(path, world.ids), base, failures)
    assert fields > 100
    assert not failures, "\n".join(failures[:40])
