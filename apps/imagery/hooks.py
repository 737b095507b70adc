"""What the imagery app plugs into earlier apps' registries (called from `ImageryConfig.ready()`)."""

from __future__ import annotations


def register() -> None:
    from apps.exports.registry import register_row_section
    from apps.imagery.export_sql import IMAGING_SECTION
    from apps.imagery.selectors import export_section
    from apps.imagery.services.dicom_view import slice_check
    from apps.labeling.registry import register_label_check

    register_row_section("imaging", export_section, sql=IMAGING_SECTION)
    register_label_check(slice_check)
