"""Demo content: a small dataset with inline-text rows and locally generated images. Idempotent, no network."""

from __future__ import annotations

import json
import struct
import zlib

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from apps.accounts.models import Organization, User
from apps.accounts.roles import OrgRole
from apps.datasets import services
from apps.datasets.models import Dataset, MetadataField

DEMO_DATASET = "Demo dataset"
TEXTS = [
    "The ambulance turned left at the second light.",
    "Police cars were parked along Main Street.",
    "A cyclist waited at the crossing in the rain.",
]
COLORS = [(220, 40, 40), (40, 160, 60), (40, 80, 220)]


def _png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


def load(organization: Organization) -> None:
    actor = User.objects.filter(organization=organization, role=OrgRole.ADMIN, is_active=True).first()
    if actor is None or Dataset.objects.filter(organization=organization, name=DEMO_DATASET).exists():
        return
    if not MetadataField.objects.filter(organization=organization, name="source").exists():
        services.metadata_field_create(actor=actor, name="source", kind="string")
    dataset = services.dataset_create(actor=actor, name=DEMO_DATASET, description="Generated images and short texts.")
    rows = []
    for i, rgb in enumerate(COLORS):
        name = default_storage.save(f"uploads/{organization.pk}/demo/square-{i}.png", ContentFile(_png(64, 48, rgb)))
        rows.append(
            {
                "global_key": f"demo-image-{i}",
                "row_data": f"upload://{name}",
                "media_type": "image",
                "width": 64,
                "height": 48,
                "metadata": {"source": "generated", "split": ["train", "valid", "test"][i]},
            }
        )
    for i, text in enumerate(TEXTS):
        rows.append(
            {
                "global_key": f"demo-text-{i}",
                "row_data": text,
                "media_type": "text",
                "metadata": {"source": "demo", "tag": ["sentence"]},
            }
        )
    body = "\n".join(json.dumps(r) for r in rows).encode()
    services.data_rows_import(actor=actor, dataset=dataset, fmt="ndjson", chunks=[body])
