"""The picture of an issue: a crop of the row's image around the pin, with the pinned object drawn, rendered once
with Pillow and cached. Only images stored here (uploads) are cropped; for a remote URL the server would have to
fetch user-given addresses, so those issues show the pin's text without a picture."""

from __future__ import annotations

import io
import logging
from typing import Any

from django.core.cache import cache
from django.core.files.storage import default_storage
from PIL import Image, ImageDraw, ImageOps, UnidentifiedImageError

from apps.accounts.models import User
from apps.datasets import services as dataset_services
from apps.issues.domain import pins
from apps.issues.models import Issue
from apps.issues.selectors import has_crop

logger = logging.getLogger(__name__)

MAX_SIDE = 360  # the crop's longest side in the page, in pixels
CACHE_SECONDS = 7 * 24 * 3600
OUTLINE = (255, 45, 120)  # a magenta that stands out on photos
HALO = (255, 255, 255)


def _cache_key(issue: Issue) -> str:
    # The pin (point, object geometry) never changes after the issue is opened: the id is the version.
    return f"issue-crop:v1:{issue.pk}"


def _draw(image: Image.Image, issue: Issue, region: tuple[int, int, int, int], scale: float) -> None:
    draw = ImageDraw.Draw(image)
    left, top = region[0], region[1]

    def to_crop(x: float, y: float) -> tuple[float, float]:
        return (x - left) * scale, (y - top) * scale

    geometry = issue.annotation_geometry
    if geometry:
        if "bbox" in geometry:
            b = geometry["bbox"]
            box = [*to_crop(b["left"], b["top"]), *to_crop(b["left"] + b["width"], b["top"] + b["height"])]
            draw.rectangle(box, outline=HALO, width=5)
            draw.rectangle(box, outline=OUTLINE, width=3)
        elif "polygon" in geometry or "line" in geometry:
            points = [to_crop(p["x"], p["y"]) for p in geometry.get("polygon") or geometry["line"]]
            if "polygon" in geometry:
                points.append(points[0])
            draw.line(points, fill=HALO, width=5, joint="curve")
            draw.line(points, fill=OUTLINE, width=3, joint="curve")
        elif "point" in geometry:
            x, y = to_crop(geometry["point"]["x"], geometry["point"]["y"])
            draw.ellipse([x - 7, y - 7, x + 7, y + 7], outline=HALO, width=5)
            draw.ellipse([x - 7, y - 7, x + 7, y + 7], outline=OUTLINE, width=3)
    if issue.x is not None and issue.y is not None:
        x, y = to_crop(issue.x, issue.y)
        draw.ellipse([x - 6, y - 6, x + 6, y + 6], fill=OUTLINE, outline=HALO, width=2)


def render_crop(issue: Issue, source: Any) -> bytes | None:
    """PNG bytes of the crop of the image file `source` for the issue, or None (not an image, nothing pinned)."""
    try:
        with Image.open(source) as opened:
            image = ImageOps.exif_transpose(opened).convert("RGB")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, ValueError):
        return None
    point = (issue.x, issue.y) if issue.x is not None and issue.y is not None else None
    region = pins.crop_region(image_size=image.size, geometry=issue.annotation_geometry, point=point)
    if region is None:
        return None
    cropped = image.crop(region)
    longest = max(cropped.width, cropped.height)
    scale = min(MAX_SIDE / longest, 3.0)
    size = (max(1, round(cropped.width * scale)), max(1, round(cropped.height * scale)))
    cropped = cropped.resize(size, Image.Resampling.LANCZOS)
    _draw(cropped, issue, region, scale)
    out = io.BytesIO()
    cropped.save(out, format="PNG", optimize=True)
    return out.getvalue()


def issue_crop(*, actor: User, issue: Issue) -> bytes | None:
    """The crop of the issue's image (cached), or None when there is none to show. The caller checked access; the
    row's content access is audited as when the image itself is opened."""
    if not has_crop(issue):
        return None
    key = _cache_key(issue)
    cached = cache.get(key)
    if cached is not None:
        return bytes(cached) if cached else None
    content = dataset_services.data_row_content(actor=actor, data_row=issue.data_row)
    if content.kind != "file":
        return None
    try:
        with default_storage.open(content.value, "rb") as handle:
            png = render_crop(issue, handle)
    except OSError:
        logger.warning("issue crop: the stored image of row %s could not be read", issue.data_row_id)
        return None
    cache.set(key, png or b"", CACHE_SECONDS)
    return png
