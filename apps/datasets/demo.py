"""Demo content: the street-scene dataset, drawn locally with Pillow (no network), with typed metadata. Idempotent.

Scene `i` is `demo_scenes.scene_spec(i)`: later demo loaders rebuild each row's exact ground truth from its global
key (`street-0042`), so nothing here needs to remember what was drawn."""

from __future__ import annotations

import io
import json
from concurrent.futures import ThreadPoolExecutor

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from apps.accounts.models import Organization, User
from apps.accounts.roles import OrgRole
from apps.datasets import services
from apps.datasets.demo_scenes import HEIGHT, SENSORS, STREETS, WIDTH, Scene, render, scene_spec
from apps.datasets.models import Dataset, MetadataField

DEMO_DATASET = "Street scenes"
SCENES = 320  # tests may lower it (monkeypatch) to load a smaller demo
FIELDS: list[tuple[str, str, list[str] | None]] = [
    ("sensor", "enum", list(SENSORS)),
    ("street", "string", None),
    ("captured_at", "datetime", None),
    ("time_of_day", "enum", ["day", "dusk", "night"]),
    ("weather", "enum", ["sunny", "overcast", "rain"]),
    ("objects", "number", None),
]


def _jpeg(scene: Scene) -> bytes:
    out = io.BytesIO()
    render(scene).save(out, "JPEG", quality=85)
    return out.getvalue()


def load(organization: Organization) -> None:
    actor = User.objects.filter(organization=organization, role=OrgRole.ADMIN, is_active=True).first()
    if actor is None or Dataset.objects.filter(organization=organization, name=DEMO_DATASET).exists():
        return
    for name, kind, options in FIELDS:
        if not MetadataField.objects.filter(organization=organization, name=name).exists():
            services.metadata_field_create(actor=actor, name=name, kind=kind, options=options)
    dataset = services.dataset_create(
        actor=actor,
        name=DEMO_DATASET,
        description="Street scenes from four kerbside cameras (drawn for the demo); east-cam has a smudged lens.",
    )
    scenes = [scene_spec(i) for i in range(SCENES)]
    with ThreadPoolExecutor(max_workers=2) as pool:  # Pillow releases the GIL while encoding
        images = list(pool.map(_jpeg, scenes))
    rows = []
    for scene, blob in zip(scenes, images, strict=True):
        stored = default_storage.save(f"uploads/{organization.pk}/demo/{scene.global_key}.jpg", ContentFile(blob))
        rows.append(
            {
                "global_key": scene.global_key,
                "external_id": f"{scene.sensor}/{scene.captured_at:%Y%m%dT%H%M}.jpg",
                "row_data": f"upload://{stored}",
                "media_type": "image",
                "width": WIDTH,
                "height": HEIGHT,
                "metadata": {
                    "sensor": scene.sensor,
                    "street": STREETS[scene.sensor],
                    "captured_at": scene.captured_at.isoformat(),
                    "time_of_day": scene.time_of_day,
                    "weather": scene.weather,
                    "objects": len(scene.things),
                    "split": scene.split,
                },
            }
        )
    body = "\n".join(json.dumps(r) for r in rows).encode()
    result = services.data_rows_import(actor=actor, dataset=dataset, fmt="ndjson", chunks=[body])
    if result["failed"]:
        raise RuntimeError(f"demo rows failed to import: {result['errors'][:3]}")
