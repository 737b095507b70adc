"""SSRF: every place a URL is accepted refuses loopback, private, link-local and metadata addresses in every
spelling, other schemes, and names that resolve to loopback; redirects to loopback are never followed; URLs of data
rows are never fetched by the server at all (the browser is redirected to them).

Where URLs enter: webhook targets (create, change), storage integration endpoints (create, change; superusers only),
data row `row_data` (import; content served by redirect), attachments. A local test server on loopback proves that no
request reaches it.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from apps.datasets.models import DataRow, StorageIntegration
from apps.webhooks.models import Webhook, WebhookDelivery
from apps.webhooks.services import delivery_perform

pytestmark = pytest.mark.django_db

ATTACKS = [
    "http://127.0.0.1/",
    "http://127.0.0.1:{port}/",
    "http://localhost:{port}/",
    "http://[::1]:{port}/",
    "http://[::ffff:127.0.0.1]:{port}/",
    "http://0.0.0.0:{port}/",
    "http://127.1:{port}/",
    "http://2130706433:{port}/",
    "http://0x7f000001:{port}/",
    "http://0177.0.0.1:{port}/",
    "http://169.254.169.254/latest/meta-data/iam/",
    "http://[fd00:ec2::254]/latest/meta-data/",
    "http://100.100.100.200/latest/meta-data/",
    "http://10.0.0.1/",
    "http://10.255.255.254:8080/",
    "http://172.16.0.1/",
    "http://172.31.255.1/",
    "http://192.168.0.1/",
    "http://192.168.255.254:9000/",
    "http://100.64.0.1/",
    "http://[fe80::1]/",
    "http://loopback.example.test:{port}/",
    "http://user:secret@example.com/",
    "file:///etc/passwd",
    "gopher://127.0.0.1:6379/_FLUSHALL",
    "ftp://127.0.0.1/",
    "dict://127.0.0.1:11211/stat",
    "javascript:alert(1)",
]


class Recorder(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass

    def _any(self) -> None:
        self.server.hits.append(self.path)  # type: ignore[attr-defined]
        location = self.server.redirect_to  # type: ignore[attr-defined]
        self.send_response(302 if location else 200)
        if location:
            self.send_header("Location", location)
        self.end_headers()

    do_GET = do_POST = do_HEAD = _any


@pytest.fixture
def local_server() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    server.hits = []  # type: ignore[attr-defined]
    server.redirect_to = ""  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def loopback_dns(monkeypatch):
    """`*.example.test` resolves to 127.0.0.1 (a DNS name pointing at loopback)."""
    real = socket.getaddrinfo

    def fake(host, port, *args, **kwargs):
        if isinstance(host, str) and host.endswith(".example.test"):
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port or 80))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr("apps.core.url_safety.socket.getaddrinfo", fake)


def attacks(server: ThreadingHTTPServer) -> list[str]:
    return [url.format(port=server.server_address[1]) for url in ATTACKS]


def refused(response) -> bool:
    return response.status_code == 400 and response.json()["error"]["code"] in ("unsafe_url", "invalid")


def test_webhook_targets_refuse_every_attack(world, client_for, local_server, loopback_dns, settings):
    settings.TDP_OUTBOUND_ALLOWED_HOSTS = []
    client = client_for(world.admin)
    hook = f"/api/v1/webhooks/{world.ids['webhook']}"
    before = Webhook.objects.get(pk=world.ids["webhook"]).url
    accepted = []
    for url in attacks(local_server):
        created = client.post("/api/v1/webhooks", {"url": url, "events": ["label.created"]}, format="json")
        changed = client.patch(hook, {"url": url}, format="json")
        if not refused(created) or not refused(changed):
            accepted.append(f"{url}: create {created.status_code}, change {changed.status_code}")
    assert not accepted, "\n".join(accepted)
    assert Webhook.objects.get(pk=world.ids["webhook"]).url == before
    assert Webhook.objects.filter(organization=world.organization).count() == 1
    assert local_server.hits == []  # type: ignore[attr-defined]


def test_storage_endpoints_refuse_every_attack(world, client_for, superuser, local_server, loopback_dns, settings):
    settings.TDP_OUTBOUND_ALLOWED_HOSTS = []
    client = client_for(superuser)
    integration = f"/api/v1/storage_integrations/{world.ids['integration']}"
    accepted = []
    for url in attacks(local_server):
        changed = client.patch(integration, {"endpoint_url": url}, format="json")
        if not refused(changed):
            accepted.append(f"{url}: change {changed.status_code}")
    assert not accepted, "\n".join(accepted)
    assert StorageIntegration.objects.get(pk=world.ids["integration"]).endpoint_url == ""
    assert local_server.hits == []  # type: ignore[attr-defined]


def test_a_redirect_to_loopback_is_not_followed(world, local_server, settings, django_capture_on_commit_callbacks):
    """An allowed receiver answers with a redirect to another loopback server: that one gets nothing."""
    target = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    target.hits, target.redirect_to = [], ""  # type: ignore[attr-defined]
    threading.Thread(target=target.serve_forever, daemon=True).start()
    try:
        port = local_server.server_address[1]
        local_server.redirect_to = f"http://127.0.0.1:{target.server_address[1]}/internal"  # type: ignore[attr-defined]
        settings.TDP_OUTBOUND_ALLOWED_HOSTS = [f"127.0.0.1:{port}"]
        webhook = Webhook.objects.get(pk=world.ids["webhook"])
        Webhook.objects.filter(pk=webhook.pk).update(url=f"http://127.0.0.1:{port}/hook")
        delivery = WebhookDelivery.objects.get(pk=world.ids["delivery"])
        delivery_perform(delivery_id=delivery.pk)
        assert local_server.hits == ["/hook"]  # type: ignore[attr-defined]
        assert target.hits == []  # type: ignore[attr-defined]
        delivery.refresh_from_db()
        assert delivery.status_code == 302 and delivery.state != "succeeded"
    finally:
        target.shutdown()
        target.server_close()


def test_data_row_urls_are_never_fetched_by_the_server(world, client_for, client, local_server, settings):
    """Rows may point anywhere (the browser loads them, redirected by the content endpoint); the server itself never
    connects: not on import, content, embedding, export, nor on any page."""
    settings.TDP_OUTBOUND_ALLOWED_HOSTS = []
    api = client_for(world.admin)
    client.force_login(world.admin)
    port = local_server.server_address[1]
    lines = "\n".join(
        f'{{"global_key": "ssrf-{i}", "row_data": "http://127.0.0.1:{port}/row-{i}.jpg", '
        f'"attachments": [{{"type": "image", "value": "http://127.0.0.1:{port}/att-{i}.png"}}]}}'
        for i in range(3)
    )
    imported = api.generic(
        "POST", f"/api/v1/datasets/{world.dataset.pk}/data_rows", lines.encode(), content_type="application/x-ndjson"
    )
    assert imported.status_code == 200, imported.content
    rows = DataRow.objects.filter(global_key__startswith="ssrf-")
    assert rows.count() == 3
    for row in rows:
        content = api.get(f"/api/v1/data_rows/{row.pk}/content")
        assert content.status_code == 302 and content["Location"].startswith(f"http://127.0.0.1:{port}/")
        assert api.get(f"/api/v1/data_rows/{row.pk}/lineage").status_code == 200
        assert client.get(f"/catalog/rows/{row.pk}/lineage/").status_code == 200
    assert api.post(f"/api/v1/datasets/{world.dataset.pk}/embed", {}, format="json").status_code == 202
    export = api.get(f"/api/v1/projects/{world.ids['project']}/export.ndjson")
    assert export.status_code == 200
    b"".join(export.streaming_content)
    assert client.get(f"/catalog/datasets/{world.dataset.pk}/").status_code == 200
    assert local_server.hits == []  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "scheme_url", ["javascript:alert(1)", "file:///etc/passwd", "data:text/html,<script>x</script>"]
)
def test_data_rows_never_redirect_browsers_to_other_schemes(world, client_for, scheme_url):
    """An image row must name an http(s) URL (or an upload/bucket): other schemes are refused at import; a text row
    holding the same characters is its own content, served as plain text, never as a redirect."""
    client = client_for(world.admin)
    url = f"/api/v1/datasets/{world.dataset.pk}/data_rows"
    image = f'{{"global_key": "scheme-image", "row_data": "{scheme_url}"}}\n'
    refused_import = client.generic("POST", url, image.encode(), content_type="application/x-ndjson")
    assert refused_import.json()["failed"] == 1
    assert not DataRow.objects.filter(global_key="scheme-image").exists()
    text = f'{{"global_key": "scheme-text", "media_type": "text", "row_data": "{scheme_url}"}}\n'
    assert client.generic("POST", url, text.encode(), content_type="application/x-ndjson").json()["failed"] == 0
    row = DataRow.objects.get(global_key="scheme-text")
    content = client.get(f"/api/v1/data_rows/{row.pk}/content")
    assert content.status_code == 200 and "Location" not in content
    assert content["Content-Type"].startswith("text/plain") and content["X-Content-Type-Options"] == "nosniff"


def test_storage_endpoint_is_pinned_to_the_checked_address(world, monkeypatch):
    """DNS rebinding: the endpoint's name resolves to a public address when checked and to the metadata address
    a moment later. boto3 must connect to the checked address, whatever a second lookup says."""
    import ipaddress
    import socket

    from apps.core import pinned_dns, url_safety
    from apps.datasets import cloud
    from apps.datasets.models import StorageIntegration

    checked = ipaddress.ip_address("93.184.216.34")
    monkeypatch.setattr(url_safety, "_resolve", lambda host, port: [checked])
    connected: list[str] = []

    def rebinding_dns(host, port, *args, **kwargs):
        connected.append(str(host))
        if host == "storage.rebind.example":  # the second lookup: rebound to the cloud metadata address
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("169.254.169.254", port))]
        raise OSError("no network in tests")  # the pinned, numeric lookup: recorded, then refused fast

    monkeypatch.setattr(pinned_dns, "_system_getaddrinfo", rebinding_dns)
    integration = StorageIntegration.objects.get(pk=world.ids["integration"])
    integration.endpoint_url = "http://storage.rebind.example:9000"
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    ok, reason = cloud.check_access(integration)
    assert not ok and "assume the role" in reason
    assert connected and set(connected) == {"93.184.216.34"}  # never the name, never the rebound address
    with pinned_dns.pinned(url_safety.Target(scheme="http", host="other.example", port=80, path="/")):
        pass  # no addresses: nothing pinned, nothing raised
