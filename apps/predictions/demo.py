"""Demo content of the predictions app (idempotent): a street-scene detector with two runs over the whole dataset.

The predictions come from a simulated detector that sees each scene's exact objects (`demo_scenes`) and makes the
errors real detectors make: it misses objects (small and far ones more often), confuses neighbouring classes (a
truck called a bus, an ambulance a truck), places boxes loosely, invents false positives on the buildings, and is
clearly worse on `east-cam`, whose lens is smudged. Run `v2` is better overall but worse on bicycles, so the
comparison page has rows that flip both ways. The rows still to label in the main project get `v2`'s confident
boxes as pre-labels, and its low-confidence rows are routed to the expert.
"""

from __future__ import annotations

import json
import random
import uuid
import zlib
from dataclasses import dataclass
from typing import Any

from apps.accounts.models import Organization, User
from apps.datasets.demo import DEMO_DATASET
from apps.datasets.demo_scenes import (
    HEIGHT,
    WIDTH,
    WORSE_SENSOR,
    Scene,
    Thing,
    scene_index,
    scene_spec,
    thing_annotation,
)
from apps.datasets.models import DataRow
from apps.labeling import services as labeling_services
from apps.labeling.demo import PROJECT_NAME
from apps.labeling.models import Project, Task, TaskState
from apps.predictions.models import Model
from apps.predictions.services import imports, routing, runs

MODEL_NAME = "street-detector"
CONFUSIONS = {"car": ["truck"], "truck": ["bus", "car"], "bus": ["truck"], "ambulance": ["truck", "car"]}
CONFUSIONS |= {"bicycle": ["person"], "person": ["bicycle"]}
NAMESPACE = uuid.UUID("6f1c3a52-3b8e-4d5e-9a51-0d5e3f1b7c21")


@dataclass(frozen=True)
class Detector:
    name: str
    miss: float
    confuse: float
    sigma: float  # box noise as a fraction of the box size
    false_positives: float  # per image, on average
    weather_accuracy: float
    class_miss: tuple[tuple[str, float], ...] = ()


RUNS = [
    Detector("v1", miss=0.1, confuse=0.08, sigma=0.06, false_positives=0.7, weather_accuracy=0.8),
    Detector(
        "v2",
        miss=0.05,
        confuse=0.04,
        sigma=0.035,
        false_positives=0.35,
        weather_accuracy=0.9,
        class_miss=(("bicycle", 0.3),),
    ),
]


def _rng(*parts: Any) -> random.Random:
    return random.Random(zlib.crc32("/".join(str(p) for p in parts).encode()))  # noqa: S311 - a simulation


def _box(rng: random.Random, box: tuple[float, float, float, float], sigma: float) -> tuple[float, float, float, float]:
    left, top, width, height = box
    x0 = min(max(0.0, left + rng.gauss(0, sigma * width)), WIDTH - 2.0)
    y0 = min(max(0.0, top + rng.gauss(0, sigma * height)), HEIGHT - 2.0)
    x1 = min(float(WIDTH), max(x0 + 2, left + width + rng.gauss(0, sigma * width)))
    y1 = min(float(HEIGHT), max(y0 + 2, top + height + rng.gauss(0, sigma * height)))
    return (x0, y0, x1 - x0, y1 - y0)


def detect(scene: Scene, detector: Detector) -> list[dict[str, Any]]:
    """The detector's annotations (with confidences) for one scene."""
    rng = _rng(detector.name, scene.global_key)
    worse = scene.sensor == WORSE_SENSOR
    night = scene.time_of_day == "night"
    class_miss = dict(detector.class_miss)
    found: list[dict[str, Any]] = []
    for thing in scene.things:
        small = thing.box[2] * thing.box[3] < 2500
        miss = detector.miss + class_miss.get(thing.cls, 0) + (0.25 if small else 0) + (0.25 if worse else 0)
        if rng.random() < miss + (0.08 if night else 0):
            continue
        cls, attrs, confidence = thing.cls, dict(thing.attrs), rng.betavariate(9, 1.6)
        if rng.random() < detector.confuse + (0.12 if worse else 0) and cls in CONFUSIONS:
            cls = rng.choice(CONFUSIONS[cls])
            attrs = {"kind": "sedan"} if cls == "car" else {"lights_on": "no"} if cls == "ambulance" else {}
            confidence = rng.uniform(0.3, 0.75)
        sigma = detector.sigma * (2.5 if worse else 1) * (1.5 if small else 1)
        box = _box(rng, thing.box, sigma)
        if rng.random() < 0.06:  # a loose box
            box = _box(rng, thing.box, sigma * 4)
            confidence *= 0.8
        if worse:
            confidence *= rng.uniform(0.6, 0.95)
        found.append(thing_annotation(Thing(cls, thing.box, attrs), box) | {"confidence": round(confidence, 3)})
    false_positives = detector.false_positives * (2.5 if worse else 1)
    while rng.random() < false_positives / (1 + false_positives):
        cls = rng.choice(["car", "person", "truck", "bicycle", "person"])
        w, h = {"car": (90, 36), "truck": (120, 60), "person": (14, 40), "bicycle": (40, 26)}[cls]
        x, y = rng.uniform(0, WIDTH - w), rng.uniform(120, 440 - h)
        attrs = {"kind": "sedan"} if cls == "car" else {}
        found.append(
            thing_annotation(Thing(cls, (x, y, w, h), attrs), (x, y, w, h))
            | {"confidence": round(rng.uniform(0.05, 0.62), 3)}
        )
        false_positives /= 2
    accuracy = detector.weather_accuracy - (0.25 if worse else 0)
    weather = scene.weather if rng.random() < accuracy else rng.choice(["sunny", "overcast", "rain"])
    found.append({"name": "weather", "answer": {"name": weather}, "confidence": round(rng.uniform(0.5, 0.99), 3)})
    time_of_day = scene.time_of_day if rng.random() < 0.93 else rng.choice(["day", "dusk", "night"])
    found.append({"name": "time_of_day", "answer": {"name": time_of_day}, "confidence": round(rng.uniform(0.6, 1), 3)})
    return found


def _lines(scenes: list[Scene], detector: Detector, keep: Any = None) -> bytes:
    lines = []
    for scene in scenes:
        for n, item in enumerate(detect(scene, detector)):
            if keep is not None and not keep(item):
                continue
            item_id = uuid.uuid5(NAMESPACE, f"{detector.name}/{scene.global_key}/{n}")
            lines.append(json.dumps(item | {"uuid": str(item_id), "data_row": {"global_key": scene.global_key}}))
    return "\n".join(lines).encode()


def load(organization: Organization) -> None:
    admin = User.objects.filter(organization=organization, role="admin").order_by("date_joined").first()
    project = Project.objects.filter(organization=organization, name=PROJECT_NAME).first()
    if admin is None or project is None or Model.objects.filter(organization=organization, name=MODEL_NAME).exists():
        return
    rows = list(
        DataRow.objects.filter(organization=organization, dataset__name=DEMO_DATASET)
        .order_by("global_key")
        .values_list("id", "global_key", "metadata")
    )
    scenes = [scene_spec(index) for _, key, _ in rows if (index := scene_index(key)) is not None]
    model = runs.model_create(
        actor=admin,
        name=MODEL_NAME,
        ontology=project.ontology,
        description="A box detector for the street-scene classes (simulated for the demo).",
    )
    for detector in RUNS:
        run = runs.model_run_create(
            actor=admin, model=model, name=detector.name, config={"epochs": 40 if detector.name == "v1" else 60}
        )
        for split in ("train", "valid", "test"):
            ids = [str(row_id) for row_id, _, metadata in rows if (metadata or {}).get("split") == split]
            if ids:
                runs.model_run_rows_set(actor=admin, model_run=run, split=split, data_row_ids=ids)
        body = _lines(scenes, detector)
        result = imports.annotations_import(
            actor=admin, target=imports.prediction_target(run), chunks=[body], size=len(body)
        )
        if result["failed"]:
            raise RuntimeError(f"demo predictions failed: {result['errors'][:3]}")
    # Pre-labels for the rows still to label: v2's confident boxes and its global answers.
    todo = set(
        Task.objects.filter(project=project, state=TaskState.TO_LABEL).values_list("data_row__global_key", flat=True)
    )
    body = _lines([s for s in scenes if s.global_key in todo], RUNS[1], keep=lambda item: item["confidence"] >= 0.25)
    if body:
        imports.annotations_import(actor=admin, target=imports.prelabel_target(project), chunks=[body], size=len(body))
        project = Project.objects.get(pk=project.pk)
        labeling_services.project_update(
            actor=admin, project=project, data={"settings": {"routing": {"confidence_threshold": 0.3}}}
        )
        routing.project_route(project=Project.objects.get(pk=project.pk))
