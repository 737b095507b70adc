"""Reading what TDP needs from a (de-identified) DICOM dataset: frames as modality values, spacing, windows, and
the values of admin-selected tags. Pure (pydicom + numpy)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from PIL import Image
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.valuerep import IS, DSfloat, PersonName

from apps.imagery.domain.windowing import WindowPreset, apply_window, auto_window, modality_values, presets_for


class DicomError(ValueError):
    """The file cannot be used (no pixels, unsupported layout); the message is shown to the client."""


@dataclass(frozen=True)
class Frame:
    values: npt.NDArray[np.float64]  # modality values (HU for CT), rows × columns
    position: float  # sort key within the series (ImagePositionPatient z, else instance number)


def _float(value: Any, default: float) -> float:
    if isinstance(value, MultiValue):
        value = value[0] if len(value) else None
    try:
        return float(value) if value is not None and value != "" else default
    except (TypeError, ValueError):
        return default


def frames(ds: Dataset) -> list[Frame]:
    """Every frame of the dataset (a multi-frame file gives several), as modality values."""
    if "PixelData" not in ds:
        raise DicomError("The DICOM file has no pixel data.")
    if int(ds.get("SamplesPerPixel", 1) or 1) != 1:
        raise DicomError("Only single-channel (grayscale) DICOM images are supported.")
    try:
        array = ds.pixel_array
    except Exception as exc:  # pydicom raises many kinds for unsupported transfer syntaxes
        raise DicomError(f"The pixel data cannot be decoded ({type(exc).__name__}).") from None
    slope = _float(ds.get("RescaleSlope"), 1.0)
    intercept = _float(ds.get("RescaleIntercept"), 0.0)
    stack = array if array.ndim == 3 else array[np.newaxis]
    base = _position(ds)
    return [Frame(modality_values(frame, slope, intercept), base + i) for i, frame in enumerate(stack)]


def _position(ds: Dataset) -> float:
    ipp = ds.get("ImagePositionPatient")
    if ipp is not None and len(ipp) == 3:
        return float(ipp[2])
    return _float(ds.get("InstanceNumber"), 0.0)


def pixel_spacing(ds: Dataset) -> list[float] | None:
    """[row spacing, column spacing] in mm (PixelSpacing, else ImagerPixelSpacing)."""
    for keyword in ("PixelSpacing", "ImagerPixelSpacing"):
        value = ds.get(keyword)
        if value is not None and len(value) == 2:
            return [float(value[0]), float(value[1])]
    return None


def stored_window(ds: Dataset) -> WindowPreset | None:
    center, width = ds.get("WindowCenter"), ds.get("WindowWidth")
    if center is None or width is None:
        return None
    c, w = _float(center, float("nan")), _float(width, float("nan"))
    if not (np.isfinite(c) and np.isfinite(w)) or w < 1:
        return None
    return WindowPreset("stored", c, w)


def window_presets(ds: Dataset, values: npt.NDArray) -> list[WindowPreset]:
    presets = presets_for(str(ds.get("Modality", "") or ""), stored_window(ds))
    return presets or [auto_window(values)]


def render_png(values: npt.NDArray, window: WindowPreset) -> bytes:
    out = io.BytesIO()
    Image.fromarray(apply_window(values, window.center, window.width), mode="L").save(out, format="PNG")
    return out.getvalue()


def tag_value(ds: Dataset, keyword: str) -> Any:
    """A tag's value as plain JSON-able Python (None when absent or empty)."""
    element = ds.data_element(keyword) if keyword in ds else None
    if element is None:
        return None
    value = element.value
    if value is None or value == "":
        return None
    if isinstance(value, MultiValue):
        return [tag_plain(v) for v in value]
    return tag_plain(value)


def tag_plain(value: Any) -> Any:
    if isinstance(value, DSfloat):
        return float(value)
    if isinstance(value, IS):
        return int(value)
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, PersonName):
        return str(value)
    if isinstance(value, bytes):
        return None
    return str(value)


def dicom_date_to_iso(value: str) -> str:
    """DICOM DA `YYYYMMDD` → ISO 8601 at midnight UTC (for datetime metadata)."""
    if len(value) == 8 and value.isdigit():
        return f"{value[:4]}-{value[4:6]}-{value[6:]}T00:00:00+00:00"
    return value
