"""DICOM import: single files, multi-frame files and series. Every file is de-identified (`domain.deid`) before
anything is stored; one image data row per slice (a PNG rendered with the first window preset), with its imaging
details (`ImagingAsset`: series, slice position, pixel spacing, window presets) next to it."""

from __future__ import annotations

import io
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from pydicom import dcmread
from pydicom.dataset import Dataset as DicomDataset
from pydicom.errors import InvalidDicomError

from apps.accounts.models import User
from apps.core.audit import audit_record
from apps.core.errors import PayloadTooLarge, ValidationFailed
from apps.core.ids import uuid7
from apps.datasets.domain.metadata import DATETIME, MetadataError, coerce_value
from apps.datasets.domain.rows import CleanRow
from apps.datasets.importer import ImportReport, RowWriter, metadata_specs
from apps.datasets.models import Dataset, MediaType
from apps.datasets.services import UploadedFile
from apps.imagery.domain.deid import Pseudonyms, deidentify
from apps.imagery.domain.dicom_pixels import (
    DicomError,
    Frame,
    dicom_date_to_iso,
    frames,
    pixel_spacing,
    render_png,
    tag_value,
    window_presets,
)
from apps.imagery.models import AssetKind, IdentityMapping, ImagingAsset
from apps.imagery.services.settings import imaging_settings_get


@dataclass
class _Slice:
    ds: DicomDataset
    frame: Frame
    frame_index: int


def _read(files: list[UploadedFile]) -> list[DicomDataset]:
    limit = settings.TDP_MAX_UPLOAD_FILE_BYTES
    out: list[DicomDataset] = []
    errors: dict[str, list[str]] = {}
    for index, upload in enumerate(files):
        if upload.size > limit:
            raise PayloadTooLarge(f"A file is larger than the limit of {limit} bytes.", details={"limit": limit})
        try:
            out.append(dcmread(upload.file))
        except (InvalidDicomError, EOFError, ValueError, OSError) as exc:
            errors[f"files[{index}]"] = [f"Not a readable DICOM file ({type(exc).__name__})."]
    if errors:
        raise ValidationFailed("Some files are not DICOM.", details=errors)
    return out


def _pseudonyms(organization_id: Any, keep: bool) -> Pseudonyms:
    if not keep:
        return Pseudonyms()

    def lookup(kind: str, original: str) -> str | None:
        return (
            IdentityMapping.objects.filter(organization_id=organization_id, kind=kind, original=original)
            .values_list("pseudonym", flat=True)
            .first()
        )

    return Pseudonyms(lookup=lookup)


def _metadata(ds: DicomDataset, tags: dict[str, str], specs: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    metadata: dict[str, Any] = {}
    problems: list[str] = []
    for keyword, field_name in tags.items():
        spec = specs.get(field_name)
        value = tag_value(ds, keyword)
        if spec is None or value is None:
            continue
        if isinstance(value, list):
            value = value[0] if len(value) == 1 else "\\".join(str(v) for v in value)
        if spec.kind == DATETIME and isinstance(value, str):
            value = dicom_date_to_iso(value)
        try:
            metadata[field_name] = coerce_value(spec, value, from_text=isinstance(value, str))
        except MetadataError as exc:
            problems.append(f"{keyword} → {field_name}: {exc}")
    return metadata, problems


@transaction.atomic
def dicom_import(*, actor: User, dataset: Dataset, files: list[UploadedFile]) -> dict[str, Any]:
    """De-identify and import DICOM files; files of one series (same SeriesInstanceUID) become consecutive slices."""
    if not files:
        raise ValidationFailed("Send at least one DICOM file in the `files` field.", details={"files": ["Required."]})
    if len(files) > settings.TDP_MAX_UPLOAD_FILES:
        raise PayloadTooLarge(f"At most {settings.TDP_MAX_UPLOAD_FILES} files per request.")
    datasets = _read(files)
    config = imaging_settings_get(dataset.organization)
    pseudonyms = _pseudonyms(dataset.organization_id, config.keep_identity_mapping)
    # Group by series before de-identification (which replaces the UID), decode pixels, then de-identify.
    series: dict[str, list[_Slice]] = defaultdict(list)
    errors: dict[str, list[str]] = {}
    for index, ds in enumerate(datasets):
        try:
            for frame_index, frame in enumerate(frames(ds)):
                series[str(ds.get("SeriesInstanceUID", "") or f"file-{index}")].append(_Slice(ds, frame, frame_index))
        except DicomError as exc:
            errors[f"files[{index}]"] = [str(exc)]
    if errors:
        raise ValidationFailed("Some DICOM files cannot be imported.", details=errors)
    for ds in datasets:
        deidentify(ds, pseudonyms)
    specs = metadata_specs(dataset.organization_id)
    report = ImportReport(keep_rows=True)
    rows: list[CleanRow] = []
    details: dict[str, dict[str, Any]] = {}
    stored_sources: dict[int, str] = {}
    warnings: list[str] = []
    folder = f"uploads/{dataset.organization_id}/{uuid7()}"
    for slices in series.values():
        slices.sort(key=lambda s: s.frame.position)
        for position, item in enumerate(slices, start=1):
            ds = item.ds
            if id(ds) not in stored_sources:
                buffer = io.BytesIO()
                ds.save_as(buffer, enforce_file_format=False)
                stored_sources[id(ds)] = default_storage.save(
                    f"{folder}/{ds.SOPInstanceUID}.dcm", ContentFile(buffer.getvalue())
                )
            presets = window_presets(ds, item.frame.values)
            png = default_storage.save(
                f"{folder}/{ds.SeriesInstanceUID}-{position}.png",
                ContentFile(render_png(item.frame.values, presets[0])),
            )
            metadata, problems = _metadata(ds, config.dicom_metadata_tags, specs)
            warnings.extend(problems)
            key = f"dicom/{ds.SeriesInstanceUID}/{position}"
            height, width = item.frame.values.shape
            rows.append(
                CleanRow(
                    index=len(rows),
                    global_key=key,
                    external_id="",
                    row_data=f"upload://{png}",
                    media_type=MediaType.IMAGE,
                    width=int(width),
                    height=int(height),
                    metadata=metadata,
                    attachments=[],
                )
            )
            details[key] = {
                "source_name": stored_sources[id(ds)],
                "series_uid": str(ds.SeriesInstanceUID),
                "slice_index": position,
                "slice_count": len(slices),
                "pixel_spacing": pixel_spacing(ds),
                "width": int(width),
                "height": int(height),
                "dicom": {
                    "modality": str(ds.get("Modality", "") or ""),
                    "frame": item.frame_index,
                    "study_uid": str(ds.get("StudyInstanceUID", "")),
                    "windows": [{"name": p.name, "center": p.center, "width": p.width} for p in presets],
                },
            }
    RowWriter(dataset, report).write(rows)
    written = {r["global_key"]: r["id"] for r in report.data_rows}
    ImagingAsset.objects.filter(data_row_id__in=written.values()).delete()  # a re-import replaces the details
    ImagingAsset.objects.bulk_create(
        [
            ImagingAsset(
                organization_id=dataset.organization_id, data_row_id=row_id, kind=AssetKind.DICOM, **details[k]
            )
            for k, row_id in written.items()
        ]
    )
    if config.keep_identity_mapping:
        IdentityMapping.objects.bulk_create(
            [
                IdentityMapping(organization_id=dataset.organization_id, kind=kind, original=original, pseudonym=alias)
                for (kind, original), alias in pseudonyms.assigned.items()
            ],
            ignore_conflicts=True,
        )
    audit_record(
        action="dicom.imported",
        actor=actor,
        organization=dataset.organization,
        target=dataset,
        extra={
            "files": len(files),
            "series": len(series),
            "rows": len(written),
            "mapping_kept": config.keep_identity_mapping,
        },
    )
    result = report.as_dict()
    result["series"] = sorted({d["series_uid"] for d in details.values()})
    result["metadata_warnings"] = warnings[:100]
    return result
