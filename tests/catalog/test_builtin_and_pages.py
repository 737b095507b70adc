"""The built-in image embedder (PNG decoding, features, job, demo) and the server-rendered catalog pages."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from apps.catalog import demo as catalog_demo
from apps.catalog.domain.image_features import DIMS, ImageError, decode_png, image_features
from apps.catalog.embedder import BUILTIN_KEY
from apps.catalog.models import EmbeddingSpace, EmbeddingVector, SpaceAnalysis
from apps.datasets import demo as datasets_demo
from tests.catalog.conftest import import_rows


def png(pixels: np.ndarray, filters: list[int] | None = None) -> bytes:
    """Encode an (h, w, 3) uint8 image as PNG, with the given filter type per line (0 none, 1 sub, 2 up, 4 paeth)."""
    h, w, _ = pixels.shape
    raw = b""
    prev = np.zeros(w * 3, dtype=np.int32)
    for y in range(h):
        line = pixels[y].reshape(-1).astype(np.int32)
        kind = (filters or [0])[y % len(filters or [0])]
        if kind == 0:
            out = line
        elif kind == 1:
            left = np.concatenate([np.zeros(3, dtype=np.int32), line[:-3]])
            out = (line - left) & 0xFF
        elif kind == 2:
            out = (line - prev) & 0xFF
        else:  # paeth
            out = np.zeros_like(line)
            for x in range(w * 3):
                a = int(line[x - 3]) if x >= 3 else 0
                b = int(prev[x])
                c = int(prev[x - 3]) if x >= 3 else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                out[x] = (int(line[x]) - pred) & 0xFF
        raw += bytes([kind]) + bytes(out.astype(np.uint8))
        prev = line

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def test_png_decoder_reverses_every_filter_type():
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (6, 5, 3), dtype=np.uint8)
    for filters in ([0], [1], [2], [4], [0, 1, 2, 4]):
        assert np.array_equal(decode_png(png(pixels, filters)), pixels), filters
    with pytest.raises(ImageError):
        decode_png(b"GIF89a...")


def test_colour_features_put_same_colours_together():
    red = np.zeros((20, 20, 3), dtype=np.uint8)
    red[:, :, 0] = 220
    redder = red.copy()
    redder[:, :, 0] = 240
    blue = np.zeros((20, 20, 3), dtype=np.uint8)
    blue[:, :, 2] = 220
    f_red, f_redder, f_blue = (image_features(x) for x in (red, redder, blue))
    assert f_red.shape == (DIMS,)

    def cos(a, b):
        return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))

    assert cos(f_red, f_redder) > 0.99 > cos(f_red, f_blue)


@pytest.mark.django_db
def test_builtin_embedding_job_embeds_uploaded_images(
    manager, manager_client, labeler_client, dataset, django_capture_on_commit_callbacks, settings, tmp_path
):
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
    settings.MEDIA_ROOT = str(tmp_path)
    rows = []
    for i, color in enumerate([(250, 0, 0), (240, 10, 0), (0, 0, 250)]):
        pixels = np.zeros((8, 8, 3), dtype=np.uint8)
        pixels[:, :] = color
        name = default_storage.save(f"uploads/{manager.organization_id}/t/{i}.png", ContentFile(png(pixels, [1, 4])))
        rows.append({"global_key": f"img-{i}", "row_data": f"upload://{name}", "media_type": "image"})
    rows.append({"global_key": "txt", "row_data": "hello", "media_type": "text"})
    garbage = default_storage.save(f"uploads/{manager.organization_id}/t/bad.png", ContentFile(b"not an image"))
    rows.append({"global_key": "bad", "row_data": f"upload://{garbage}", "media_type": "image"})
    created = import_rows(manager, dataset, rows)
    assert labeler_client.post(f"/api/v1/datasets/{dataset.id}/embed").status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.post(f"/api/v1/datasets/{dataset.id}/embed")
    assert response.status_code == 202
    job = manager_client.get(f"/api/v1/jobs/{response.json()['job']}").json()
    assert job["status"] == "succeeded", job
    assert (job["result"]["stored"], job["result"]["failed"], job["result"]["skipped"]) == (3, 1, 1)
    space = EmbeddingSpace.objects.get(builtin=BUILTIN_KEY)
    similar = labeler_client.get(
        f"/api/v1/datasets/{dataset.id}/similar", {"embedding": str(space.id), "data_row": str(created[0].id), "k": 1}
    ).json()
    assert similar["results"][0]["data_row"]["global_key"] == "img-1"  # the other red one


@pytest.mark.django_db
def test_demo_loader_embeds_the_demo_images_once(org, settings, tmp_path, monkeypatch):
    monkeypatch.setattr(datasets_demo, "SCENES", 5)  # the demo's street scenes, fewer of them
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
    settings.MEDIA_ROOT = str(tmp_path)
    datasets_demo.load(org)
    catalog_demo.load(org)
    catalog_demo.load(org)
    space = EmbeddingSpace.objects.get(organization=org, builtin=BUILTIN_KEY)
    assert EmbeddingVector.objects.filter(space=space).count() == 5  # every image once, though loaded twice
    assert SpaceAnalysis.objects.filter(space=space).count() == 1


@pytest.mark.django_db
def test_catalog_pages_render_for_members_and_hide_other_orgs(client, users_by_role, other_admin, dataset, space):
    client.force_login(users_by_role["labeler"])
    home = client.get("/catalog/")
    assert home.status_code == 200 and "street scenes" in home.content.decode()
    page = client.get(f"/catalog/datasets/{dataset.id}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="scatter"' in html and "Compute map" not in html  # a labeler reads, does not start jobs
    assert "Create a batch in a project" in html  # labeling is installed: selections can become batches
    client.force_login(other_admin)
    assert client.get(f"/catalog/datasets/{dataset.id}/").status_code == 404
    client.logout()
    assert client.get("/catalog/").status_code == 302


@pytest.mark.django_db
def test_lineage_page_escapes_untrusted_values(client, manager, dataset):
    row = import_rows(manager, dataset, [{"global_key": "<script>x</script>", "row_data": "t", "media_type": "text"}])[
        0
    ]
    client.force_login(manager)
    response = client.get(f"/catalog/rows/{row.id}/lineage/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<script>x</script>" not in html and "&lt;script&gt;" in html
