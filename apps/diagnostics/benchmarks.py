"""`python manage.py benchmark diagnostics [--size N] [--option repeat=3 --option boxes=5 --option classes=10]`

Also runnable without Django settings or a database: `python -m apps.diagnostics.benchmarks [size] [repeat]`.

A synthetic model run: N images (default 10,000), each with `boxes` ground-truth boxes of `classes` classes and as
many predictions (jittered copies, 10% with another class, 10% replaced by random false positives, random scores),
one radio question per image, and a 4-valued metadata slice. Timed, best and median of `repeat` runs (wall clock;
the machine may be shared) and the best CPU time:

- `bundle`: everything at one IoU — `evaluate` (per-class metrics, confusion, rows, matches) + radio metrics +
  `errors` (class frequency, slices, the four error kinds, iteration priorities). Goal: well under 2 s.
- `coco_map`: mAP@[.50:.95] (10 IoU thresholds). Goal: a few seconds.
- `documents`: `from_documents` on the same run as normalized annotation dicts.
- `pipeline`: what the app's metrics computation does in memory — `from_documents`, `evaluate`, `coco_map`, radio
  metrics and `errors` — from the documents (the database reads and the match-record writes come on top).

The issue's figure is 10,000 images × 10 boxes: `python manage.py benchmark diagnostics --option boxes=10`.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from apps.core.benchmarks import benchmark
from apps.diagnostics.domain import Answers, Boxes, classification_metrics, coco_map, errors, evaluate, from_documents


def _run(images: int, boxes: int, classes: int, seed: int = 0) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    n = images * boxes
    image = np.repeat(np.arange(images), boxes)
    category = rng.integers(0, classes, n)
    xy = rng.uniform(0, 900, (n, 2))
    wh = rng.uniform(10, 120, (n, 2))
    gt = Boxes.build(image, category, np.hstack([xy, wh]))
    pred_xy = xy + rng.normal(0, 0.06, (n, 2)) * wh
    pred_wh = wh * rng.uniform(0.85, 1.15, (n, 2))
    pred_category = np.where(rng.random(n) < 0.1, rng.integers(0, classes, n), category)
    replaced = rng.random(n) < 0.1
    pred_xy[replaced] = rng.uniform(0, 900, (int(replaced.sum()), 2))
    pred = Boxes.build(image, pred_category, np.hstack([pred_xy, pred_wh]), rng.random(n))
    options = 3
    answer = rng.integers(0, options, images)
    guessed = np.where(rng.random(images) < 0.8, answer, rng.integers(0, options, images))
    gt_answers = Answers.build(np.arange(images), np.zeros(images, np.int64), answer)
    pred_answers = Answers.build(np.arange(images), np.zeros(images, np.int64), guessed, rng.random(images))
    slices = [("train", "valid", "test", "sensor-b")[i % 4] for i in range(images)]
    return {"gt": gt, "pred": pred, "gt_answers": gt_answers, "pred_answers": pred_answers, "slices": slices}


def _documents(run: dict[str, Any], images: int) -> tuple[list[list[dict[str, Any]]], list[list[dict[str, Any]]]]:
    def docs(b: Boxes, scored: bool) -> list[list[dict[str, Any]]]:
        out: list[list[dict[str, Any]]] = [[] for _ in range(images)]
        for i in range(len(b)):
            x, y, w, h = (float(v) for v in b.xywh[i])
            ann: dict[str, Any] = {
                "schema_id": f"tool-{b.category[i]}",
                "name": f"class {b.category[i]}",
                "tool": "bbox",
                "bbox": {"top": y, "left": x, "height": h, "width": w},
                "classifications": [],
            }
            if scored:
                ann["confidence"] = float(b.score[i])
            out[int(b.image[i])].append(ann)
        return out

    return docs(run["gt"], False), docs(run["pred"], True)


def _time(func: Callable[[], Any], repeat: int) -> dict[str, float]:
    wall, cpu = [], []
    for _ in range(repeat):
        started, cpu_started = time.perf_counter(), time.process_time()
        func()
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
    wall.sort()
    return {"best": round(wall[0], 4), "median": round(wall[len(wall) // 2], 4), "cpu_best": round(min(cpu), 4)}


@benchmark("diagnostics")
def diagnostics(params: dict[str, Any]) -> dict[str, Any]:
    images = int(params.get("size") or 10_000)
    repeat = max(1, int(params.get("repeat") or 3))
    boxes = int(params.get("boxes") or 5)
    classes = int(params.get("classes") or 10)
    run = _run(images, boxes, classes)
    gt, pred = run["gt"], run["pred"]

    def bundle() -> None:
        evaluation = evaluate(gt, pred, iou=0.5, confidence=0.3)
        classification_metrics(run["gt_answers"], run["pred_answers"], confidence=0.3)
        errors(evaluation, slices=run["slices"])

    evaluation = evaluate(gt, pred, iou=0.5, confidence=0.3)
    mean_ap = coco_map(gt, pred)
    gt_docs, pred_docs = _documents(run, images)

    def pipeline() -> None:
        inp = from_documents(gt_docs, pred_docs)
        ev = evaluate(inp.gt, inp.pred, iou=0.5, confidence=0.3, classes=inp.classes, num_images=inp.num_images)
        coco_map(inp.gt, inp.pred, classes=inp.classes, num_images=inp.num_images)
        classification_metrics(run["gt_answers"], run["pred_answers"], confidence=0.3)
        errors(ev, slices=run["slices"])

    timings = {
        "evaluate": _time(lambda: evaluate(gt, pred, iou=0.5, confidence=0.3), repeat),
        "bundle": _time(bundle, repeat),
        "coco_map": _time(lambda: coco_map(gt, pred), repeat),
        "documents": _time(lambda: from_documents(gt_docs, pred_docs), repeat),
        "pipeline": _time(pipeline, repeat),
    }
    return {
        "images": images,
        "gt_boxes": len(gt),
        "predictions": len(pred),
        "classes": classes,
        "repeat": repeat,
        "seconds": {k: v["best"] for k, v in timings.items()},
        "seconds_median": {k: v["median"] for k, v in timings.items()},
        "cpu_seconds": {k: v["cpu_best"] for k, v in timings.items()},
        "images_per_second": {k: round(images / v["best"]) for k, v in timings.items() if v["best"] > 0},
        "goal_seconds": {"bundle": 2.0, "coco_map": 5.0, "pipeline": 5.0},
        "check": {
            "map50_at_iou": round(evaluation.mean_ap, 4),
            "map": round(mean_ap.map, 4),
            "map50": round(mean_ap.map50, 4),
            "precision": round(evaluation.totals["precision"], 4),
            "recall": round(evaluation.totals["recall"], 4),
        },
    }


def _register_app_benchmark() -> None:
    """`diagnostics_app` (the database path) needs Django: registered only when the app registry is ready."""
    from importlib import import_module

    from django.apps import apps as registry

    if registry.ready:
        import_module("apps.diagnostics.app_benchmarks")


_register_app_benchmark()


if __name__ == "__main__":
    size = int(sys.argv[1]) if len(sys.argv) > 1 else None
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else None
    print(json.dumps({"benchmark": "diagnostics", **diagnostics({"size": size, "repeat": rounds})}))  # noqa: T201
