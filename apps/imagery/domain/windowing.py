"""DICOM window level/width: the linear VOI LUT of PS3.3 C.11.2.1.2.1 and the presets offered in the editor.

Pure numpy. Input: modality values (raw stored values already passed through Rescale Slope/Intercept, i.e. Hounsfield
units for CT). Output: 8-bit display values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True, slots=True)
class WindowPreset:
    name: str
    center: float
    width: float


# CT presets as radiology viewers ship them (center/width in HU).
CT_PRESETS: tuple[WindowPreset, ...] = (
    WindowPreset("soft_tissue", 40, 400),
    WindowPreset("lung", -600, 1500),
    WindowPreset("bone", 400, 1800),
    WindowPreset("brain", 40, 80),
    WindowPreset("liver", 60, 160),
    WindowPreset("mediastinum", 50, 350),
)
PRESETS_BY_NAME = {p.name: p for p in CT_PRESETS}


class WindowError(ValueError):
    pass


def modality_values(stored: npt.NDArray, slope: float = 1.0, intercept: float = 0.0) -> npt.NDArray[np.float64]:
    """Stored pixel values → modality values (Rescale Slope/Intercept, PS3.3 C.7.6.16.2.11)."""
    return stored.astype(np.float64) * float(slope) + float(intercept)


def apply_window(values: npt.NDArray, center: float, width: float) -> npt.NDArray[np.uint8]:
    """The DICOM linear window function onto 0..255.

    x <= c - 0.5 - (w-1)/2 → 0; x > c - 0.5 + (w-1)/2 → 255; else ((x - (c - 0.5)) / (w-1) + 0.5) * 255,
    rounded half up.
    """
    if not np.isfinite(center) or not np.isfinite(width) or width < 1:
        raise WindowError("The window width must be at least 1 and the center a finite number.")
    x = np.asarray(values, dtype=np.float64)
    low = center - 0.5 - (width - 1) / 2
    high = center - 0.5 + (width - 1) / 2
    if width == 1:  # PS3.3: a width of 1 is a threshold at the center
        return np.where(x <= low, 0, 255).astype(np.uint8)
    y = ((x - (center - 0.5)) / (width - 1) + 0.5) * 255.0
    y = np.floor(y + 0.5)
    y = np.where(x <= low, 0.0, np.where(x > high, 255.0, y))
    return np.clip(y, 0, 255).astype(np.uint8)


def auto_window(values: npt.NDArray) -> WindowPreset:
    """A full-range window for images without a stored one (MR, CR …): min..max of the image."""
    x = np.asarray(values, dtype=np.float64)
    if x.size == 0:
        return WindowPreset("full_range", 0, 1)
    low, high = float(x.min()), float(x.max())
    width = max(high - low + 1, 1.0)
    return WindowPreset("full_range", low + (width - 1) / 2 + 0.5, width)


def presets_for(modality: str, stored: WindowPreset | None) -> list[WindowPreset]:
    """The presets offered for an image: its own stored window first, then the CT presets for CT."""
    out = [stored] if stored else []
    if modality.upper() == "CT":
        out.extend(CT_PRESETS)
    return out
