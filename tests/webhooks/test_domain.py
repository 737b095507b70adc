"""Webhook domain without a database: signature, envelope bytes, retry schedule, event type validation."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta

from apps.webhooks.domain import retry, signing
from apps.webhooks.domain.events import EVENT_TYPES, normalize_events, unknown_event_types


def test_signature_is_hmac_sha256_of_timestamp_dot_body():
    body = b'{"id":"e1"}'
    expected = hmac.new(b"s3cret", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert signing.sign("s3cret", 1700000000, body) == f"sha256={expected}"


def test_verify_rejects_other_secret_body_timestamp_and_stale_times():
    body = signing.encode_body({"a": 1})
    signature = signing.sign("k", 100, body)
    assert signing.verify("k", "100", body, signature)
    assert not signing.verify("other", 100, body, signature)
    assert not signing.verify("k", 101, body, signature)
    assert not signing.verify("k", 100, body + b" ", signature)
    assert not signing.verify("k", "not-a-number", body, signature)
    assert signing.verify("k", 100, body, signature, now=300)
    assert not signing.verify("k", 100, body, signature, now=100 + 301)


def test_envelope_bytes_are_stable_and_carry_the_contract_fields():
    one = signing.envelope(
        event_id="e", type="label.created", created_at="t", organization="o", data={"b": 1, "a": "é"}
    )
    body = signing.encode_body(one)
    assert body == signing.encode_body(dict(reversed(list(one.items()))))
    assert set(json.loads(body)) == {"id", "type", "created_at", "organization", "data"}
    assert "é".encode() in body


def test_headers():
    headers = signing.headers(event_type="label.created", event_id="e1", timestamp=5, signature="sha256=x")
    assert headers == {
        "Content-Type": "application/json",
        "X-TDP-Event": "label.created",
        "X-TDP-Delivery": "e1",
        "X-TDP-Timestamp": "5",
        "X-TDP-Signature": "sha256=x",
    }


def test_secrets_are_random_and_long():
    a, b = signing.generate_secret(), signing.generate_secret()
    assert a != b and len(a) >= 40


def test_six_tries_in_about_an_hour_with_growing_waits():
    delays = [retry.retry_delay(attempt) for attempt in range(1, 7)]
    assert retry.MAX_ATTEMPTS == 6
    assert delays[-1] is None, "the sixth try is the last"
    waits = [d for d in delays if d is not None]
    assert len(waits) == 5 and waits == sorted(waits)
    assert timedelta(minutes=45) <= sum(waits, timedelta()) <= timedelta(minutes=75)
    assert retry.retry_delay(0) is None


def test_success_and_truncation():
    assert retry.is_success(200) and retry.is_success(204)
    assert not any(retry.is_success(code) for code in (None, 199, 301, 404, 500))
    text = retry.truncate_response(("é" * 5000).encode())
    assert len(text.encode()) <= 2048 and set(text) == {"é"}


def test_event_type_validation():
    assert unknown_event_types(["label.created", "batch.done"]) is None
    assert unknown_event_types(["label.created", "label.deleted", 3]) == ["label.deleted", "3"]
    assert unknown_event_types([]) == [] and unknown_event_types("label.created") == []
    assert unknown_event_types(["webhook.test"]) == ["webhook.test"], "the test event is not subscribable"
    assert normalize_events(["batch.done", "label.created", "batch.done"]) == ["label.created", "batch.done"]
    assert len(EVENT_TYPES) == 14
