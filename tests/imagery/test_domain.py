"""Pure imagery domain: the DICOM window function on known values, presets, and the de-identification profile."""

from __future__ import annotations

import io

import numpy as np
import pydicom
import pytest

from apps.imagery.domain.deid import REMOVED_KEYWORDS, Pseudonyms, deidentify
from apps.imagery.domain.windowing import (
    PRESETS_BY_NAME,
    WindowError,
    apply_window,
    auto_window,
    modality_values,
    presets_for,
)
from tests.imagery.dicom_factory import IDENTIFYING, ct_series


def test_soft_tissue_window_on_known_hounsfield_values():
    preset = PRESETS_BY_NAME["soft_tissue"]  # c=40, w=400: visible range (-160, 239]
    hu = np.array([-1000, -160, -159, 39.5, 40, 239, 240, 3000])
    # -159: ((-159 - 39.5) / 399 + 0.5) * 255 = 0.639 → 1; 39.5 → 127.5 → 128; 239 → 255.0 → 255
    assert apply_window(hu, preset.center, preset.width).tolist() == [0, 0, 1, 128, 128, 255, 255, 255]


def test_lung_and_bone_windows():
    lung = PRESETS_BY_NAME["lung"]  # c=-600, w=1500
    out = apply_window(np.array([-1350.5, -600.0, 150.0, 400.0]), lung.center, lung.width)
    # -600 → ((-600 + 600.5) / 1499 + 0.5) * 255 = 127.585 → 128; 150 → 255.09 clipped by the upper branch
    assert out.tolist() == [0, 128, 255, 255]
    bone = PRESETS_BY_NAME["bone"]
    assert apply_window(np.array([400.0]), bone.center, bone.width).tolist() == [128]


def test_rescale_then_window_matches_a_ct_pixel():
    stored = np.array([[0, 1024, 1064, 2048]], dtype=np.uint16)
    hu = modality_values(stored, slope=1, intercept=-1024)
    assert hu.tolist() == [[-1024, 0, 40, 1024]]
    assert apply_window(hu, 40, 400).tolist() == [[0, 102, 128, 255]]  # 0 HU: ((0 - 39.5) / 399 + 0.5) * 255 = 102.25


def test_window_width_one_is_a_threshold_and_bad_windows_fail():
    assert apply_window(np.array([9.0, 10.0, 11.0]), 10, 1).tolist() == [0, 255, 255]
    with pytest.raises(WindowError):
        apply_window(np.array([1.0]), 10, 0)
    with pytest.raises(WindowError):
        apply_window(np.array([1.0]), float("nan"), 10)


def test_auto_window_spans_the_image_and_presets_by_modality():
    values = np.array([100.0, 200.0, 300.0])
    window = auto_window(values)
    assert apply_window(values, window.center, window.width).tolist() == [0, 128, 255]
    assert [p.name for p in presets_for("CT", None)][:2] == ["soft_tissue", "lung"]
    assert presets_for("MR", None) == []


def test_profile_removes_identifiers_everywhere_and_keeps_one_pseudonym_per_patient():
    pseudonyms = Pseudonyms()
    outputs = []
    for blob in ct_series(3):
        ds = pydicom.dcmread(io.BytesIO(blob))
        original_series = ds.SeriesInstanceUID
        result = deidentify(ds, pseudonyms)
        assert result.series_uid != original_series and result.series_uid.startswith("2.25.")
        for keyword in REMOVED_KEYWORDS:
            assert keyword not in ds
        buffer = io.BytesIO()
        ds.save_as(buffer)
        outputs.append((buffer.getvalue(), result))
    for blob, _ in outputs:
        for value in IDENTIFYING:
            assert value.encode() not in blob
    assert len({r.patient_pseudonym for _, r in outputs}) == 1
    assert len({r.series_uid for _, r in outputs}) == 1  # the series stays one series
    assert len(pseudonyms.assigned) >= 3 + 1 + 1 + 1  # SOPs, the patient, study, series (frames of reference too)


def test_kept_mapping_answers_first():
    pseudonyms = Pseudonyms(lookup=lambda kind, original: "TDP-KNOWN" if kind == "patient" else None)
    ds = pydicom.dcmread(io.BytesIO(ct_series(1)[0]))
    assert deidentify(ds, pseudonyms).patient_pseudonym == "TDP-KNOWN"
