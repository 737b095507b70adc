"""The editor's view of a DICOM series: any slice of the row's series rendered with any window (level/width), from
the de-identified file kept in storage, and the check that a label's `slice` numbers exist in the row's series."""

from __future__ import annotations

import math
from typing import Any

from django.core.files.storage import default_storage
from pydicom import dcmread

from apps.core.errors import NotFound, ValidationFailed
from apps.datasets.models import DataRow
from apps.imagery.domain.dicom_pixels import DicomError, frames, render_png
from apps.imagery.domain.windowing import WindowPreset
from apps.imagery.models import AssetKind, ImagingAsset

MAX_WINDOW_VALUE = 1_000_000.0  # modality values (HU …) far outside any real range are refused


def parse_window(center: str | None, width: str | None) -> tuple[float, float] | None:
    """The `center`/`width` query parameters: both or neither; finite; width >= 1."""
    if center in (None, "") and width in (None, ""):
        return None
    errors: dict[str, list[str]] = {}
    values: dict[str, float] = {}
    for name, raw in (("center", center), ("width", width)):
        try:
            value = float(raw) if raw is not None and raw != "" else math.nan
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or abs(value) > MAX_WINDOW_VALUE:
            errors[name] = [f"A number between -{MAX_WINDOW_VALUE:.0f} and {MAX_WINDOW_VALUE:.0f}."]
        values[name] = value
    if "width" not in errors and values["width"] < 1:
        errors["width"] = ["At least 1."]
    if errors:
        raise ValidationFailed("Give both a window center and a width (>= 1).", details=errors)
    return values["center"], values["width"]


def series_slice(row: DataRow, position: int) -> ImagingAsset:
    """The imaging details of slice `position` (1-based) of the series `row` belongs to, in the row's dataset."""
    asset = ImagingAsset.objects.filter(organization_id=row.organization_id, data_row_id=row.pk).first()
    if asset is None or asset.kind != AssetKind.DICOM:
        raise NotFound("This row is not a DICOM slice.", code="not_dicom")
    if not 1 <= position <= (asset.slice_count or 1):
        raise NotFound(f"The series has slices 1 to {asset.slice_count or 1}.", code="no_slice")
    if position == asset.slice_index:
        return asset
    found = ImagingAsset.objects.filter(
        organization_id=row.organization_id,
        kind=AssetKind.DICOM,
        series_uid=asset.series_uid,
        slice_index=position,
        data_row__dataset_id=row.dataset_id,
    ).first()
    if found is None:
        raise NotFound("This slice of the series is not in the dataset.", code="no_slice")
    return found


def slice_png(row: DataRow, position: int, window: tuple[float, float] | None) -> bytes:
    """Slice `position` of the row's series as an 8-bit PNG through `window` (default: the slice's first preset)."""
    asset = series_slice(row, position)
    if window is None:
        presets = asset.dicom.get("windows") or []
        if not presets:
            raise NotFound("This slice has no window preset.", code="no_window")
        window = (float(presets[0]["center"]), float(presets[0]["width"]))
    try:
        with default_storage.open(asset.source_name, "rb") as handle:
            ds = dcmread(handle)
        frame = frames(ds)[int(asset.dicom.get("frame", 0))]
    except (FileNotFoundError, DicomError, IndexError) as exc:
        raise NotFound("The slice's DICOM file is missing or unreadable.", code="slice_missing") from exc
    return render_png(frame.values, WindowPreset("view", window[0], window[1]))


def slice_check(data_row: Any, normalized: list[dict[str, Any] | None]) -> list[dict[str, Any]]:
    """Labeling hook: an annotation's `slice` must be a slice of the row's series (no query without any `slice`)."""
    marked = [(i, item["slice"]) for i, item in enumerate(normalized) if item is not None and "slice" in item]
    if not marked:
        return []
    asset = ImagingAsset.objects.filter(organization_id=data_row.organization_id, data_row_id=data_row.pk).first()
    count = (asset.slice_count or 1) if asset is not None and asset.kind == AssetKind.DICOM else 0
    errors = []
    for index, position in marked:
        if count == 0:
            message = "Only objects on DICOM series rows have a slice."
        elif position > count:
            message = f"The series has slices 1 to {count}."
        else:
            continue
        errors.append({"index": index, "path": f"annotations[{index}].slice", "message": message})
    return errors
