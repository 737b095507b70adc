"""Uploads of HTML/SVG/script disguised as images are never served as active content: the type comes from the
file's magic bytes, anything that is not a raster image is an `application/octet-stream` attachment, and every
answer carries `nosniff` and a sandboxing CSP."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.datasets.models import DataRow
from tests.security.world import PNG

pytestmark = pytest.mark.django_db

HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>'
XML = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(3)</script></svg>'
JS = b"alert(document.domain)//"
# A real GIF header followed by markup: served as an image (nosniff keeps browsers from reading it as HTML).
GIF_POLYGLOT = b"GIF89a/*\x01\x00\x01\x00\x00\x00\x00*/=1;<script>alert(4)</script>"

ACTIVE_TYPES = ("text/html", "image/svg+xml", "application/xhtml+xml", "text/xml", "application/xml", "javascript")


def upload(client, world, name: str, content: bytes, claimed_type: str):
    response = client.post(
        f"/api/v1/datasets/{world.dataset.pk}/uploads",
        {"files": [SimpleUploadedFile(name, content, content_type=claimed_type)]},
        format="multipart",
    )
    assert response.status_code in (200, 201), response.content
    return DataRow.objects.filter(dataset=world.dataset).order_by("-created_at").first()


@pytest.mark.parametrize(
    ("name", "content", "claimed_type"),
    [
        ("photo.png", HTML, "image/png"),
        ("photo.jpg", SVG, "image/jpeg"),
        ("logo.svg", SVG, "image/svg+xml"),
        ("page.html", HTML, "text/html"),
        ("feed.png", XML, "image/png"),
        ("script.gif", JS, "image/gif"),
        ("x.png.html", HTML, "image/png"),
        ('evil"; filename="x.html', HTML, "image/png"),
    ],
)
def test_disguised_markup_is_an_inert_download(world, client_for, name, content, claimed_type):
    client = client_for(world.admin)
    row = upload(client, world, name, content, claimed_type)
    response = client.get(f"/api/v1/data_rows/{row.pk}/content")
    assert response.status_code == 200
    content_type = response["Content-Type"]
    assert content_type == "application/octet-stream", content_type
    assert not any(active in content_type for active in ACTIVE_TYPES)
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Content-Disposition"].count('"') == 2, "the filename cannot break out of its quotes"
    assert "sandbox" in response["Content-Security-Policy"]


def test_a_gif_polyglot_is_only_ever_an_image(world, client_for):
    client = client_for(world.admin)
    row = upload(client, world, "poly.gif", GIF_POLYGLOT, "text/html")
    response = client.get(f"/api/v1/data_rows/{row.pk}/content")
    assert response["Content-Type"] == "image/gif"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]


def test_real_images_are_served_inline_with_the_same_protections(world, client_for):
    client = client_for(world.admin)
    row = upload(client, world, "pixel.html", PNG, "text/html")  # the name and claimed type do not matter
    response = client.get(f"/api/v1/data_rows/{row.pk}/content")
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("inline;")
    assert response["X-Content-Type-Options"] == "nosniff"
