"""Media beyond plain images: video rows (probe, poster, strip, the file), large images (Deep Zoom tiles), DICOM
studies (de-identified on import), georeferenced rows (area search, GeoJSON export) and video exports."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from tdp_sdk._http import route
from tdp_sdk.resources._base import Resource, body, upload, write_stream

PathLike = str | os.PathLike[str]


class Media(Resource):
    # -- video rows ---------------------------------------------------------------------------------------------

    @route("GET", "/data_rows/{data_row_id}/video")
    def video(self, data_row_id: str) -> dict[str, Any]:
        """The probe of a video row: frame count, exact rate, per-frame timestamps, size, codec, or its error."""
        return self._http.json("GET", f"/data_rows/{data_row_id}/video")

    @route("GET", "/data_rows/{data_row_id}/video/poster")
    def video_poster(self, data_row_id: str) -> bytes:
        """The poster frame (an image)."""
        return self._http.send("GET", f"/data_rows/{data_row_id}/video/poster").content

    @route("GET", "/data_rows/{data_row_id}/video/strip")
    def video_strip(self, data_row_id: str) -> bytes:
        """The thumbnail strip (an image of frames across the video)."""
        return self._http.send("GET", f"/data_rows/{data_row_id}/video/strip").content

    @route("GET", "/data_rows/{data_row_id}/video/stream")
    def video_download(self, data_row_id: str, path: PathLike) -> Path:
        """Write the video file to `path` in chunks."""
        return self._download(f"/data_rows/{data_row_id}/video/stream", path)

    # -- large and medical images -------------------------------------------------------------------------------

    @route("POST", "/datasets/{dataset_id}/large_images")
    def upload_large_images(self, dataset_id: str, paths: Iterable[PathLike]) -> dict[str, Any]:
        """Upload images too large for one `<img>`: each becomes a row whose Deep Zoom pyramid a job builds."""
        return self._upload(f"/datasets/{dataset_id}/large_images", paths)

    @route("POST", "/datasets/{dataset_id}/dicom")
    def import_dicom(self, dataset_id: str, paths: Iterable[PathLike]) -> dict[str, Any]:
        """Import DICOM files (single, multi-frame or a series' slices), de-identified on import: a row per slice."""
        return self._upload(f"/datasets/{dataset_id}/dicom", paths)

    @route("GET", "/data_rows/{data_row_id}/imaging")
    def imaging(self, data_row_id: str) -> dict[str, Any]:
        """A row's imaging facts: tiling state and pyramid size, DICOM series/slice/pixel spacing, geo footprint."""
        return self._http.json("GET", f"/data_rows/{data_row_id}/imaging")

    @route("GET", "/data_rows/{data_row_id}/tiles/{level}/{tile}")
    def tile(self, data_row_id: str, level: int | str, tile: str) -> bytes:
        """One Deep Zoom tile (`tile` as `COLUMN_ROW.EXT`, e.g. `0_0.jpeg`) of a large image's pyramid."""
        return self._http.send("GET", f"/data_rows/{data_row_id}/tiles/{level}/{tile}").content

    @route("GET", "/data_rows/{data_row_id}/dicom/slices/{position}")
    def dicom_slice(
        self, data_row_id: str, position: int, *, center: float | None = None, width: float | None = None
    ) -> bytes:
        """Slice `position` (1-based) of a DICOM row's series as PNG, through the window `center`/`width` (modality
        units, e.g. HU) or, without them, the slice's first preset."""
        params = body(center=center, width=width)
        return self._http.send("GET", f"/data_rows/{data_row_id}/dicom/slices/{position}", params=params).content

    @route("GET", "/imaging/settings")
    def imaging_settings(self) -> dict[str, Any]:
        """The organization's imaging settings (org admins): pseudonym mapping kept or not, DICOM tags as metadata."""
        return self._http.json("GET", "/imaging/settings")

    @route("PATCH", "/imaging/settings")
    def update_imaging_settings(
        self, *, keep_identity_mapping: bool | None = None, dicom_metadata_tags: dict[str, str] | None = None
    ) -> dict[str, Any]:
        return self._http.json(
            "PATCH",
            "/imaging/settings",
            json_body=body(keep_identity_mapping=keep_identity_mapping, dicom_metadata_tags=dicom_metadata_tags),
        )

    # -- geospatial ---------------------------------------------------------------------------------------------

    @route("GET", "/imaging/rows")
    def rows_in_area(self, bbox: tuple[float, float, float, float], *, dataset: str | None = None) -> dict[str, Any]:
        """Georeferenced rows whose footprint intersects `bbox` = (min_lon, min_lat, max_lon, max_lat) in WGS 84."""
        params = body(bbox=",".join(repr(float(v)) for v in bbox), dataset=dataset)
        return self._http.json("GET", "/imaging/rows", params=params)

    @route("POST", "/datasets/{dataset_id}/tile_services")
    def create_tile_service(
        self,
        dataset_id: str,
        *,
        global_key: str,
        url_template: str,
        bounds: tuple[float, float, float, float],
        min_zoom: int,
        max_zoom: int,
        tms: bool = False,
        tile_size: int = 256,
        external_id: str | None = None,
    ) -> dict[str, Any]:
        """A row that is an XYZ/TMS tile service (`url_template` with {z}, {x}, {y}; `bounds` = (min_lon, min_lat,
        max_lon, max_lat) in WGS 84). Labels are in pixels of `max_zoom`; their WGS 84 coordinates come with them."""
        payload = body(
            global_key=global_key,
            url_template=url_template,
            bounds=list(bounds),
            min_zoom=min_zoom,
            max_zoom=max_zoom,
            tms=tms,
            tile_size=tile_size,
            external_id=external_id,
        )
        return self._http.json("POST", f"/datasets/{dataset_id}/tile_services", json_body=payload)

    @route("GET", "/data_rows/{data_row_id}/xyz/{z}/{x}/{y}")
    def xyz_tile(self, data_row_id: str, z: int, x: int, y: int) -> bytes:
        """One tile (XYZ numbering) of a tile-service row, fetched by the server from the service."""
        return self._http.send("GET", f"/data_rows/{data_row_id}/xyz/{z}/{x}/{y}").content

    @route("GET", "/projects/{project_id}/export.geojson")
    def export_geojson(self, project_id: str, path: PathLike) -> Path:
        """The project's labels on georeferenced rows as a GeoJSON FeatureCollection (WGS 84), written to `path`."""
        return self._download(f"/projects/{project_id}/export.geojson", path)

    @route("GET", "/projects/{project_id}/exports/video")
    def export_video(
        self,
        project_id: str,
        path: PathLike,
        *,
        kind: str = "ndjson",
        interpolated: bool = False,
        data_row: str | None = None,
    ) -> Path:
        """A video export (`ndjson`, with every interpolated frame when `interpolated`; `mot`, `coco` or `cvat`,
        `data_row` naming the video for `mot` and `cvat`) streamed to `path`."""
        params = body(kind=kind, interpolated="true" if interpolated else None, data_row=data_row)
        return self._download(f"/projects/{project_id}/exports/video", path, params=params)

    def _upload(self, url: str, paths: Iterable[PathLike]) -> dict[str, Any]:
        return upload(self._http, url, paths)  # type: ignore[no-any-return]

    def _download(self, url: str, path: PathLike, *, params: dict[str, Any] | None = None) -> Path:
        target = Path(path)
        response = self._http.send("GET", url, params=params, stream=True)
        try:
            write_stream(response, target)
        finally:
            response.close()
        return target
