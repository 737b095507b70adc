"""The organization's imaging settings: identity mapping on/off and the DICOM tags that become metadata."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from pydicom.datadict import keyword_dict

from apps.accounts.models import Organization, User
from apps.core.audit import audit_record
from apps.core.errors import ValidationFailed
from apps.datasets.models import MetadataField
from apps.imagery.domain.deid import PSEUDONYM_KEYWORDS, REMOVED_KEYWORDS, UID_KEYWORDS
from apps.imagery.models import ImagingSettings

MAX_TAGS = 50
_NOT_SELECTABLE = frozenset(REMOVED_KEYWORDS) | frozenset(PSEUDONYM_KEYWORDS) | frozenset(UID_KEYWORDS)


def imaging_settings_get(organization: Organization) -> ImagingSettings:
    found = ImagingSettings.objects.filter(organization=organization).first()
    return found or ImagingSettings(organization=organization)


@transaction.atomic
def imaging_settings_update(
    *,
    actor: User,
    organization: Organization,
    keep_identity_mapping: bool | None = None,
    dicom_metadata_tags: dict[str, Any] | None = None,
) -> ImagingSettings:
    """Change the settings. A selected tag must be a DICOM keyword the de-identification profile keeps, mapped to
    an existing metadata field of the organization (whose kind types the value)."""
    current = imaging_settings_get(organization)
    if dicom_metadata_tags is not None:
        if not isinstance(dicom_metadata_tags, dict) or len(dicom_metadata_tags) > MAX_TAGS:
            raise ValidationFailed(
                f"dicom_metadata_tags is an object of at most {MAX_TAGS} DICOM keyword → metadata field name.",
                details={"dicom_metadata_tags": ["Invalid."]},
            )
        names = set(MetadataField.objects.filter(organization=organization).values_list("name", flat=True))
        errors: dict[str, list[str]] = {}
        for keyword, field_name in dicom_metadata_tags.items():
            if keyword not in keyword_dict:
                errors[keyword] = ["Not a DICOM keyword (e.g. Modality, SliceThickness, StudyDate)."]
            elif keyword in _NOT_SELECTABLE:
                errors[keyword] = ["This tag is removed or replaced by de-identification and cannot be metadata."]
            elif not isinstance(field_name, str) or field_name not in names:
                errors[keyword] = ["Map it to the name of an existing metadata field."]
        if errors:
            raise ValidationFailed("Some DICOM tags cannot become metadata.", details=errors)
        current.dicom_metadata_tags = dict(dicom_metadata_tags)
    if keep_identity_mapping is not None:
        current.keep_identity_mapping = bool(keep_identity_mapping)
    current.save()
    audit_record(
        action="imaging_settings.updated",
        actor=actor,
        organization=organization,
        target=current,
        extra={"keep_identity_mapping": current.keep_identity_mapping, "tags": sorted(current.dicom_metadata_tags)},
    )
    return current
