"""Georeferenced images: the affine transform and CRS of a GeoTIFF (read from its GeoKeys with tifffile), pixel →
WGS 84 coordinates (pyproj), image footprints and GeoJSON features of labels. Pure (no Django).

Transforms are GDAL-ordered `(x0, dx, rx, y0, ry, dy)`: x = x0 + col·dx + row·rx, y = y0 + col·ry + row·dy for the
pixel corner (col, row) in full-resolution pixels (PixelIsArea; PixelIsPoint rasters are shifted half a pixel).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from pyproj import CRS, Transformer
from shapely.geometry import Polygon, box

Transform = tuple[float, float, float, float, float, float]

MODEL_PIXEL_SCALE = 33550
MODEL_TIEPOINT = 33922
MODEL_TRANSFORMATION = 34264
GEO_KEY_DIRECTORY = 34735
GT_RASTER_TYPE = 1025
GEOGRAPHIC_TYPE = 2048
PROJECTED_CS_TYPE = 3072
PIXEL_IS_POINT = 2


class GeoError(ValueError):
    """The file's georeference is missing or unusable; the message is shown to the client."""


@dataclass(frozen=True)
class Georeference:
    transform: Transform
    crs: str  # "EPSG:<code>"
    width: int
    height: int


def _geo_keys(directory: Any) -> dict[int, Any]:
    values = [int(v) for v in directory]
    if len(values) < 4:
        return {}
    keys: dict[int, Any] = {}
    for i in range(values[3]):
        key, location, _count, offset = values[4 + 4 * i : 8 + 4 * i]
        if location == 0:
            keys[key] = offset
    return keys


def georeference_from_tags(tags: dict[int, Any], width: int, height: int) -> Georeference | None:
    """The georeference in a TIFF's tags (code → value), or None when the file has none."""
    if GEO_KEY_DIRECTORY not in tags:
        return None
    keys = _geo_keys(tags[GEO_KEY_DIRECTORY])
    code = keys.get(PROJECTED_CS_TYPE) or keys.get(GEOGRAPHIC_TYPE)
    if not code or code == 32767:  # user-defined CRS: not supported
        raise GeoError("The GeoTIFF's coordinate reference system must be an EPSG code.")
    if MODEL_TRANSFORMATION in tags:
        m = [float(v) for v in tags[MODEL_TRANSFORMATION]]
        transform: Transform = (m[3], m[0], m[1], m[7], m[4], m[5])
    elif MODEL_PIXEL_SCALE in tags and MODEL_TIEPOINT in tags:
        sx, sy = float(tags[MODEL_PIXEL_SCALE][0]), float(tags[MODEL_PIXEL_SCALE][1])
        i, j, _k, x, y = (float(v) for v in list(tags[MODEL_TIEPOINT])[:5])
        transform = (x - i * sx, sx, 0.0, y + j * sy, 0.0, -sy)
    else:
        raise GeoError("The GeoTIFF has GeoKeys but no pixel scale/tiepoint or transformation.")
    if keys.get(GT_RASTER_TYPE) == PIXEL_IS_POINT:  # the tiepoint names a pixel centre: move to its corner
        x0, dx, rx, y0, ry, dy = transform
        transform = (x0 - 0.5 * (dx + rx), dx, rx, y0 - 0.5 * (ry + dy), ry, dy)
    return Georeference(transform=transform, crs=f"EPSG:{int(code)}", width=width, height=height)


def read_georeference(path: str) -> Georeference | None:
    """The georeference of a TIFF file (its tags only, no pixels), or None for a plain image or a non-TIFF."""
    import tifffile

    try:
        with tifffile.TiffFile(path) as tif:
            page = tif.pages.first
            tags = {tag.code: tag.value for tag in page.tags.values()}
            return georeference_from_tags(tags, int(page.imagewidth), int(page.imagelength))
    except (tifffile.TiffFileError, OSError, ValueError, IndexError) as exc:
        if isinstance(exc, GeoError):
            raise
        return None


def pixel_to_crs(transform: Transform, col: float, row: float) -> tuple[float, float]:
    x0, dx, rx, y0, ry, dy = transform
    return x0 + col * dx + row * rx, y0 + col * ry + row * dy


@lru_cache(maxsize=64)
def _to_wgs84(crs: str) -> Transformer:
    return Transformer.from_crs(CRS.from_user_input(crs), CRS.from_epsg(4326), always_xy=True)


def pixels_to_lonlat(transform: Transform, crs: str, points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Full-resolution pixel points → (longitude, latitude) in WGS 84."""
    xs, ys = zip(*(pixel_to_crs(transform, c, r) for c, r in points), strict=True) if points else ((), ())
    lons, lats = _to_wgs84(crs).transform(list(xs), list(ys))
    return list(zip((float(v) for v in lons), (float(v) for v in lats), strict=True))


def footprint(geo: Georeference, samples: int = 16) -> list[tuple[float, float]]:
    """The image outline in WGS 84 (edges sampled: a projected edge is not straight in longitude/latitude)."""
    w, h = geo.width, geo.height
    edge: list[tuple[float, float]] = []
    for i in range(samples):
        edge.append((w * i / samples, 0))
    for i in range(samples):
        edge.append((w, h * i / samples))
    for i in range(samples):
        edge.append((w - w * i / samples, h))
    for i in range(samples):
        edge.append((0, h - h * i / samples))
    return pixels_to_lonlat(geo.transform, geo.crs, edge)


def bounds(points: list[tuple[float, float]]) -> tuple[float, float, float, float]:
    lons = [p[0] for p in points]
    lats = [p[1] for p in points]
    return min(lons), min(lats), max(lons), max(lats)


def intersects(outline: list[list[float]], area: tuple[float, float, float, float]) -> bool:
    """Whether an image outline (WGS 84) intersects the area (min lon, min lat, max lon, max lat)."""
    return bool(Polygon(outline).intersects(box(*area)))


def annotation_geometry(annotation: dict[str, Any], transform: Transform, crs: str) -> dict[str, Any] | None:
    """A GeoJSON geometry (WGS 84, [lon, lat]) for one annotation in pixel space, or None for a classification."""
    if "bbox" in annotation:
        b = annotation["bbox"]
        left, top, right, bottom = b["left"], b["top"], b["left"] + b["width"], b["top"] + b["height"]
        ring = pixels_to_lonlat(
            transform, crs, [(left, top), (right, top), (right, bottom), (left, bottom), (left, top)]
        )
        return {"type": "Polygon", "coordinates": [[list(p) for p in ring]]}
    if "polygon" in annotation:
        points = [(p["x"], p["y"]) for p in annotation["polygon"]]
        ring = pixels_to_lonlat(transform, crs, [*points, points[0]])
        return {"type": "Polygon", "coordinates": [[list(p) for p in ring]]}
    if "line" in annotation:
        line = pixels_to_lonlat(transform, crs, [(p["x"], p["y"]) for p in annotation["line"]])
        return {"type": "LineString", "coordinates": [list(p) for p in line]}
    if "point" in annotation:
        ((lon, lat),) = pixels_to_lonlat(transform, crs, [(annotation["point"]["x"], annotation["point"]["y"])])
        return {"type": "Point", "coordinates": [lon, lat]}
    return None
