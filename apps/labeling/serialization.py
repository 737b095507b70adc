"""The label's JSON (API.md "Labels"), shared by the API and by the services that put it in event payloads
(webhooks): a module of its own, so services never import the HTTP layer."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from apps.labeling.models import Label

UUID_FIELD = serializers.UUIDField()
DATETIME_FIELD = serializers.DateTimeField()


def field_value(value: Any, represent: Any = str) -> Any:
    """A field as its DRF serializer field renders it (None stays None)."""
    return None if value is None else represent(value)


class LabelOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    task = serializers.UUIDField(source="task_id")
    project = serializers.UUIDField(source="project_id")
    data_row = serializers.UUIDField(source="data_row_id")
    labeler = serializers.UUIDField(source="labeler_id")
    annotations = serializers.JSONField()
    revision = serializers.IntegerField()
    is_current = serializers.BooleanField()
    status = serializers.CharField(source="task.state")
    seconds_spent = serializers.FloatField(allow_null=True)
    server_seconds = serializers.FloatField(allow_null=True)
    source = serializers.CharField()  # type: ignore[assignment]  # the field, not Field.source
    ontology_version = serializers.UUIDField(source="ontology_version_id")
    created_at = serializers.DateTimeField()


def label_body(label: Label) -> dict[str, Any]:
    """`LabelOutputSerializer(label).data` without the serializer machinery (a test keeps the two identical)."""
    return {
        "id": field_value(label.id, UUID_FIELD.to_representation),
        "task": field_value(label.task_id, UUID_FIELD.to_representation),
        "project": field_value(label.project_id, UUID_FIELD.to_representation),
        "data_row": field_value(label.data_row_id, UUID_FIELD.to_representation),
        "labeler": field_value(label.labeler_id, UUID_FIELD.to_representation),
        "annotations": label.annotations,
        "revision": field_value(label.revision, int),
        "is_current": field_value(label.is_current, bool),
        "status": field_value(label.task.state),
        "seconds_spent": field_value(label.seconds_spent, float),
        "server_seconds": field_value(label.server_seconds, float),
        "source": field_value(label.source),
        "ontology_version": field_value(label.ontology_version_id, UUID_FIELD.to_representation),
        "created_at": field_value(label.created_at, DATETIME_FIELD.to_representation),
    }
