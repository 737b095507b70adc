"""Demo ontology: the vehicles example of API.md (idempotent)."""

from __future__ import annotations

from typing import Any

from apps.accounts.models import Organization
from apps.ontologies import services
from apps.ontologies.models import Ontology

VEHICLES: dict[str, Any] = {
    "name": "vehicles",
    "description": "Road scenes: vehicles with their kind, roofs, lanes, wheels; people in captions.",
    "tools": [
        {
            "name": "vehicle",
            "tool": "bbox",
            "color": "#ff0000",
            "classifications": [
                {
                    "name": "kind",
                    "type": "radio",
                    "required": True,
                    "options": [
                        {"value": "police"},
                        {
                            "value": "ambulance",
                            "classifications": [
                                {"name": "lights_on", "type": "radio", "options": [{"value": "yes"}, {"value": "no"}]}
                            ],
                        },
                    ],
                }
            ],
        },
        {"name": "roof", "tool": "polygon"},
        {"name": "lane", "tool": "polyline"},
        {"name": "wheel", "tool": "point"},
        {"name": "person", "tool": "ner"},
    ],
    "classifications": [
        {"name": "weather", "type": "radio", "options": [{"value": "sunny"}, {"value": "rain"}]},
        {"name": "tags", "type": "checklist", "options": [{"value": "night"}, {"value": "blurry"}]},
        {"name": "caption", "type": "text"},
    ],
}


def load(organization: Organization) -> None:
    if Ontology.objects.filter(organization=organization, name=VEHICLES["name"]).exists():
        return
    services.ontology_create(organization=organization, actor=None, **VEHICLES)
