"""Every API error has the documented shape and status, never a 500 for bad input."""

import json
import uuid

import pytest
from django.core.cache import caches
from django.test import RequestFactory, override_settings

from apps.core.exceptions import handler500
from apps.core.throttling import UserRateThrottle

pytestmark = pytest.mark.django_db


def assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    if code:
        assert body["error"]["code"] == code
    return body["error"]


@pytest.fixture
def admin_client(org_admin, client_for):
    return client_for(org_admin)


def test_malformed_json_is_400(admin_client):
    response = admin_client.post("/api/v1/users", data='{"username": "x",', content_type="application/json")
    assert_error(response, 400, "malformed_body")


def test_nan_is_not_json(admin_client):
    response = admin_client.post("/api/v1/users", data='{"username": NaN}', content_type="application/json")
    assert_error(response, 400, "malformed_body")


def test_wrong_content_type_is_415(admin_client):
    response = admin_client.post("/api/v1/users", data="username=x", content_type="text/plain")
    assert_error(response, 415, "unsupported_media_type")


def test_bad_encoding_is_400(admin_client):
    response = admin_client.post("/api/v1/users", data=b'{"username": "\xff\xfe"}', content_type="application/json")
    assert_error(response, 400, "bad_encoding")


@override_settings(TDP_MAX_JSON_BODY_BYTES=1000)
def test_oversized_body_is_413_with_the_limit(admin_client):
    response = admin_client.post(
        "/api/v1/users", data='{"username": "' + "x" * 2000 + '"}', content_type="application/json"
    )
    error = assert_error(response, 413, "payload_too_large")
    assert "1000" in error["message"]


def test_wrong_field_types_and_unknown_fields_are_400_with_details(admin_client):
    response = admin_client.post(
        "/api/v1/users",
        data={"username": ["not", "a", "string"], "password": "a-Strong-pass-123", "role": 7, "colour": "red"},
        format="json",
    )
    error = assert_error(response, 400, "invalid")
    assert "colour" in error["details"]


def test_field_validation_errors_name_the_fields(admin_client):
    response = admin_client.post(
        "/api/v1/users", data={"username": "bob", "password": "a-Strong-pass-123", "role": "boss"}, format="json"
    )
    error = assert_error(response, 400, "invalid")
    assert "role" in error["details"]


def test_unauthenticated_is_401(api_client):
    assert_error(api_client.get("/api/v1/users"), 401, "not_authenticated")


def test_bad_token_is_401(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
    assert_error(api_client.get("/api/v1/me"), 401, "authentication_failed")


def test_wrong_method_is_405(admin_client):
    assert_error(admin_client.delete("/api/v1/me"), 405, "method_not_allowed")


def test_missing_object_is_404(admin_client):
    assert_error(admin_client.get(f"/api/v1/users/{uuid.uuid4()}"), 404, "not_found")


def test_malformed_id_is_404(admin_client):
    assert_error(admin_client.get("/api/v1/users/not-a-uuid"), 404, "not_found")


def test_unknown_api_path_is_404_json(admin_client):
    assert_error(admin_client.get("/api/v1/no-such-thing"), 404, "not_found")


def test_unknown_page_is_an_html_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_bad_page_size_and_cursor_are_400(admin_client):
    assert_error(admin_client.get("/api/v1/users?page_size=5000"), 400, "invalid_page_size")
    assert_error(admin_client.get("/api/v1/users?page_size=abc"), 400, "invalid_page_size")
    assert_error(admin_client.get("/api/v1/users?cursor=%%%garbage"), 400, "invalid_cursor")


def test_throttled_is_429_with_wait(admin_client, monkeypatch):
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "2/minute", "anon": "2/minute"})
    caches["throttle"].clear()
    statuses = [admin_client.get("/api/v1/me").status_code for _ in range(3)]
    assert statuses[:2] == [200, 200]
    response = admin_client.get("/api/v1/me")
    error = assert_error(response, 429, "throttled")
    assert error["details"]["wait_seconds"] > 0
    assert int(response["Retry-After"]) >= 0


def test_server_error_handler_renders_the_shape_for_api_paths():
    request = RequestFactory().get("/api/v1/anything")
    response = handler500(request)
    assert response.status_code == 500
    assert json.loads(response.content)["error"]["code"] == "server_error"


def test_unhandled_exception_in_an_api_view_is_500_in_the_shape(admin_client, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("apps.accounts.apis.UserOutputSerializer.to_representation", explode)
    error = assert_error(admin_client.get("/api/v1/me"), 500, "server_error")
    assert "boom" not in error["message"]


def test_unknown_api_path_is_the_error_shape_under_debug_too(admin_client, client, settings):
    """`make run` serves with DEBUG on: API clients still get JSON, not Django's HTML debug page."""
    settings.DEBUG = True
    for answer in (admin_client.get("/api/v1/no-such-thing"), client.get("/api/nope")):
        assert answer["Content-Type"].startswith("application/json")
        assert_error(answer, 404, "not_found")
    page = client.get("/no-such-page/")
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")  # pages keep the debug page


def test_unhandled_exception_under_debug_is_the_error_shape(admin_client, settings, monkeypatch):
    settings.DEBUG = True
    settings.DEBUG_PROPAGATE_EXCEPTIONS = False

    def explode(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("apps.accounts.apis.MeApi.get", explode)
    assert_error(admin_client.get("/api/v1/me"), 500, "server_error")
