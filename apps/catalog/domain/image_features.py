"""The built-in image embedding: a 64-bin RGB colour histogram + an 8×8 grey thumbnail (128 numbers).

It needs no model and no network, so the catalog works out of the box. Its limits, honestly: it sees colour and
coarse layout only — two photos of the same object on different backgrounds are far apart, and two different objects
of the same colours are close. Use a real model's embeddings (uploaded through the API) for semantic similarity.

Decoding: PNG (8-bit grey, grey+alpha, RGB, RGBA, palette; non-interlaced) with the standard library; other
formats through Pillow when it is installed.
"""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import numpy.typing as npt

DIMS = 128
HIST_BINS = 4  # per channel: 4³ = 64 bins
THUMB = 8


class ImageError(ValueError):
    pass


def _unfilter(raw: bytes, width: int, height: int, bpp: int) -> npt.NDArray[np.uint8]:
    stride = width * bpp
    out = np.zeros((height, stride), dtype=np.uint8)
    data = np.frombuffer(raw, dtype=np.uint8)
    if data.size < height * (stride + 1):
        raise ImageError("truncated PNG data")
    prev = np.zeros(stride, dtype=np.int32)
    for y in range(height):
        kind = int(data[y * (stride + 1)])
        line = data[y * (stride + 1) + 1 : (y + 1) * (stride + 1)].astype(np.int32)
        if kind == 0:
            cur = line
        elif kind == 2:
            cur = (line + prev) & 0xFF
        elif kind in (1, 3, 4):
            cur = np.zeros(stride, dtype=np.int32)
            for x in range(stride):  # sequential by nature; thumbnails are small
                left = int(cur[x - bpp]) if x >= bpp else 0
                up = int(prev[x])
                if kind == 1:
                    pred = left
                elif kind == 3:
                    pred = (left + up) >> 1
                else:
                    up_left = int(prev[x - bpp]) if x >= bpp else 0
                    p = left + up - up_left
                    pa, pb, pc = abs(p - left), abs(p - up), abs(p - up_left)
                    pred = left if pa <= pb and pa <= pc else (up if pb <= pc else up_left)
                cur[x] = (int(line[x]) + pred) & 0xFF
        else:
            raise ImageError(f"unknown PNG filter {kind}")
        out[y] = cur
        prev = cur
    return out


def decode_png(blob: bytes) -> npt.NDArray[np.uint8]:
    """PNG bytes → (h, w, 3) uint8 RGB."""
    if not blob.startswith(b"\x89PNG\r\n\x1a\n"):
        raise ImageError("not a PNG")
    pos, idat, palette = 8, [], None
    width = height = depth = color = interlace = 0
    while pos + 8 <= len(blob):
        length, kind = struct.unpack(">I4s", blob[pos : pos + 8])
        body = blob[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", body)
        elif kind == b"PLTE":
            palette = np.frombuffer(body, dtype=np.uint8).reshape(-1, 3)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    if depth != 8 or interlace:
        raise ImageError("only 8-bit non-interlaced PNGs are decoded without Pillow")
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}.get(color)
    if channels is None or width == 0 or height == 0 or width * height > 50_000_000:
        raise ImageError("unsupported PNG")
    pixels = _unfilter(zlib.decompress(b"".join(idat)), width, height, channels).reshape(height, width, channels)
    if color == 3:
        if palette is None:
            raise ImageError("palette PNG without a palette")
        return palette[np.minimum(pixels[:, :, 0], palette.shape[0] - 1)]
    if channels in (1, 2):
        return np.repeat(pixels[:, :, :1], 3, axis=2)
    return pixels[:, :, :3].copy()


def decode_image(blob: bytes) -> npt.NDArray[np.uint8]:
    if blob.startswith(b"\x89PNG"):
        try:
            return decode_png(blob)
        except (ImageError, zlib.error):
            pass
    try:
        from PIL import Image  # optional
    except ImportError:
        raise ImageError("unsupported image format (install Pillow for JPEG and others)") from None
    try:
        with Image.open(io.BytesIO(blob)) as image:
            image.thumbnail((256, 256))
            return np.asarray(image.convert("RGB"), dtype=np.uint8)
    except Exception as exc:  # Pillow raises many kinds
        raise ImageError(f"cannot decode the image: {exc}") from None


def image_features(rgb: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
    """128-d feature: colour histogram (L1-normalised, square-rooted) ++ 8×8 grey thumbnail (zero-mean, unit norm)."""
    pixels = rgb.reshape(-1, 3).astype(np.int64)
    bins = (pixels * HIST_BINS) // 256
    codes = (bins[:, 0] * HIST_BINS + bins[:, 1]) * HIST_BINS + bins[:, 2]
    hist = np.bincount(codes, minlength=HIST_BINS**3).astype(np.float64)
    hist = np.sqrt(hist / max(hist.sum(), 1.0))
    grey = rgb.astype(np.float64) @ np.array([0.299, 0.587, 0.114])
    h, w = grey.shape
    ys = (np.arange(THUMB + 1) * h) // THUMB
    xs = (np.arange(THUMB + 1) * w) // THUMB
    thumb = np.zeros((THUMB, THUMB))
    for i in range(THUMB):
        for j in range(THUMB):
            cell = grey[ys[i] : max(ys[i + 1], ys[i] + 1), xs[j] : max(xs[j + 1], xs[j] + 1)]
            thumb[i, j] = cell.mean() if cell.size else 0.0
    thumb = thumb.ravel() / 255.0
    thumb = thumb - thumb.mean()
    norm = np.linalg.norm(thumb)
    thumb = thumb / norm * 0.5 if norm > 1e-6 else np.zeros_like(thumb)  # flat images: no layout
    features = np.concatenate([hist, thumb]).astype(np.float32)
    if not np.any(features):
        features[0] = 1.0
    return features
