"""Reads of the imagery app, limited to what the caller may see."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from apps.imagery.models import ImagingAsset
from apps.imagery.serialization import asset_json


def assets_by_row(organization_id: Any, data_row_ids: Sequence[str]) -> dict[str, ImagingAsset]:
    found = ImagingAsset.objects.filter(organization_id=organization_id, data_row_id__in=list(data_row_ids))
    return {str(a.data_row_id): a for a in found}


def asset_for_row(organization_id: Any, data_row_id: Any) -> ImagingAsset | None:
    return ImagingAsset.objects.filter(organization_id=organization_id, data_row_id=data_row_id).first()


def export_section(project: Any, data_row_ids: Sequence[str]) -> dict[str, Any]:
    """The `imaging` key of each NDJSON export line: series, slice and pixel spacing of DICOM rows, tiles, geo."""
    return {key: asset_json(a) for key, a in assets_by_row(project.organization_id, data_row_ids).items()}
