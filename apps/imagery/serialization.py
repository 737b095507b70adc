"""The JSON shape of a row's imaging details, shared by the API and the export section."""

from __future__ import annotations

from typing import Any

from apps.imagery.models import AssetKind, ImagingAsset


def asset_json(asset: ImagingAsset) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": asset.kind, "width": asset.width, "height": asset.height}
    if asset.kind == AssetKind.DICOM:
        out["dicom"] = {
            "series_uid": asset.series_uid,
            "slice": asset.slice_index,
            "slice_count": asset.slice_count,
            "pixel_spacing_mm": asset.pixel_spacing,
            "modality": asset.dicom.get("modality", ""),
            "frame": asset.dicom.get("frame", 0),
            "windows": asset.dicom.get("windows", []),
        }
    if asset.tile_status != "none":
        out["tiles"] = {"status": asset.tile_status, "tile_size": asset.tile_size, "format": "dzi"}
    if asset.geo_transform is not None:
        out["geo"] = {
            "crs": asset.crs,
            "transform": asset.geo_transform,
            "bounds_wgs84": [asset.min_lon, asset.min_lat, asset.max_lon, asset.max_lat],
        }
    if asset.kind == AssetKind.XYZ:  # the URL template stays server-side (it may hold the service's key)
        out["xyz"] = {
            "min_zoom": asset.min_zoom,
            "max_zoom": asset.max_zoom,
            "tms": asset.tms,
            "tile_size": asset.tile_size,
        }
    return out
