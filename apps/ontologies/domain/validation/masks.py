"""The `mask` tool's geometry: a COCO RLE, a PNG (single-class, or one colour of a class-per-colour PNG) or a
polygon to rasterise, always normalized to `{"size": [height, width], "counts": "<compressed COCO RLE>"}`.

Rules: the mask has the image's size (when the image's size is known), so it lies inside the image; it is not
empty. A polygon needs the image's size (the raster's size).
"""

from __future__ import annotations

import base64
import binascii
import io
import math
import re
from typing import Any

import numpy as np

from apps.ontologies.domain import rle as R
from apps.ontologies.domain.validation.base import ValidatorBase, _is_number

MAX_PNG_BYTES = 16 * 1024 * 1024
MAX_PIXELS = 100_000_000
_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
_FORMS = (
    '{"size": [height, width], "counts": "<COCO RLE>"}, {"png": "<base64>"[, "color": "#rrggbb"]} or {"polygon": [...]}'
)


class MaskInputError(ValueError):
    """Why a mask given as PNG or polygon cannot be read (a 4xx message)."""


def png_mask(data: str, color: str | None = None) -> np.ndarray[Any, Any]:
    """A base64 PNG → a boolean mask: with ``color`` the pixels of exactly that colour (one class per colour),
    otherwise every pixel that is not black (and not transparent)."""
    from PIL import Image  # imported here: only PNG masks need it

    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as error:
        raise MaskInputError("png is not valid base64.") from error
    if len(raw) > MAX_PNG_BYTES:
        raise MaskInputError(f"png is larger than {MAX_PNG_BYTES // (1024 * 1024)} MB.")
    if not raw.startswith(b"\x89PNG\r\n\x1a\n"):
        raise MaskInputError("png is not a PNG image.")
    try:
        with Image.open(io.BytesIO(raw)) as image:
            if image.width * image.height > MAX_PIXELS:
                raise MaskInputError("The PNG has too many pixels.")
            image.load()
            has_alpha = "A" in image.getbands() or "transparency" in image.info
            rgba = np.asarray(image.convert("RGBA"))
    except MaskInputError:
        raise
    except Exception as error:  # Pillow raises many types for a broken file
        raise MaskInputError(f"The PNG cannot be read: {error}.") from error
    opaque = rgba[:, :, 3] > 0 if has_alpha else np.ones(rgba.shape[:2], dtype=bool)
    if color is not None:
        rgb = tuple(int(color[i : i + 2], 16) for i in (1, 3, 5))
        out: np.ndarray[Any, Any] = (rgba[:, :, :3] == rgb).all(axis=2) & opaque
        return out
    result: np.ndarray[Any, Any] = (rgba[:, :, :3] != 0).any(axis=2) & opaque
    return result


def polygon_rle(raw: Any, height: int, width: int) -> R.RLE:
    """``[{"x", "y"}, ...]`` (one ring) or ``[[{"x", "y"}, ...], ...]`` (several rings of one object) → the RLE."""
    if type(raw) is not list or not raw:
        raise MaskInputError('polygon is a list of {"x", "y"} points (or a list of such lists).')
    rings = raw if type(raw[0]) is list else [raw]
    flat: list[list[float]] = []
    for ring in rings:
        if type(ring) is not list or len(ring) < 3:
            raise MaskInputError("Each polygon ring needs at least 3 points.")
        xy: list[float] = []
        for p in ring:
            if type(p) is not dict or set(p) != {"x", "y"} or not (_is_number(p["x"]) and _is_number(p["y"])):
                raise MaskInputError('A polygon point is an object {"x", "y"} of numbers.')
            if not (math.isfinite(p["x"]) and math.isfinite(p["y"])):
                raise MaskInputError("Polygon points must be finite numbers.")
            xy.extend((float(p["x"]), float(p["y"])))
        flat.append(xy)
    return R.from_polygons(flat, height, width)


class MaskChecks(ValidatorBase):
    def mask(self, raw: Any, index: int, path: str) -> dict[str, Any] | None:
        height: int | None = None
        width: int | None = None
        if self.image_size is not None:
            width, height = round(self.image_size[0]), round(self.image_size[1])
        if type(raw) is not dict:
            self.fail(index, path, f"A mask is {_FORMS}.")
            return None
        try:
            if "counts" in raw or "size" in raw:
                rle = R.from_document(raw, height=height, width=width)
            elif "png" in raw:
                if not raw.keys() <= {"png", "color"} or type(raw["png"]) is not str:
                    raise MaskInputError('A PNG mask is {"png": "<base64>"} with an optional "color": "#rrggbb".')
                color = raw.get("color")
                if color is not None and (type(color) is not str or not _HEX.match(color)):
                    raise MaskInputError('color is "#rrggbb".')
                pixels = png_mask(raw["png"], color.lower() if color else None)
                if height is not None and pixels.shape != (height, width):
                    raise MaskInputError(
                        f"The PNG is {pixels.shape[1]}×{pixels.shape[0]} (width×height) but the image is"
                        f" {width}×{height}."
                    )
                rle = R.encode(pixels)
            elif "polygon" in raw:
                if set(raw) != {"polygon"}:
                    raise MaskInputError('A polygon mask is {"polygon": [{"x", "y"}, ...]}.')
                if height is None or width is None:
                    raise MaskInputError("A polygon can be rasterised only when the image's size is known.")
                rle = polygon_rle(raw["polygon"], height, width)
            else:
                raise MaskInputError(f"A mask is {_FORMS}.")
        except (R.RLEError, MaskInputError) as error:
            self.fail(index, path, str(error))
            return None
        if R.area(rle) == 0:
            self.fail(index, path, "The mask is empty (no pixel is set).")
            return None
        return rle.document()
