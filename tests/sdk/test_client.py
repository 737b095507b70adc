"""The SDK's HTTP behaviour (retries, Retry-After, idempotency keys, the error shape, cursors, jobs) and its
coverage of the API: every operation of the OpenAPI schema has an SDK method (or an explicit exclusion)."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re

import httpx
import pytest
from drf_spectacular.generators import SchemaGenerator
from tdp_sdk import BadRequest, Client, Conflict, JobFailed, NotFound, ServerUnavailable, Throttled, verify_signature
from tdp_sdk._http import ROUTES, retry_after_seconds

# Operations the SDK deliberately leaves out, each with the reason. Empty today: every route has a method.
EXCLUDED: dict[tuple[str, str], str] = {}


def _normalise(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)


def test_every_api_operation_has_an_sdk_method():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    operations = {
        (method.upper(), _normalise(path))
        for path, item in schema["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    }
    covered = {(method, _normalise(path)) for method, path in ROUTES} | {(m, _normalise(p)) for m, p in EXCLUDED}
    missing = sorted(operations - covered)
    assert not missing, f"API operations without an SDK method (add one, or an exclusion with a reason): {missing}"
    stale = sorted(covered - operations)
    assert not stale, f"SDK methods whose route the API no longer has: {stale}"


def _client(handler, **options) -> tuple[Client, list[float]]:
    slept: list[float] = []
    client = Client("http://tdp.test", "tok", transport=httpx.MockTransport(handler), sleep=slept.append, **options)
    return client, slept


def test_429_and_503_are_retried_after_retry_after_with_one_idempotency_key():
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if len(seen) == 1:
            return httpx.Response(
                429, headers={"Retry-After": "3"}, json={"error": {"code": "throttled", "message": "slow down"}}
            )
        if len(seen) == 2:
            return httpx.Response(
                503, headers={"Retry-After": "1"}, json={"error": {"code": "database_unavailable", "message": "x"}}
            )
        return httpx.Response(201, json={"id": "label-1"})

    client, slept = _client(handler)
    answer = client.projects.submit("task-1", [{"name": "car", "bbox": {"top": 1, "left": 1, "height": 2, "width": 2}}])
    assert answer == {"id": "label-1"}
    assert slept == [3.0, 1.0]
    keys = {request.headers["Idempotency-Key"] for request in seen}
    assert len(seen) == 3 and len(keys) == 1, "every retry of a write carries the same Idempotency-Key"
    assert seen[0].headers["Authorization"] == "Token tok"
    assert json.loads(seen[0].content)["annotations"][0]["name"] == "car"


def test_retries_run_out_into_an_exception_with_the_error_shape():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, json={"error": {"code": "throttled", "message": "Too many", "details": {"wait": 9}}})

    client, slept = _client(handler, max_retries=2)
    with pytest.raises(Throttled) as caught:
        client.accounts.me()
    assert (caught.value.status, caught.value.code, caught.value.details) == (429, "throttled", {"wait": 9})
    assert len(slept) == 2


@pytest.mark.parametrize(
    ("status", "cls"), [(400, BadRequest), (404, NotFound), (409, Conflict), (500, ServerUnavailable)]
)
def test_error_answers_raise_their_exception(status, cls):
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json={"error": {"code": "c", "message": "m", "details": {"field": ["bad"]}}})

    client, _ = _client(handler, max_retries=0)
    with pytest.raises(cls) as caught:
        client.datasets.get("d1")
    assert caught.value.message == "m" and caught.value.details == {"field": ["bad"]}


def test_a_read_timeout_repeats_reads_and_keyed_writes_but_not_plain_creates():
    calls = {"GET": 0, "POST": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        calls[request.method] += 1
        if calls[request.method] == 1:
            raise httpx.ReadTimeout("slow", request=request)
        return httpx.Response(200, json={"ok": True})

    client, _ = _client(handler)
    assert client.accounts.me() == {"ok": True} and calls["GET"] == 2
    with pytest.raises(Exception, match="slow"):
        client.datasets.create("d")  # the server may have created it: not sent twice
    assert calls["POST"] == 1


def test_lists_follow_cursors_lazily():
    pages = {
        "/api/v1/projects": {"next": "http://tdp.test/api/v1/projects?cursor=2", "results": [{"id": 1}, {"id": 2}]},
        "/api/v1/projects?cursor=2": {"next": None, "results": [{"id": 3}]},
    }
    requested: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        key = request.url.raw_path.decode()
        requested.append(key)
        return httpx.Response(200, json=pages[key])

    client, _ = _client(handler)
    iterator = client.projects.list()
    assert next(iterator) == {"id": 1} and len(requested) == 1, "the second page is fetched only when reached"
    assert [p["id"] for p in iterator] == [2, 3] and len(requested) == 2


def test_claim_sends_the_lease_key_only_when_given_and_204_is_none():
    bodies: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(request.content)
        if len(bodies) == 3:
            return httpx.Response(204)
        return httpx.Response(200, json={"task": f"t{len(bodies)}"})

    client, _ = _client(handler)
    assert client.projects.claim("p1", lease_key="worker-1") == {"task": "t1"}
    assert client.projects.claim("p1") == {"task": "t2"}
    assert client.projects.claim("p1", lease_key="worker-2") is None
    assert [json.loads(b) for b in bodies] == [{"lease_key": "worker-1"}, {}, {"lease_key": "worker-2"}]


def test_jobs_are_awaited_with_progress_and_failures_raise():
    states = iter(
        [
            {"id": "j", "status": "running", "progress": {"done": 1, "total": 4}},
            {"id": "j", "status": "succeeded", "progress": {"done": 4, "total": 4}, "result": {"created": 4}},
            {"id": "k", "status": "failed", "progress": {"done": 0, "total": 0}, "error": "bad file"},
        ]
    )

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/data_rows"):
            return httpx.Response(202, json={"job": "j"})
        return httpx.Response(200, json=next(states))

    client, _ = _client(handler)
    seen: list[int] = []
    result = client.datasets.import_rows("d", [{"global_key": "a"}], progress=lambda done, total: seen.append(done))
    assert result["created"] == 4 and seen == [1]
    with pytest.raises(JobFailed, match="bad file"):
        client.jobs.wait("k")


def test_import_rows_counts_error_indexes_over_the_whole_iterable():
    def handler(request: httpx.Request) -> httpx.Response:
        lines = request.content.decode().splitlines()
        bad = [i for i, line in enumerate(lines) if json.loads(line)["global_key"].startswith("bad")]
        return httpx.Response(
            200,
            json={
                "created": len(lines) - len(bad),
                "updated": 0,
                "failed": len(bad),
                "errors": [
                    {"index": i, "global_key": json.loads(lines[i])["global_key"], "message": "no"} for i in bad
                ],
            },
        )

    client, _ = _client(handler)
    rows = [{"global_key": f"ok-{i}"} for i in range(5)] + [{"global_key": "bad-5"}, {"global_key": "ok-6"}]
    result = client.datasets.import_rows("d", rows, rows_per_request=3)
    assert result["created"] == 6 and result["failed"] == 1
    assert [(e["index"], e["global_key"]) for e in result["errors"]] == [(5, "bad-5")]


def test_retry_after_accepts_seconds_and_http_dates():
    assert retry_after_seconds("7", 1.0) == 7.0
    assert retry_after_seconds(None, 1.5) == 1.5
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", 2.0) == 0.0  # a date in the past: no wait
    assert retry_after_seconds("soon", 2.0) == 2.0


def test_webhook_signature_verifier():
    secret, body, ts = "s3cret", b'{"type":"label.created"}', "1700000000"
    signature = "sha256=" + hmac.new(secret.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    assert verify_signature(secret, body, ts, signature, now=1700000010)
    assert not verify_signature(secret, body + b" ", ts, signature, now=1700000010)
    assert not verify_signature("other", body, ts, signature, now=1700000010)
    assert not verify_signature(secret, body, ts, signature, now=1700009999), "an old delivery is a replay"
    assert not verify_signature(secret, body, "not-a-time", signature)


def test_the_reference_page_is_generated_from_the_current_code():
    from pathlib import Path

    from tdp_sdk.reference import render

    page = Path(__file__).resolve().parents[2] / "docs" / "sdk-reference.md"
    stale = "docs/sdk-reference.md is stale: python -m tdp_sdk.reference > docs/sdk-reference.md"
    assert page.read_text() == render(), stale
    assert "`POST /api/v1/tasks/{task_id}/labels`" in page.read_text()


def test_media_methods_send_what_the_api_reads_and_write_streams_to_files(tmp_path):
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith("/exports/video"):
            return httpx.Response(200, content=b"1,1,10,20,30,40,1,-1,-1,-1\n")
        if request.url.path.endswith("/large_images"):
            return httpx.Response(201, json={"created": 1, "global_keys": ["big.png"]})
        return httpx.Response(200, json={"results": [], "truncated": False})

    client, _ = _client(handler)
    assert client.media.rows_in_area((15, 52.5, 15.25, 52.75), dataset="d1") == {"results": [], "truncated": False}
    assert seen[-1].url.params["bbox"] == "15.0,52.5,15.25,52.75" and seen[-1].url.params["dataset"] == "d1"

    target = client.media.export_video("p1", tmp_path / "tracks.txt", kind="mot", data_row="r1")
    assert target.read_bytes() == b"1,1,10,20,30,40,1,-1,-1,-1\n"
    assert dict(seen[-1].url.params) == {"kind": "mot", "data_row": "r1"}  # `interpolated` only when asked
    assert not (tmp_path / "tracks.txt.part").exists()

    image = tmp_path / "big.png"
    image.write_bytes(b"\x89PNG not really")
    assert client.media.upload_large_images("d1", [image])["created"] == 1
    sent = seen[-1]
    assert sent.method == "POST" and sent.url.path == "/api/v1/datasets/d1/large_images"
    assert b'name="files"; filename="big.png"' in sent.read() and sent.headers["Idempotency-Key"]


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("a\nbb\nccc\ndddd\n", 3),
        ("a\nbb\nccc\ndddd", 2),  # no newline at the end
        ("one very long line\nx\n", 4),  # fewer parts than asked when lines are long
        ("x\n", 3),
    ],
)
def test_file_parts_cover_the_file_at_line_ends(tmp_path, text, parts):
    from tdp_sdk.resources._file_parts import line_aligned_ranges, rows_before

    path = tmp_path / "f.ndjson"
    path.write_bytes(text.encode())
    ranges = line_aligned_ranges(path, len(text), parts)
    assert 1 <= len(ranges) <= parts
    assert ranges[0][0] == 0 and ranges[-1][1] == len(text)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(ranges))
    assert all(text[end - 1] == "\n" for _start, end in ranges[:-1])
    assert [rows_before(path, start) for start, _end in ranges] == [text[:start].count("\n") for start, _end in ranges]
