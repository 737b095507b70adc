"""Model endpoints through the API: create / read / change / delete, the write-only encrypted secret, the outbound URL
guard at save and at call time, and `check` against the reference model server running as a real process."""

from __future__ import annotations

import json
import logging

import pytest

from apps.core.models import AuditEvent
from apps.predictions.models import ModelEndpoint
from apps.predictions.services.endpoints import secret_decrypt
from tests.predictions.model_servers import LABEL_STUDIO, REFERENCE, host_of, running_server

pytestmark = pytest.mark.django_db
SECRET = "Token s3cr3t-Model-Key-9f2c"


def _create(client, the_ontology, url, **extra):
    body = {"name": "colour detector", "url": url, "kind": "detector", "ontology": str(the_ontology.id), **extra}
    return client.post("/api/v1/model_endpoints", body, format="json")


def test_private_addresses_are_refused_at_save_unless_allow_listed(client_for, org_admin, ontology, settings):
    settings.TDP_OUTBOUND_ALLOWED_HOSTS = []
    client = client_for(org_admin)
    for url in ("http://127.0.0.1:9009", "http://10.0.0.5", "http://169.254.169.254/latest", "http://[::1]:80"):
        answer = _create(client, ontology, url)
        assert answer.status_code == 400, (url, answer.content)
        assert answer.json()["error"]["code"] == "unsafe_url"
    assert not ModelEndpoint.objects.exists()
    settings.TDP_OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1:9009"]
    assert _create(client, ontology, "http://127.0.0.1:9009").status_code == 201


def test_fields_are_checked(client_for, org_admin, ontology, settings):
    settings.TDP_OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1:9009"]
    client = client_for(org_admin)
    url = "http://127.0.0.1:9009"
    cases = [
        ({"class_map": {"car": "no-such-feature"}}, "class_map"),
        ({"batch_size": 0}, "batch_size"),
        ({"max_concurrency": 1000}, "max_concurrency"),
        ({"secret": "a\r\nX-Injected: 1"}, "secret"),
        ({"ontology": None}, "ontology"),
        ({"kind": "oracle"}, "kind"),
    ]
    for extra, field in cases:
        answer = _create(client, ontology, url, **extra)
        assert answer.status_code == 400, (extra, answer.content)
        assert field in json.dumps(answer.json()["error"]), (extra, answer.json())
    assert _create(client, ontology, url, kind="embedder", ontology=None).status_code == 201  # embedders need none


def test_the_secret_is_write_only_and_encrypted(client_for, org_admin, ontology, settings):
    settings.TDP_OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1:9009"]
    client = client_for(org_admin)
    created = _create(client, ontology, "http://127.0.0.1:9009", secret=SECRET, class_map={"car": "vehicle"})
    assert created.status_code == 201, created.content
    assert created.json()["has_secret"] is True and "secret" not in created.json()
    endpoint = ModelEndpoint.objects.get()
    assert SECRET not in endpoint.secret_encrypted and secret_decrypt(endpoint) == SECRET
    changed = client.patch(f"/api/v1/model_endpoints/{endpoint.id}", {"batch_size": 8}, format="json")
    assert changed.status_code == 200 and changed.json()["batch_size"] == 8
    endpoint.refresh_from_db()
    assert secret_decrypt(endpoint) == SECRET  # a change without `secret` keeps it
    cleared = client.patch(f"/api/v1/model_endpoints/{endpoint.id}", {"secret": ""}, format="json")
    assert cleared.json()["has_secret"] is False
    assert endpoint.model is not None and endpoint.model.ontology_id == ontology.id  # predictions land on its runs


def test_who_may(client_for, org_admin, make_user, org, other_org, ontology, settings):
    settings.TDP_OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1:9009"]
    endpoint_id = _create(client_for(org_admin), ontology, "http://127.0.0.1:9009").json()["id"]
    labeler = client_for(make_user(role="labeler", organization=org))
    assert labeler.get("/api/v1/model_endpoints").status_code == 403
    assert labeler.post(f"/api/v1/model_endpoints/{endpoint_id}/check").status_code == 403
    stranger = client_for(make_user(role="admin", organization=other_org))
    assert stranger.get(f"/api/v1/model_endpoints/{endpoint_id}").status_code == 404
    assert stranger.delete(f"/api/v1/model_endpoints/{endpoint_id}").status_code == 404
    assert stranger.get("/api/v1/model_endpoints").json()["results"] == []
    assert client_for(org_admin).delete(f"/api/v1/model_endpoints/{endpoint_id}").status_code == 204


def test_check_against_the_reference_server(client_for, org_admin, ontology, settings):
    client = client_for(org_admin)
    with running_server(REFERENCE, "--token", SECRET) as url:
        settings.TDP_OUTBOUND_ALLOWED_HOSTS = [host_of(url)]
        endpoint_id = _create(client, ontology, url, secret=SECRET).json()["id"]
        check = client.post(f"/api/v1/model_endpoints/{endpoint_id}/check")
        assert check.status_code == 200, check.content
        result = check.json()
        assert result["ok"] is True and result["errors"] == []
        assert result["health"]["status"] == "UP" and result["setup"]["model_version"] == "colour-components-1"
        assert client.get(f"/api/v1/model_endpoints/{endpoint_id}").json()["model_version"] == "colour-components-1"

        client.patch(f"/api/v1/model_endpoints/{endpoint_id}", {"secret": "Token wrong"}, format="json")
        result = client.post(f"/api/v1/model_endpoints/{endpoint_id}/check").json()
        assert result["ok"] is False
        assert result["errors"] == [
            "/health: The endpoint answered HTTP 401 to GET /health.",
            "/setup: The endpoint answered HTTP 401 to POST /setup.",
        ]

        settings.TDP_OUTBOUND_ALLOWED_HOSTS = []  # refused at call time too (saved while allow-listed)
        result = client.post(f"/api/v1/model_endpoints/{endpoint_id}/check").json()
        assert result["ok"] is False and all("outbound URL guard" in e for e in result["errors"]), result


def test_check_a_label_studio_backend(client_for, org_admin, ontology, settings):
    client = client_for(org_admin)
    with running_server(LABEL_STUDIO) as url:
        settings.TDP_OUTBOUND_ALLOWED_HOSTS = [host_of(url)]
        endpoint_id = _create(client, ontology, url, protocol="label_studio").json()["id"]
        result = client.post(f"/api/v1/model_endpoints/{endpoint_id}/check").json()
    assert result["ok"] is True and result["setup"]["model_version"] == "ls-centre-box-0.3", result


def test_the_secret_appears_in_no_answer_page_audit_record_or_log(
    client_for, org_admin, ontology, settings, caplog, project, django_user_model
):
    caplog.set_level(logging.DEBUG)
    client = client_for(org_admin)
    seen: list[str] = []
    with running_server(REFERENCE, "--token", SECRET) as url:
        settings.TDP_OUTBOUND_ALLOWED_HOSTS = [host_of(url)]
        created = _create(client, ontology, url, secret=SECRET)
        endpoint_id = created.json()["id"]
        seen.append(created.content.decode())
        seen.append(client.post(f"/api/v1/model_endpoints/{endpoint_id}/check").content.decode())
        seen.append(
            client.patch(f"/api/v1/model_endpoints/{endpoint_id}", {"secret": SECRET}, format="json").content.decode()
        )
    seen.append(client.get("/api/v1/model_endpoints").content.decode())
    seen.append(client.get(f"/api/v1/model_endpoints/{endpoint_id}").content.decode())
    seen.append(client.get("/api/v1/audit_events").content.decode())
    for streamed in ("/api/v1/audit_events.csv", f"/api/v1/projects/{project.id}/export.ndjson"):
        answer = client.get(streamed)
        assert answer.status_code == 200
        seen.append(b"".join(answer.streaming_content).decode())
    org_admin.set_password("pw-123-abc-XYZ")
    org_admin.save()
    browser = __import__("django.test", fromlist=["Client"]).Client()
    browser.force_login(org_admin)
    seen.append(browser.get("/model-endpoints/").content.decode())
    seen.append(browser.get(f"/model-endpoints/{endpoint_id}/").content.decode())
    seen.append(browser.get(f"/admin/predictions/modelendpoint/{endpoint_id}/change/").content.decode())
    seen.append(json.dumps(list(AuditEvent.objects.values_list("extra", "object_repr"))))
    seen.append(caplog.text)
    assert all(SECRET not in text for text in seen)
    assert any("colour-components-1" in text for text in seen)  # the grep looked at real answers
