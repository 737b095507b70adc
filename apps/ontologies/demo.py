"""Demo ontology: street scenes, an extension of API.md's vehicles example (idempotent).

Each kind of road user is its own box tool (so a model run's confusion matrix shows car/truck/bus mix-ups), with
nested questions as in API.md (car → kind → police → lights_on); lane lines are polylines, zebra crossings polygons,
and every image answers the global weather, time-of-day, tags and caption questions."""

from __future__ import annotations

from typing import Any

from apps.accounts.models import Organization
from apps.ontologies import services
from apps.ontologies.models import Ontology

# API.md's example ontology, verbatim (tests and the scale seed build on it; the demo loads `STREET`).
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
YES_NO = [{"value": "yes"}, {"value": "no"}]
STREET: dict[str, Any] = {
    "name": "street scenes",
    "description": "Road users in street images: vehicles by kind, people and bicycles as boxes; lane lines and "
    "crosswalks; weather, time of day and tags per image.",
    "tools": [
        {
            "name": "car",
            "tool": "bbox",
            "color": "#e6194b",
            "classifications": [
                {
                    "name": "kind",
                    "type": "radio",
                    "required": True,
                    "options": [
                        {"value": "sedan"},
                        {"value": "taxi"},
                        {
                            "value": "police",
                            "classifications": [{"name": "lights_on", "type": "radio", "options": YES_NO}],
                        },
                    ],
                }
            ],
        },
        {"name": "truck", "tool": "bbox", "color": "#f58231"},
        {"name": "bus", "tool": "bbox", "color": "#ffe119"},
        {
            "name": "ambulance",
            "tool": "bbox",
            "color": "#911eb4",
            "classifications": [{"name": "lights_on", "type": "radio", "required": True, "options": YES_NO}],
        },
        {"name": "bicycle", "tool": "bbox", "color": "#42d4f4"},
        {"name": "person", "tool": "bbox", "color": "#3cb44b"},
        {"name": "lane", "tool": "polyline", "color": "#f032e6"},
        {"name": "crosswalk", "tool": "polygon", "color": "#4363d8"},
    ],
    "classifications": [
        {
            "name": "weather",
            "type": "radio",
            "required": True,
            "options": [{"value": "sunny"}, {"value": "overcast"}, {"value": "rain"}],
        },
        {"name": "time_of_day", "type": "radio", "options": [{"value": "day"}, {"value": "dusk"}, {"value": "night"}]},
        {
            "name": "tags",
            "type": "checklist",
            "options": [{"value": "crowded"}, {"value": "occlusion"}, {"value": "blurry"}],
        },
        {"name": "caption", "type": "text"},
    ],
}


def load(organization: Organization) -> None:
    if Ontology.objects.filter(organization=organization, name=STREET["name"]).exists():
        return
    services.ontology_create(organization=organization, actor=None, **STREET)
