"""The `imaging` export section built by PostgreSQL inside the NDJSON page query (same JSON as
`serialization.asset_json`, which the Python path and the API use), so an SQL-built page stays one query."""

from __future__ import annotations

from apps.exports.sql import SqlSection, _in_page
from apps.imagery.models import ImagingAsset

_TABLE = ImagingAsset._meta.db_table

_DOC = """jsonb_build_object('kind', a.kind, 'width', a.width, 'height', a.height)
  || CASE WHEN a.kind = 'dicom' THEN jsonb_build_object('dicom', jsonb_build_object(
       'series_uid', a.series_uid, 'slice', a.slice_index, 'slice_count', a.slice_count,
       'pixel_spacing_mm', a.pixel_spacing, 'modality', coalesce(a.dicom->'modality', '""'::jsonb),
       'frame', coalesce(a.dicom->'frame', '0'::jsonb), 'windows', coalesce(a.dicom->'windows', '[]'::jsonb)))
     ELSE '{}'::jsonb END
  || CASE WHEN a.tile_status <> 'none' THEN jsonb_build_object('tiles', jsonb_build_object(
       'status', a.tile_status, 'tile_size', a.tile_size, 'format', 'dzi')) ELSE '{}'::jsonb END
  || CASE WHEN a.geo_transform IS NOT NULL THEN jsonb_build_object('geo', jsonb_build_object(
       'crs', a.crs, 'transform', a.geo_transform,
       'bounds_wgs84', jsonb_build_array(a.min_lon, a.min_lat, a.max_lon, a.max_lat))) ELSE '{}'::jsonb END
  || CASE WHEN a.kind = 'xyz' THEN jsonb_build_object('xyz', jsonb_build_object(
       'min_zoom', a.min_zoom, 'max_zoom', a.max_zoom, 'tms', a.tms, 'tile_size', a.tile_size)) ELSE '{}'::jsonb END"""

IMAGING_SECTION = SqlSection(
    ctes=f"imaging AS (SELECT a.data_row_id, ({_DOC})::text AS doc FROM {_TABLE} a WHERE "  # noqa: S608 - constants
    + _in_page("a.data_row_id")
    + ")",
    joins="LEFT JOIN imaging img ON img.data_row_id = p.id",
    value="coalesce(img.doc, 'null')",
)
