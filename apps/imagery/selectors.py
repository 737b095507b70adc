"""Reads of the imagery app, limited to what the caller may see."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError as DjangoValidationError

from apps.core.errors import NotFound
from apps.core.json_sql import IdsParam
from apps.imagery.domain.deepzoom import tile_exists
from apps.imagery.models import ImagingAsset, TileStatus
from apps.imagery.serialization import asset_json

if TYPE_CHECKING:
    from apps.accounts.models import User


def assets_by_row(organization_id: Any, data_row_ids: Sequence[str]) -> dict[str, ImagingAsset]:
    found = ImagingAsset.objects.filter(organization_id=organization_id, data_row_id__in=IdsParam(data_row_ids))
    return {str(a.data_row_id): a for a in found}


def asset_for_row(organization_id: Any, data_row_id: Any) -> ImagingAsset | None:
    return ImagingAsset.objects.filter(organization_id=organization_id, data_row_id=data_row_id).first()


def export_section(project: Any, data_row_ids: Sequence[str]) -> dict[str, Any]:
    """The `imaging` key of each NDJSON export line: series, slice and pixel spacing of DICOM rows, tiles, geo."""
    return {key: asset_json(a) for key, a in assets_by_row(project.organization_id, data_row_ids).items()}


def tile_name(actor: User, data_row_id: str, level: int, col: int, row: int) -> str:
    """The storage name of one tile of a row the actor may see (404 for another organization, no pyramid, or a tile
    outside the pyramid). One query: tiles are requested by the dozen while zooming."""
    if not actor.is_authenticated or (actor.organization_id is None and not actor.is_superuser):
        raise NotFound()
    found = ImagingAsset.objects.filter(data_row__pk=data_row_id)
    if not actor.is_superuser:
        found = found.filter(organization__pk=actor.organization_id or "")
    try:
        asset = found.only("width", "height", "tile_size", "tiles_prefix", "tile_status").get()
    except (ImagingAsset.DoesNotExist, DjangoValidationError, ValueError):
        raise NotFound() from None
    if asset.tile_status != TileStatus.READY or not tile_exists(
        asset.width, asset.height, asset.tile_size, level, col, row
    ):
        raise NotFound("No such tile.", code="no_tile")
    return f"{asset.tiles_prefix}/{level}/{col}_{row}.jpeg"
