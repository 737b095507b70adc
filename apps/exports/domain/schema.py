"""The JSON Schema of one NDJSON export line (published at `/api/v1/schemas/export-ndjson.json`).

Sections registered by other apps (e.g. `quality`) appear as additional top-level keys; the schema allows them."""

from __future__ import annotations

from typing import Any

_ID = {"type": "string", "format": "uuid"}
_TIME = {"type": "string", "format": "date-time"}
_OPT_TIME = {"type": ["string", "null"], "format": "date-time"}
_NUM = {"type": ["number", "null"]}
_USER = {
    "type": "object",
    "required": ["id", "username"],
    "properties": {"id": _ID, "username": {"type": "string"}},
}
_POINT = {
    "type": "object",
    "required": ["x", "y"],
    "properties": {"x": {"type": "number"}, "y": {"type": "number"}},
}

_CLASSIFICATION: dict[str, Any] = {
    "type": "object",
    "required": ["schema_id", "name", "answer"],
    "properties": {
        "schema_id": {"type": "string"},
        "name": {"type": "string"},
        "answer": {
            "anyOf": [
                {"type": "string"},
                {"$ref": "#/$defs/option"},
                {"type": "array", "items": {"$ref": "#/$defs/option"}},
            ]
        },
        "confidence": {"type": "number"},
    },
}
_OPTION: dict[str, Any] = {
    "type": "object",
    "required": ["schema_id", "name"],
    "properties": {
        "schema_id": {"type": "string"},
        "name": {"type": "string"},
        "classifications": {"type": "array", "items": {"$ref": "#/$defs/classification"}},
    },
}
_ANNOTATION: dict[str, Any] = {
    "type": "object",
    "required": ["schema_id", "name"],
    "properties": {
        "schema_id": {"type": "string"},
        "name": {"type": "string"},
        "tool": {"enum": ["bbox", "polygon", "polyline", "point", "ner", "mask"]},
        "bbox": {
            "type": "object",
            "required": ["top", "left", "height", "width"],
            "properties": {k: {"type": "number", "minimum": 0} for k in ("top", "left", "height", "width")},
        },
        "polygon": {"type": "array", "minItems": 3, "items": _POINT},
        "line": {"type": "array", "minItems": 2, "items": _POINT},
        "point": _POINT,
        "location": {
            "type": "object",
            "required": ["start", "end"],
            "properties": {"start": {"type": "integer"}, "end": {"type": "integer"}},
        },
        "mask": {  # COCO RLE: column-major, compressed counts as pycocotools writes them
            "type": "object",
            "required": ["size", "counts"],
            "additionalProperties": False,
            "properties": {
                "size": {"type": "array", "items": {"type": "integer", "minimum": 1}, "minItems": 2, "maxItems": 2},
                "counts": {"type": "string"},
            },
        },
        "classifications": {"type": "array", "items": {"$ref": "#/$defs/classification"}},
        "answer": _CLASSIFICATION["properties"]["answer"],
        "confidence": {"type": "number"},
    },
}
_REVIEW = {
    "type": "object",
    "required": ["id", "label", "reviewer", "decision", "feedback", "created_at"],
    "properties": {
        "id": _ID,
        "label": _ID,
        "result_label": {"type": ["string", "null"]},
        "reviewer": _USER,
        "decision": {"enum": ["approve", "reject"]},
        "feedback": {"type": "string"},
        "edited": {"type": "boolean"},
        "seconds_spent": _NUM,
        "server_seconds": _NUM,
        "created_at": _TIME,
    },
}
_LABEL = {
    "type": "object",
    "required": [
        "id",
        "task",
        "revision",
        "labeler",
        "ontology_version",
        "created_at",
        "seconds",
        "annotations",
        "history",
        "reviews",
    ],
    "properties": {
        "id": _ID,
        "task": _ID,
        "slot": {"type": "integer"},
        "task_kind": {"type": "string"},
        "task_state": {"type": "string"},
        "revision": {"type": "integer", "minimum": 1},
        "labeler": _USER,
        "ontology_version": {
            "type": "object",
            "required": ["id", "number"],
            "properties": {"id": _ID, "number": {"type": "integer"}},
        },
        "created_at": _TIME,
        "updated_at": _TIME,
        "seconds_spent": _NUM,
        "server_seconds": _NUM,
        "seconds": {
            "type": "object",
            "required": ["create", "review", "rework"],
            "properties": {"create": _NUM, "review": _NUM, "rework": _NUM},
        },
        "annotations": {"type": "array", "items": {"$ref": "#/$defs/annotation"}},
        "history": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "revision", "labeler", "created_at"],
                "properties": {"id": _ID, "revision": {"type": "integer"}, "labeler": _USER, "created_at": _TIME},
            },
        },
        "reviews": {"type": "array", "items": _REVIEW},
    },
}
_ISSUE = {
    "type": "object",
    "required": ["id", "text", "status", "created_by", "created_at", "comments"],
    "properties": {
        "id": _ID,
        "label": {"type": ["string", "null"]},
        "text": {"type": "string"},
        "status": {"enum": ["open", "resolved"]},
        "created_by": _USER,
        "created_at": _TIME,
        "comments": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "author", "text", "created_at"],
                "properties": {"id": _ID, "author": _USER, "text": {"type": "string"}, "created_at": _TIME},
            },
        },
    },
}

NDJSON_LINE_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "/api/v1/schemas/export-ndjson.json",
    "title": "TDP NDJSON export line (one data row of one project)",
    "type": "object",
    "required": ["data_row", "project", "workflow", "labels", "issues"],
    "properties": {
        "data_row": {
            "type": "object",
            "required": [
                "id",
                "global_key",
                "external_id",
                "row_data",
                "media_type",
                "width",
                "height",
                "dataset",
                "created_at",
                "metadata",
                "attachments",
            ],
            "properties": {
                "id": _ID,
                "global_key": {"type": "string"},
                "external_id": {"type": "string"},
                "row_data": {"type": "string"},
                "media_type": {"enum": ["image", "text", "video"]},
                "width": {"type": ["integer", "null"]},
                "height": {"type": ["integer", "null"]},
                "dataset": {
                    "type": "object",
                    "required": ["id", "name"],
                    "properties": {"id": _ID, "name": {"type": "string"}},
                },
                "created_at": _TIME,
                "metadata": {"type": "object"},
                "attachments": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["type", "value", "name"],
                        "properties": {
                            "type": {"type": "string"},
                            "value": {"type": "string"},
                            "name": {"type": "string"},
                        },
                    },
                },
            },
        },
        "project": {
            "type": "object",
            "required": ["id", "name", "ontology"],
            "properties": {
                "id": _ID,
                "name": {"type": "string"},
                "ontology": {
                    "type": "object",
                    "required": ["id", "version"],
                    "properties": {"id": _ID, "version": {"type": "integer"}},
                },
            },
        },
        "workflow": {
            "type": "object",
            "required": ["state", "priority", "batch", "tasks"],
            "properties": {
                "state": {"enum": ["to_label", "in_progress", "in_review", "in_rework", "done", "skipped"]},
                "priority": {"type": "integer"},
                "batch": {
                    "type": "object",
                    "required": ["id", "name", "priority"],
                    "properties": {"id": _ID, "name": {"type": "string"}, "priority": {"type": "integer"}},
                },
                "tasks": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["id", "slot", "kind", "state"],
                        "properties": {
                            "id": _ID,
                            "slot": {"type": "integer"},
                            "kind": {"type": "string"},
                            "state": {"type": "string"},
                            "labeled_by": {"type": ["string", "null"]},
                            "done_at": _OPT_TIME,
                        },
                    },
                },
            },
        },
        "labels": {"type": "array", "items": _LABEL},
        "issues": {"type": "array", "items": _ISSUE},
    },
    "additionalProperties": True,
    "$defs": {"annotation": _ANNOTATION, "classification": _CLASSIFICATION, "option": _OPTION},
}
