"""COCO ground truth into a project: a COCO instances file stored as the labels of the project's rows.

Images are matched to data rows by their `file_name`, trying in order: the whole name, the name without its
directory, and that name without its extension, each as a global key, then as an external id; an unmatched image
is reported with every key tried. Every annotation goes through the ontology validator: bad ones are reported by
their index in `annotations`, the good ones of each image stored as one label. An image the file lists without any
annotation is a row with nothing to find: it gets an empty `done` label, so a model run built on this ground truth
counts every prediction on it as a false positive instead of leaving the row out."""

from __future__ import annotations

import posixpath
from typing import Any

from apps.accounts.models import User
from apps.core.audit import audit_record
from apps.core.errors import ApplicationError, ValidationFailed
from apps.datasets.models import DataRow
from apps.datasets.selectors import data_rows_by_key
from apps.exports.domain.coco_import import CocoImportError, read_coco, to_annotations
from apps.labeling.models import Project
from apps.labeling.services import label_import
from apps.labeling.services.labels import asset_bounds
from apps.ontologies.selectors import annotations_validate

MAX_ERRORS = 1000


def candidate_keys(file_name: str) -> list[str]:
    """The keys an image's `file_name` may be known by, most specific first (Windows separators too)."""
    whole = file_name.strip()
    base = posixpath.basename(whole.replace("\\", "/"))
    stem = base.rsplit(".", 1)[0] if "." in base.strip(".") else base
    return list(dict.fromkeys(k for k in (whole, base, stem) if k))


def match_images(organization_id: Any, images: dict[Any, str]) -> tuple[dict[Any, DataRow], dict[Any, list[str]]]:
    """COCO image id → data row (the first candidate key that names a row), and the keys tried for the others."""
    tried = {image_id: candidate_keys(name) for image_id, name in images.items()}
    rows = data_rows_by_key(organization_id=organization_id, keys=[k for keys in tried.values() for k in keys])
    matched: dict[Any, DataRow] = {}
    unmatched: dict[Any, list[str]] = {}
    for image_id, keys in tried.items():
        row = next((rows[k] for k in keys if k in rows), None)
        if row is None:
            unmatched[image_id] = keys
        else:
            matched[image_id] = row
    return matched, unmatched


def _no_row_message(keys: list[str]) -> str:
    return "No data row with global key or external id " + " or ".join(repr(k) for k in keys) + "."


def ground_truth_import_coco(*, actor: User, project: Project, body: Any) -> dict[str, Any]:
    try:
        coco_file = read_coco(body)
    except CocoImportError as exc:
        raise ValidationFailed(str(exc), code="invalid_coco", details={"body": [str(exc)]}) from None
    version = project.ontology_version
    tools = {str(tool["name"]): tool for tool in version.tree.get("tools") or []}
    rows, unmatched = match_images(project.organization_id, coco_file.images)
    errors: list[dict[str, Any]] = list(coco_file.image_errors)
    per_image: dict[Any, list[tuple[int, dict[str, Any]]]] = {}
    annotated: set[Any] = set()  # images with at least one annotation in the file, stored or not
    failed = 0

    def fail(index: int, message: str, image: Any = None) -> None:
        nonlocal failed
        failed += 1
        if len(errors) < MAX_ERRORS:
            errors.append({"index": index, "image_id": image, "message": message})

    for index, raw in enumerate(coco_file.annotations):
        image_id = raw.get("image_id") if isinstance(raw, dict) else None
        if not isinstance(raw, dict) or image_id not in coco_file.images:
            fail(index, "Unknown image_id.", image_id)
            continue
        annotated.add(image_id)
        row = rows.get(image_id)
        if row is None:
            fail(index, _no_row_message(unmatched[image_id]), image_id)
            continue
        category = coco_file.categories.get(raw.get("category_id"))
        if category is None:
            fail(index, "Unknown category_id.", image_id)
            continue
        try:
            converted = to_annotations(raw, category=category, tool=tools.get(category))
        except CocoImportError as exc:
            fail(index, str(exc), image_id)
            continue
        image_size, text_length = asset_bounds(row)
        _, problems = annotations_validate(
            version=version, annotations=converted, image_size=image_size, text_length=text_length
        )
        if problems:
            fail(index, "; ".join(f"{p['path']}: {p['message']}" for p in problems[:5]), image_id)
            continue
        per_image.setdefault(image_id, []).extend((index, item) for item in converted)
    for image_id in rows:
        if image_id not in annotated:
            per_image[image_id] = []  # listed without annotations: an empty label
    created = imported = empty = 0
    for image_id, items in per_image.items():
        try:
            label_import(
                actor=actor,
                project=project,
                data_row=rows[image_id],
                annotations=[item for _, item in items],
                source="coco",
            )
        except ApplicationError as exc:
            if not items and len(errors) < MAX_ERRORS:
                errors.append({"image_id": image_id, "message": exc.message})
            for index in dict.fromkeys(index for index, _ in items):
                fail(index, exc.message, image_id)
            continue
        created += 1
        imported += len(items)
        empty += not items
    images_unmatched = [
        {"image_id": image_id, "file_name": coco_file.images[image_id], "keys_tried": keys}
        for image_id, keys in unmatched.items()
    ]
    result = {
        "images": len(coco_file.images),
        "labels_created": created,
        "empty_labels_created": empty,
        "annotations_imported": imported,
        "failed": failed,
        "errors": errors,
        "errors_truncated": failed + len(coco_file.image_errors) > len(errors),
        "images_unmatched": images_unmatched[:MAX_ERRORS],
    }
    audit_record(
        action="ground_truth.imported",
        actor=actor,
        organization=project.organization,
        target=project,
        extra={
            k: result[k] for k in ("images", "labels_created", "empty_labels_created", "annotations_imported", "failed")
        }
        | {"format": "coco", "images_unmatched": len(images_unmatched)},
    )
    return result
