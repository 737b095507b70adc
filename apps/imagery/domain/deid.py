"""De-identification of a DICOM dataset on import: the TDP profile (documented in docs/imagery.md).

A subset of the DICOM PS3.15 Annex E Basic Application Level Confidentiality Profile: the attributes that name or
locate the patient, the staff and the institution are removed, the patient id/name are replaced by a pseudonym and
every UID that could link back to the source archive is replaced by a fresh one. Private tags are removed. The
dataset is changed in place, nested sequences included; the caller decides whether the (original → pseudonym) pairs
are kept (only when the organization asks for a mapping).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset

PROFILE_NAME = "TDP basic de-identification profile v1 (PS3.15 Annex E subset)"

# Removed wherever they appear (top level and inside sequences).
REMOVED_KEYWORDS: tuple[str, ...] = (
    "PatientBirthDate",
    "PatientBirthTime",
    "PatientBirthName",
    "PatientAddress",
    "PatientTelephoneNumbers",
    "PatientMotherBirthName",
    "OtherPatientIDs",
    "OtherPatientIDsSequence",
    "OtherPatientNames",
    "MedicalRecordLocator",
    "EthnicGroup",
    "PatientReligiousPreference",
    "MilitaryRank",
    "BranchOfService",
    "CountryOfResidence",
    "RegionOfResidence",
    "InstitutionName",
    "InstitutionAddress",
    "InstitutionalDepartmentName",
    "InstitutionCodeSequence",
    "ReferringPhysicianName",
    "ReferringPhysicianAddress",
    "ReferringPhysicianTelephoneNumbers",
    "PerformingPhysicianName",
    "NameOfPhysiciansReadingStudy",
    "PhysiciansOfRecord",
    "RequestingPhysician",
    "OperatorsName",
    "AccessionNumber",
    "StudyID",
    "StationName",
    "DeviceSerialNumber",
    "RequestAttributesSequence",
    "AdmissionID",
    "IssuerOfPatientID",
    "PatientComments",
    "AdditionalPatientHistory",
    "ImageComments",
    "StudyComments",
    "StudyDescription",
    "SeriesDescription",
    "ProtocolName",
    "RequestedProcedureDescription",
    "PerformedProcedureStepDescription",
    "PerformedProcedureStepID",
    "ScheduledProcedureStepID",
)
# Replaced by a pseudonym (same pseudonym for the same original within an import, and across imports when the
# organization keeps a mapping).
PSEUDONYM_KEYWORDS: tuple[str, ...] = ("PatientID", "PatientName")
UID_KEYWORDS: tuple[str, ...] = (
    "StudyInstanceUID",
    "SeriesInstanceUID",
    "SOPInstanceUID",
    "FrameOfReferenceUID",
    "ReferencedSOPInstanceUID",
    "MediaStorageSOPInstanceUID",
)


def new_uid() -> str:
    """A UUID-derived UID (2.25.<128-bit integer>, PS3.5 B.2)."""
    return f"2.25.{int.from_bytes(secrets.token_bytes(16), 'big')}"


def new_pseudonym() -> str:
    return f"TDP-{secrets.token_hex(6).upper()}"


@dataclass
class Pseudonyms:
    """original → replacement, by kind ("patient" or "uid"). `lookup` may answer from a kept mapping."""

    lookup: Callable[[str, str], str | None] = lambda kind, original: None
    assigned: dict[tuple[str, str], str] = field(default_factory=dict)

    def get(self, kind: str, original: str) -> str:
        key = (kind, original)
        if key not in self.assigned:
            found = self.lookup(kind, original)
            self.assigned[key] = found or (new_uid() if kind == "uid" else new_pseudonym())
        return self.assigned[key]


@dataclass(frozen=True)
class DeidResult:
    removed: tuple[str, ...]
    patient_pseudonym: str
    study_uid: str
    series_uid: str


def _clean(ds: Dataset, pseudonyms: Pseudonyms, removed: set[str]) -> None:
    ds.remove_private_tags()
    for keyword in REMOVED_KEYWORDS:
        if keyword in ds:
            delattr(ds, keyword)
            removed.add(keyword)
    for keyword in UID_KEYWORDS:
        element = ds.data_element(keyword) if keyword in ds else None
        if element is not None and element.value:
            setattr(ds, keyword, pseudonyms.get("uid", str(element.value)))
    elements: list[DataElement] = [ds[tag] for tag in list(ds.keys())]
    for element in elements:
        if element.VR == "SQ":
            for item in element.value:
                _clean(item, pseudonyms, removed)


def deidentify(ds: Dataset, pseudonyms: Pseudonyms) -> DeidResult:
    """Apply the profile to `ds` in place (file meta included) and say what was done."""
    original_patient = str(ds.get("PatientID", "") or "") + "|" + str(ds.get("PatientName", "") or "")
    removed: set[str] = set()
    _clean(ds, pseudonyms, removed)
    patient = pseudonyms.get("patient", original_patient)
    ds.PatientID = patient
    ds.PatientName = patient
    ds.PatientIdentityRemoved = "YES"
    ds.DeidentificationMethod = PROFILE_NAME
    meta = getattr(ds, "file_meta", None)
    if meta is not None and "MediaStorageSOPInstanceUID" in meta and "SOPInstanceUID" in ds:
        meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    return DeidResult(
        removed=tuple(sorted(removed)),
        patient_pseudonym=patient,
        study_uid=str(ds.get("StudyInstanceUID", "")),
        series_uid=str(ds.get("SeriesInstanceUID", "")),
    )
