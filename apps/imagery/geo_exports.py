"""GeoJSON export of a project's labels on georeferenced rows and the area filter over georeferenced rows.

Labels stay in pixel space; here each object becomes a GeoJSON feature in WGS 84 through its row's transform and
CRS, with the ontology's class and answers as properties (RFC 7946: [longitude, latitude])."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from apps.accounts.models import User
from apps.core.audit import audit_record
from apps.core.errors import ValidationFailed
from apps.imagery.domain.geo import annotation_geometry, intersects
from apps.imagery.models import ImagingAsset
from apps.labeling.models import Project
from apps.labeling.selectors import labels_of_project

MAX_AREA_ROWS = 10_000


def parse_bbox(raw: str | None) -> tuple[float, float, float, float]:
    """`min_lon,min_lat,max_lon,max_lat` in WGS 84 degrees."""
    try:
        values = [float(v) for v in (raw or "").split(",")]
    except ValueError:
        values = []
    if len(values) != 4 or any(v != v for v in values):
        raise ValidationFailed(
            "bbox is min_lon,min_lat,max_lon,max_lat in degrees.", details={"bbox": ["Four numbers."]}
        )
    min_lon, min_lat, max_lon, max_lat = values
    if not (-180 <= min_lon <= max_lon <= 180 and -90 <= min_lat <= max_lat <= 90):
        raise ValidationFailed(
            "bbox needs -180 ≤ min_lon ≤ max_lon ≤ 180 and -90 ≤ min_lat ≤ max_lat ≤ 90.",
            details={"bbox": ["Out of range."]},
        )
    return min_lon, min_lat, max_lon, max_lat


def rows_in_area(
    *, organization_id: Any, area: tuple[float, float, float, float], dataset_id: Any = None
) -> list[dict]:
    """Georeferenced rows whose footprint intersects the area: the bounds columns narrow in SQL, shapely decides."""
    min_lon, min_lat, max_lon, max_lat = area
    candidates = ImagingAsset.objects.filter(
        organization_id=organization_id,
        footprint__isnull=False,
        min_lon__lte=max_lon,
        max_lon__gte=min_lon,
        min_lat__lte=max_lat,
        max_lat__gte=min_lat,
    ).select_related("data_row")
    if dataset_id is not None:
        candidates = candidates.filter(data_row__dataset_id=dataset_id)
    out = []
    for asset in candidates.order_by("data_row_id")[: MAX_AREA_ROWS + 1]:
        if asset.footprint and intersects(asset.footprint, area):
            row = asset.data_row
            out.append(
                {
                    "id": str(row.pk),
                    "global_key": row.global_key,
                    "dataset": str(row.dataset_id),
                    "crs": asset.crs,
                    "bounds_wgs84": [asset.min_lon, asset.min_lat, asset.max_lon, asset.max_lat],
                }
            )
    return out


def _answers(annotation: dict[str, Any]) -> list[Any]:
    return list(annotation.get("classifications") or [])


def geojson_features(*, actor: User, project: Project) -> Iterator[dict[str, Any]]:
    """One feature per object of every current label on a georeferenced row of the project."""
    labels = labels_of_project(actor=actor, project=project).filter(data_row__imaging__geo_transform__isnull=False)
    assets: dict[Any, ImagingAsset] = {}
    for label in labels.order_by("data_row_id", "id").iterator(chunk_size=500):
        asset = assets.get(label.data_row_id)
        if asset is None:
            asset = assets[label.data_row_id] = ImagingAsset.objects.get(data_row_id=label.data_row_id)
        transform = tuple(asset.geo_transform or ())
        answers = [a for a in label.annotations if "answer" in a]
        for index, annotation in enumerate(label.annotations):
            geometry = annotation_geometry(annotation, transform, asset.crs)  # type: ignore[arg-type]
            if geometry is None:
                continue
            yield {
                "type": "Feature",
                "geometry": geometry,
                "properties": {
                    "data_row": str(label.data_row_id),
                    "global_key": label.data_row.global_key,
                    "label": str(label.pk),
                    "labeler": label.labeler.username if label.labeler_id else None,
                    "index": index,
                    "schema_id": annotation.get("schema_id"),
                    "name": annotation.get("name"),
                    "classifications": _answers(annotation),
                    "label_classifications": answers,
                    "crs_source": asset.crs,
                },
            }


def geojson_export(*, actor: User, project: Project) -> Iterator[bytes]:
    """Audit the export, then stream the FeatureCollection."""
    audit_record(
        action="export.created",
        actor=actor,
        organization_id=project.organization_id,
        target=project,
        extra={"format": "geojson", "stream": True},
    )
    return _stream(actor=actor, project=project)


def _stream(*, actor: User, project: Project) -> Iterator[bytes]:
    yield b'{"type":"FeatureCollection","features":['
    first = True
    for feature in geojson_features(actor=actor, project=project):
        yield (b"" if first else b",") + json.dumps(feature, separators=(",", ":")).encode()
        first = False
    yield b"]}\n"
