"""Tile-service rows (XYZ or TMS URL templates): validation of the template, bounds and zoom range, and the Web
Mercator math that puts the row in pixel space. Pure (no Django).

A row's pixel space is the slippy-map world at its maximum zoom `zmax` (256 · 2^zmax px square for 256 px tiles),
cropped to the row's bounds: pixel (col, row) of the row is world pixel (origin_x + col, origin_y + row). That is an
affine transform into EPSG:3857 (`transform()`), so labels get their WGS 84 coordinates by the GeoTIFF code path
(`domain.geo.pixels_to_lonlat`). Tile (z, x, y) covers world pixels [x, x + 1) · size · 2^(zmax − z) (same for y); a
TMS service numbers rows from the south: y_tms = 2^z − 1 − y.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

EARTH_RADIUS = 6378137.0  # the WGS 84 semi-major axis Web Mercator uses as its sphere
HALF_WORLD = math.pi * EARTH_RADIUS
MAX_LAT = 85.0511287798066  # atan(sinh(π)): the square world's edge
MAX_ZOOM = 24
MAX_TEMPLATE = 2000
MAX_SIDE = 2_000_000_000  # the row's width/height are 32-bit integers
TILE_SIZES = (256, 512)
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


class XyzError(ValueError):
    """Invalid tile-service details: `field` names what is wrong (for the API's error details)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class TileService:
    template: str
    bounds: tuple[float, float, float, float]  # min lon, min lat, max lon, max lat (WGS 84)
    min_zoom: int
    max_zoom: int
    tms: bool = False
    tile_size: int = 256

    @property
    def origin(self) -> tuple[int, int]:
        min_lon, _min_lat, _max_lon, max_lat = self.bounds
        return math.floor(lon_to_px(min_lon, self.max_zoom, self.tile_size)), math.floor(
            lat_to_py(max_lat, self.max_zoom, self.tile_size)
        )

    @property
    def size(self) -> tuple[int, int]:
        _min_lon, min_lat, max_lon, _max_lat = self.bounds
        ox, oy = self.origin
        right = math.ceil(lon_to_px(max_lon, self.max_zoom, self.tile_size))
        bottom = math.ceil(lat_to_py(min_lat, self.max_zoom, self.tile_size))
        return max(right - ox, 1), max(bottom - oy, 1)

    def transform(self) -> tuple[float, float, float, float, float, float]:
        """GDAL-ordered affine transform of the row's pixels into EPSG:3857 metres."""
        res = 2 * HALF_WORLD / (self.tile_size * 2**self.max_zoom)
        ox, oy = self.origin
        return (-HALF_WORLD + ox * res, res, 0.0, HALF_WORLD - oy * res, 0.0, -res)

    def tile_range(self, zoom: int) -> tuple[int, int, int, int]:
        """The tiles (x0, y0, x1, y1 inclusive, XYZ numbering) that cover the bounds at `zoom`."""
        min_lon, min_lat, max_lon, max_lat = self.bounds
        last = 2**zoom - 1
        x0 = min(max(math.floor(lon_to_px(min_lon, zoom, 1)), 0), last)
        x1 = min(max(math.ceil(lon_to_px(max_lon, zoom, 1)) - 1, x0), last)
        y0 = min(max(math.floor(lat_to_py(max_lat, zoom, 1)), 0), last)
        y1 = min(max(math.ceil(lat_to_py(min_lat, zoom, 1)) - 1, y0), last)
        return x0, y0, x1, y1

    def covers(self, zoom: int, x: int, y: int) -> bool:
        if not self.min_zoom <= zoom <= self.max_zoom:
            return False
        x0, y0, x1, y1 = self.tile_range(zoom)
        return x0 <= x <= x1 and y0 <= y <= y1

    def url(self, zoom: int, x: int, y: int) -> str:
        """The service's URL of XYZ tile (zoom, x, y) (y flipped for a TMS service)."""
        row = 2**zoom - 1 - y if self.tms else y
        return self.template.replace("{z}", str(zoom)).replace("{x}", str(x)).replace("{y}", str(row))


def lon_to_px(lon: float, zoom: int, tile_size: int) -> float:
    return (lon + 180.0) / 360.0 * tile_size * 2**zoom


def lat_to_py(lat: float, zoom: int, tile_size: int) -> float:
    phi = math.radians(lat)
    return (1.0 - math.log(math.tan(phi) + 1.0 / math.cos(phi)) / math.pi) / 2.0 * tile_size * 2**zoom


def px_to_lonlat(px: float, py: float, zoom: int, tile_size: int) -> tuple[float, float]:
    """World pixel → (lon, lat): the inverse spherical Mercator (for tests and checks)."""
    world = tile_size * 2**zoom
    lon = px / world * 360.0 - 180.0
    lat = math.degrees(math.atan(math.sinh(math.pi * (1.0 - 2.0 * py / world))))
    return lon, lat


def check_template(template: object) -> str:
    if not isinstance(template, str) or not template.strip():
        raise XyzError("url_template", "Give the tile URL template, e.g. https://tiles.example.com/{z}/{x}/{y}.png.")
    template = template.strip()
    if len(template) > MAX_TEMPLATE:
        raise XyzError("url_template", f"At most {MAX_TEMPLATE} characters.")
    parts = urlsplit(template)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise XyzError("url_template", "The template must be an http:// or https:// URL with a host.")
    if parts.username or parts.password:
        raise XyzError("url_template", "Templates with credentials in the URL are not allowed.")
    if "{" in (parts.netloc or ""):
        raise XyzError("url_template", "Placeholders belong in the path or query, not the host.")
    names = _PLACEHOLDER.findall(template)
    unknown = sorted({n for n in names if n not in ("z", "x", "y")})
    if unknown:
        raise XyzError("url_template", f"Unknown placeholder {{{unknown[0]}}}: only {{z}}, {{x}} and {{y}}.")
    for name in ("z", "x", "y"):
        if names.count(name) != 1:
            raise XyzError("url_template", f"The template must contain {{{name}}} exactly once.")
    if "{" in _PLACEHOLDER.sub("", template) or "}" in _PLACEHOLDER.sub("", template):
        raise XyzError("url_template", "Unbalanced braces in the template.")
    return template


def _number(value: object, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise XyzError(field, "Must be a finite number.")
    return float(value)


def check_service(
    template: object, bounds: object, min_zoom: object, max_zoom: object, tms: object = False, tile_size: object = 256
) -> TileService:
    """A valid TileService, or XyzError naming the first bad field."""
    clean = check_template(template)
    if not isinstance(bounds, (list, tuple)) or len(bounds) != 4:
        raise XyzError("bounds", "Give [min_lon, min_lat, max_lon, max_lat] in WGS 84 degrees.")
    min_lon, min_lat, max_lon, max_lat = (_number(v, "bounds") for v in bounds)
    if not -180.0 <= min_lon < max_lon <= 180.0:
        raise XyzError("bounds", "Longitudes: -180 <= min_lon < max_lon <= 180.")
    if not -MAX_LAT <= min_lat < max_lat <= MAX_LAT:
        raise XyzError("bounds", f"Latitudes: -{MAX_LAT:.4f} <= min_lat < max_lat <= {MAX_LAT:.4f} (Web Mercator).")
    zooms: list[int] = []
    for name, value in (("min_zoom", min_zoom), ("max_zoom", max_zoom)):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_ZOOM:
            raise XyzError(name, f"A whole number from 0 to {MAX_ZOOM}.")
        zooms.append(value)
    if zooms[0] > zooms[1]:
        raise XyzError("min_zoom", "min_zoom must not be above max_zoom.")
    if not isinstance(tms, bool):
        raise XyzError("tms", "true for a TMS service (rows numbered from the south), else false.")
    if isinstance(tile_size, bool) or tile_size not in TILE_SIZES:
        raise XyzError("tile_size", "256 or 512.")
    side = TILE_SIZES[TILE_SIZES.index(tile_size)]  # type: ignore[arg-type]
    service = TileService(clean, (min_lon, min_lat, max_lon, max_lat), zooms[0], zooms[1], tms, side)
    width, height = service.size
    if width > MAX_SIDE or height > MAX_SIDE:
        raise XyzError("max_zoom", "The bounds are too large at this max_zoom (over 2 billion pixels a side).")
    return service


def preview_zoom(service: TileService, max_tiles: int = 4) -> int:
    """The deepest zoom in range whose tiles over the bounds number at most `max_tiles` (for the thumbnail)."""
    best = service.min_zoom
    for zoom in range(service.min_zoom, service.max_zoom + 1):
        x0, y0, x1, y1 = service.tile_range(zoom)
        if (x1 - x0 + 1) * (y1 - y0 + 1) > max_tiles:
            break
        best = zoom
    return best
