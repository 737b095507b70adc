"""DICOM files generated with pydicom for the tests: a CT series with identifying tags everywhere."""

from __future__ import annotations

import io

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

PATIENT_NAME = "Doe^Jane"
PATIENT_ID = "PID-8675309"
BIRTH_DATE = "19700214"
INSTITUTION = "Saint Elsewhere General Hospital"
PHYSICIAN = "House^Gregory"
ACCESSION = "ACC-4242-XYZ"
IDENTIFYING = (PATIENT_NAME, PATIENT_ID, BIRTH_DATE, INSTITUTION, PHYSICIAN, ACCESSION)


def ct_slice(
    *,
    series_uid: str,
    study_uid: str,
    index: int,
    rows: int = 8,
    cols: int = 10,
    pixel_value: int | None = None,
    spacing: tuple[float, float] = (0.7, 0.8),
    pixels: np.ndarray | None = None,
) -> bytes:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CTImageStorage
    sop = generate_uid()
    meta.MediaStorageSOPInstanceUID = sop
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = sop
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = series_uid
    ds.FrameOfReferenceUID = generate_uid()
    ds.PatientName = PATIENT_NAME
    ds.PatientID = PATIENT_ID
    ds.PatientBirthDate = BIRTH_DATE
    ds.PatientSex = "F"
    ds.InstitutionName = INSTITUTION
    ds.ReferringPhysicianName = PHYSICIAN
    ds.AccessionNumber = ACCESSION
    ds.StudyDate = "20260102"
    ds.Modality = "CT"
    ds.SliceThickness = "2.5"
    ds.InstanceNumber = index
    ds.ImagePositionPatient = [0, 0, 2.5 * index]
    ds.PixelSpacing = list(spacing)
    ds.Rows, ds.Columns = rows, cols
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 0
    ds.RescaleSlope = 1
    ds.RescaleIntercept = -1024
    ds.WindowCenter = 40
    ds.WindowWidth = 400
    ref = Dataset()  # an identifier hidden inside a sequence
    ref.InstitutionName = INSTITUTION
    ref.ReferencedSOPInstanceUID = sop
    ds.ReferencedImageSequence = Sequence([ref])
    ds.add_new(0x00091010, "LO", f"private {PATIENT_NAME}")  # a private tag
    if pixels is not None:
        pixels = pixels.astype(np.uint16)
    elif pixel_value is None:
        pixels = (np.arange(rows * cols, dtype=np.uint16).reshape(rows, cols) * 10 + 1000 + index).astype(np.uint16)
    else:
        pixels = np.full((rows, cols), pixel_value, dtype=np.uint16)
    ds.PixelData = pixels.tobytes()
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return out.getvalue()


def ct_series(count: int = 3) -> list[bytes]:
    study, series = generate_uid(), generate_uid()
    # Out of order on purpose: the import sorts slices by position.
    order = list(range(1, count + 1))[::-1]
    return [ct_slice(series_uid=series, study_uid=study, index=i) for i in order]
