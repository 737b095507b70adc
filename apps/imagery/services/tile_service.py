"""Tile-service rows (XYZ/TMS): create one from a URL template, bounds and zoom range, and serve its tiles.

Every contact with the service goes through the SSRF guard (`apps.core.url_safety.safe_fetch`): the browser never
loads a third-party URL (the editor asks `/api/v1/data_rows/<id>/xyz/<z>/<x>/<y>`, which fetches only tiles of the
row's bounds and zoom range, and checks they are images). Creating the row fetches the tiles of one preview zoom
(at most 2 × 2) to build its thumbnail, which also proves the template answers. The row is an ordinary image row
(the thumbnail as content, width/height the pixel size at `max_zoom`), georeferenced in EPSG:3857 like a GeoTIFF,
so labels, GeoJSON export and the area filter use the GeoTIFF code path.
"""

from __future__ import annotations

import io
import uuid
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from PIL import Image

from apps.accounts.models import User
from apps.core.audit import audit_record
from apps.core.errors import ApplicationError, NotFound, ValidationFailed
from apps.core.ids import uuid7
from apps.core.url_safety import FetchFailed, UnsafeURL, safe_fetch
from apps.datasets.domain.rows import CleanRow
from apps.datasets.http_content import sniff_image_type
from apps.datasets.importer import ImportReport, RowWriter
from apps.datasets.models import Dataset, MediaType
from apps.imagery.domain.geo import Georeference
from apps.imagery.domain.xyz import TileService, XyzError, check_service, lat_to_py, lon_to_px, preview_zoom
from apps.imagery.models import AssetKind, ImagingAsset
from apps.imagery.services.tiles import geo_fields

THUMBNAIL = 256
MAX_TILE_BYTES = 4 * 1024 * 1024


class TileServiceFailed(ApplicationError):
    status_code = 502
    code = "tile_service_failed"
    default_message = "The tile service did not return an image."


def fetch_tile(service: TileService, zoom: int, x: int, y: int) -> tuple[bytes, str]:
    """One tile's bytes and content type, through the SSRF guard. UnsafeURL (400) for a refused host."""
    url = service.url(zoom, x, y)
    try:
        result = safe_fetch(
            url, max_bytes=MAX_TILE_BYTES, timeout=float(getattr(settings, "TDP_TILE_FETCH_SECONDS", 10))
        )
    except UnsafeURL:
        raise
    except FetchFailed as exc:
        raise TileServiceFailed(f"Tile {zoom}/{x}/{y}: {exc.message}") from None
    if result.status != 200:
        raise TileServiceFailed(f"Tile {zoom}/{x}/{y}: the service answered HTTP {result.status}.")
    content_type = sniff_image_type(result.body[:32])
    if content_type is None:
        raise TileServiceFailed(f"Tile {zoom}/{x}/{y} is not a PNG, JPEG or WebP image.")
    return result.body, content_type


def thumbnail(service: TileService) -> bytes:
    """The bounds at the preview zoom (≤ 2 × 2 tiles), cropped and scaled to ≤ 256 px, as PNG."""
    zoom = preview_zoom(service)
    x0, y0, x1, y1 = service.tile_range(zoom)
    size = service.tile_size
    canvas = Image.new("RGB", ((x1 - x0 + 1) * size, (y1 - y0 + 1) * size), (128, 128, 128))
    for x in range(x0, x1 + 1):
        for y in range(y0, y1 + 1):
            body, _type = fetch_tile(service, zoom, x, y)
            try:
                with Image.open(io.BytesIO(body)) as tile:
                    canvas.paste(tile.convert("RGB").resize((size, size)), ((x - x0) * size, (y - y0) * size))
            except (OSError, ValueError, Image.DecompressionBombError):
                raise TileServiceFailed(f"Tile {zoom}/{x}/{y} cannot be decoded.") from None
    min_lon, min_lat, max_lon, max_lat = service.bounds
    left = lon_to_px(min_lon, zoom, size) - x0 * size
    top = lat_to_py(max_lat, zoom, size) - y0 * size
    right = lon_to_px(max_lon, zoom, size) - x0 * size
    bottom = lat_to_py(min_lat, zoom, size) - y0 * size
    crop = canvas.crop((int(left), int(top), max(int(right), int(left) + 1), max(int(bottom), int(top) + 1)))
    width, height = service.size
    scale = min(THUMBNAIL / width, THUMBNAIL / height, 1.0)
    crop = crop.resize((max(1, round(width * scale)), max(1, round(height * scale))))
    out = io.BytesIO()
    crop.save(out, format="PNG")
    return out.getvalue()


def service_of(asset: ImagingAsset) -> TileService:
    return TileService(
        asset.url_template,
        (float(asset.min_lon or 0), float(asset.min_lat or 0), float(asset.max_lon or 0), float(asset.max_lat or 0)),
        int(asset.min_zoom or 0),
        int(asset.max_zoom or 0),
        asset.tms,
        asset.tile_size,
    )


@transaction.atomic
def tile_service_create(*, actor: User, dataset: Dataset, data: dict[str, Any]) -> dict[str, Any]:
    """Validate, fetch the preview through the SSRF guard, and write the row with its imaging details."""
    try:
        service = check_service(
            data.get("url_template"),
            data.get("bounds"),
            data.get("min_zoom"),
            data.get("max_zoom"),
            data.get("tms", False),
            data.get("tile_size", 256),
        )
    except XyzError as exc:
        raise ValidationFailed(exc.message, details={exc.field: [exc.message]}) from None
    preview = thumbnail(service)
    folder = f"uploads/{dataset.organization_id}/{uuid7()}"
    stored = default_storage.save(f"{folder}/tile-service.png", ContentFile(preview))
    width, height = service.size
    report = ImportReport(keep_rows=True)
    key = str(data["global_key"])
    row = CleanRow(
        0, key, str(data.get("external_id") or ""), f"upload://{stored}", MediaType.IMAGE, width, height, {}, []
    )
    RowWriter(dataset, report).write([row])
    if not report.data_rows:
        default_storage.delete(stored)
        raise ValidationFailed("The row could not be written.", details={"rows": report.as_dict().get("errors", [])})
    row_id = str(uuid.UUID(report.data_rows[0]["id"]))
    georeference = Georeference(transform=service.transform(), crs="EPSG:3857", width=width, height=height)
    ImagingAsset.objects.filter(data_row_id=uuid.UUID(row_id)).delete()
    ImagingAsset.objects.create(
        organization_id=dataset.organization_id,
        data_row_id=row_id,
        kind=AssetKind.XYZ,
        width=width,
        height=height,
        source_name=stored,
        tile_size=service.tile_size,
        url_template=service.template,
        min_zoom=service.min_zoom,
        max_zoom=service.max_zoom,
        tms=service.tms,
        **geo_fields(georeference),
    )
    # the area filter and the viewer use the bounds as given (the pixel rectangle is a fraction of a pixel larger)
    ImagingAsset.objects.filter(data_row_id=uuid.UUID(row_id)).update(
        min_lon=service.bounds[0], min_lat=service.bounds[1], max_lon=service.bounds[2], max_lat=service.bounds[3]
    )
    audit_record(
        action="tile_service.created",
        actor=actor,
        organization=dataset.organization,
        target=dataset,
        extra={"data_row": row_id, "max_zoom": service.max_zoom, "created": report.created},
    )
    result = report.as_dict()
    result["data_row"] = row_id
    result["width"], result["height"] = width, height
    return result


def xyz_tile(asset: ImagingAsset, zoom: int, x: int, y: int) -> tuple[bytes, str]:
    """A tile of the row's service, only inside its bounds and zoom range (404 elsewhere)."""
    if asset.kind != AssetKind.XYZ:
        raise NotFound("This row is not a tile service.", code="not_tile_service")
    service = service_of(asset)
    if not service.covers(zoom, x, y):
        raise NotFound("This tile is outside the row's bounds or zoom range.", code="no_tile")
    return fetch_tile(service, zoom, x, y)
