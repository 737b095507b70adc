"""apps.core.url_safety against local test servers only: loopback, private, link-local, metadata, redirects."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from apps.core.url_safety import FetchFailed, UnsafeURL, is_public_address, safe_fetch, validate_outbound_url


class Handler(BaseHTTPRequestHandler):
    redirect_to = ""

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        if self.path.startswith("/redirect"):
            self.send_response(302)
            self.send_header("Location", self.server.redirect_to)  # type: ignore[attr-defined]
            self.end_headers()
        elif self.path == "/big":
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"x" * 100_000)
        elif self.path == "/slow":
            self.send_response(200)
            self.end_headers()
            for _ in range(30):
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(0.1)
        else:
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(f"hello from {self.headers['Host']}".encode())


@pytest.fixture
def server() -> Iterator[ThreadingHTTPServer]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.redirect_to = ""  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def base(server: ThreadingHTTPServer) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


def test_loopback_is_refused_without_allowlist(server, settings):
    settings.TDP_OUTBOUND_ALLOWED_HOSTS = []
    with pytest.raises(UnsafeURL) as error:
        safe_fetch(base(server) + "/")
    assert "non-public" in error.value.message


def test_localhost_name_is_refused(server, settings):
    settings.TDP_OUTBOUND_ALLOWED_HOSTS = []
    with pytest.raises(UnsafeURL):
        safe_fetch(f"http://localhost:{server.server_address[1]}/")


def test_allowlisted_host_port_is_fetched(server, settings):
    settings.TDP_OUTBOUND_ALLOWED_HOSTS = [f"127.0.0.1:{server.server_address[1]}"]
    result = safe_fetch(base(server) + "/hello")
    assert result.status == 200
    assert result.body == f"hello from 127.0.0.1:{server.server_address[1]}".encode()


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/latest/meta-data/",
        "http://10.0.0.5/",
        "http://192.168.1.1/",
        "http://172.16.0.1/",
        "http://100.64.0.1/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://0.0.0.0/",
        "http://224.0.0.1/",
        "http://[fe80::1]/",
        "http://2130706433/",
        "http://0x7f000001/",
    ],
)
def test_private_link_local_metadata_addresses_are_refused(url, settings):
    settings.TDP_OUTBOUND_ALLOWED_HOSTS = []
    with pytest.raises(UnsafeURL):
        safe_fetch(url, timeout=2)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "gopher://x/", "ftp://example.com/", "http://", "http:///x"])
def test_bad_schemes_and_urls_are_refused(url):
    with pytest.raises(UnsafeURL):
        validate_outbound_url(url)


def test_credentials_in_url_are_refused():
    with pytest.raises(UnsafeURL):
        validate_outbound_url("http://user:pw@93.184.216.34/")


def test_redirect_to_private_address_is_refused(server, settings):
    settings.TDP_OUTBOUND_ALLOWED_HOSTS = [f"127.0.0.1:{server.server_address[1]}"]
    server.redirect_to = "http://169.254.169.254/latest/meta-data/"  # type: ignore[attr-defined]
    with pytest.raises(UnsafeURL):
        safe_fetch(base(server) + "/redirect")


def test_redirect_to_another_loopback_port_is_refused(server, settings):
    port = server.server_address[1]
    settings.TDP_OUTBOUND_ALLOWED_HOSTS = [f"127.0.0.1:{port}"]
    server.redirect_to = f"http://127.0.0.1:{port + 1 if port < 65535 else port - 1}/"  # type: ignore[attr-defined]
    with pytest.raises(UnsafeURL):
        safe_fetch(base(server) + "/redirect")


def test_redirect_within_allowed_host_is_followed(server, settings):
    settings.TDP_OUTBOUND_ALLOWED_HOSTS = [f"127.0.0.1:{server.server_address[1]}"]
    server.redirect_to = "/final"  # type: ignore[attr-defined]
    result = safe_fetch(base(server) + "/redirect")
    assert result.status == 200 and result.url.endswith("/final")


def test_redirect_loops_are_capped(server, settings):
    settings.TDP_OUTBOUND_ALLOWED_HOSTS = [f"127.0.0.1:{server.server_address[1]}"]
    server.redirect_to = "/redirect-again"  # type: ignore[attr-defined]
    with pytest.raises(FetchFailed) as error:
        safe_fetch(base(server) + "/redirect", max_redirects=3)
    assert error.value.code == "too_many_redirects"


def test_size_is_capped(server, settings):
    settings.TDP_OUTBOUND_ALLOWED_HOSTS = [f"127.0.0.1:{server.server_address[1]}"]
    with pytest.raises(FetchFailed) as error:
        safe_fetch(base(server) + "/big", max_bytes=10_000)
    assert error.value.code == "fetch_too_large"


def test_time_is_capped(server, settings):
    settings.TDP_OUTBOUND_ALLOWED_HOSTS = [f"127.0.0.1:{server.server_address[1]}"]
    started = time.monotonic()
    with pytest.raises(FetchFailed):
        safe_fetch(base(server) + "/slow", timeout=0.5)
    assert time.monotonic() - started < 2.5


def test_public_address_classification():
    import ipaddress

    assert is_public_address(ipaddress.ip_address("93.184.216.34"))
    assert is_public_address(ipaddress.ip_address("2606:4700::1111"))
    for private in ("127.0.0.1", "10.1.2.3", "169.254.169.254", "fd00:ec2::254", "::ffff:10.0.0.1", "100.100.100.200"):
        assert not is_public_address(ipaddress.ip_address(private)), private
