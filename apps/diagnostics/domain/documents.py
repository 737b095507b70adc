"""From stored annotation documents (normalized label format) to the flat arrays of an evaluation.

A document is the list of normalized annotations of one data row (see API.md "Annotation format"; the validator
keeps `schema_id` and `name` on every feature). Image index i is the position of the data row in the two
sequences, so `ground_truth[i]` and `predictions[i]` must describe the same data row (None or [] = nothing).

- A box tool `{"schema_id", "name", "tool": "bbox", "bbox": {"top", "left", "height", "width"}, "confidence"?}`
  becomes one box of class `schema_id` at (left, top, width, height); a prediction's score is its `confidence`
  (1.0 when absent); ground-truth confidences are ignored.
- A top-level radio classification `{"schema_id", "name", "answer": {"schema_id", "name"}, "confidence"?}` becomes
  one answer of question `schema_id` with option `answer.schema_id`; the score is the classification's
  `confidence`, else the answer's, else 1.0.
- With `segm=True` (COCO "segm" evaluation) the objects are masks instead of boxes: a mask tool
  `{"tool": "mask", "mask": {"size", "counts"}}` is one object (its RLE, its tight box as `xywh`), a polygon tool is
  rasterised as pycocotools does at the image's size (`image_sizes[i]` = (width, height); skipped when unknown), and
  box tools are skipped.
- Everything else (other tools, checklist and text answers, nested classifications) is skipped and counted.

Classes, questions and options are keyed by schema_id (the name when a feature has no schema_id); the optional
vocabularies given by the caller (e.g. the ontology's bbox tools, to keep classes without data) come first, in
their order; unseen keys are appended in order of first appearance, ground truth before predictions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from apps.diagnostics.domain.boxes import Answers, Boxes, ClassRef
from apps.ontologies.domain import rle as R


class Vocabulary:
    """Keys → dense indexes, in insertion order."""

    def __init__(self, refs: Sequence[ClassRef] | None = None) -> None:
        self.index: dict[str, int] = {}
        self.refs: list[ClassRef] = []
        for ref in refs or []:
            self.add(ref.key, ref.name)

    def add(self, key: str, name: str) -> int:
        found = self.index.get(key)
        if found is None:
            found = self.index[key] = len(self.refs)
            self.refs.append(ClassRef(key, name))
        return found


@dataclass(frozen=True, eq=False)
class EvaluationInput:
    gt: Boxes
    pred: Boxes
    gt_answers: Answers
    pred_answers: Answers
    classes: tuple[ClassRef, ...]
    questions: tuple[ClassRef, ...]
    options: tuple[ClassRef, ...]
    num_images: int
    skipped: dict[str, int] = field(default_factory=dict)  # {"ground_truth": n, "predictions": n}


def _key(feature: Mapping[str, Any]) -> tuple[str, str] | None:
    key = feature.get("schema_id") or feature.get("name")
    if not isinstance(key, str) or not key:
        return None
    name = feature.get("name")
    return key, name if isinstance(name, str) else key


class _Collector:
    def __init__(
        self, classes: Vocabulary, questions: Vocabulary, options: Vocabulary, scored: bool, segm: bool = False
    ) -> None:
        self.classes, self.questions, self.options, self.scored = classes, questions, options, scored
        self.segm = segm
        self.masks: list[R.RLE] = []
        self.box_image: list[int] = []
        self.box_class: list[int] = []
        self.box_xywh: list[tuple[float, float, float, float]] = []
        self.box_score: list[float] = []
        self.ans_image: list[int] = []
        self.ans_question: list[int] = []
        self.ans_option: list[int] = []
        self.ans_score: list[float] = []
        self.skipped = 0

    def score(self, *sources: Mapping[str, Any]) -> float:
        if not self.scored:
            return 1.0
        for source in sources:
            value = source.get("confidence")
            if isinstance(value, int | float) and not isinstance(value, bool):
                return float(value)
        return 1.0

    def _mask(self, ann: Mapping[str, Any], size: tuple[int, int] | None) -> R.RLE | None:
        try:
            if ann.get("tool") == "mask":
                return R.from_document(ann.get("mask"))
            if ann.get("tool") == "polygon" and size is not None:
                xy = [float(v) for p in ann["polygon"] for v in (p["x"], p["y"])]
                return R.from_polygon(xy, int(size[1]), int(size[0]))
        except (KeyError, TypeError, ValueError):
            return None
        return None

    def document(
        self, image: int, annotations: Sequence[Mapping[str, Any]] | None, size: tuple[int, int] | None = None
    ) -> None:
        for ann in annotations or []:
            if not isinstance(ann, Mapping):
                self.skipped += 1
                continue
            box = ann.get("bbox")
            answer = ann.get("answer")
            key = _key(ann)
            if self.segm and key is not None and ann.get("tool") in ("mask", "polygon"):
                mask = self._mask(ann, size)
                if mask is None:
                    self.skipped += 1
                    continue
                self.box_image.append(image)
                self.box_class.append(self.classes.add(*key))
                self.box_xywh.append(R.bbox(mask))
                self.box_score.append(self.score(ann))
                self.masks.append(mask)
            elif key is not None and isinstance(box, Mapping) and ann.get("tool", "bbox") == "bbox" and not self.segm:
                try:
                    xywh = (float(box["left"]), float(box["top"]), float(box["width"]), float(box["height"]))
                except (KeyError, TypeError, ValueError):
                    self.skipped += 1
                    continue
                self.box_image.append(image)
                self.box_class.append(self.classes.add(*key))
                self.box_xywh.append(xywh)
                self.box_score.append(self.score(ann))
            elif key is not None and isinstance(answer, Mapping) and "tool" not in ann and _key(answer) is not None:
                option = _key(answer)
                assert option is not None
                self.ans_image.append(image)
                self.ans_question.append(self.questions.add(*key))
                self.ans_option.append(self.options.add(*option))
                self.ans_score.append(self.score(ann, answer))
            else:
                self.skipped += 1

    def boxes(self) -> Boxes:
        if not self.box_image:
            empty = Boxes.empty()
            return Boxes(empty.image, empty.category, empty.xywh, empty.score, () if self.segm else None)
        return Boxes.build(
            np.asarray(self.box_image, dtype=np.int64),
            np.asarray(self.box_class, dtype=np.int64),
            np.asarray(self.box_xywh, dtype=np.float64),
            np.asarray(self.box_score, dtype=np.float64),
            tuple(self.masks) if self.segm else None,
        )

    def answers(self) -> Answers:
        if not self.ans_image:
            return Answers.empty()
        return Answers.build(
            np.asarray(self.ans_image, dtype=np.int64),
            np.asarray(self.ans_question, dtype=np.int64),
            np.asarray(self.ans_option, dtype=np.int64),
            np.asarray(self.ans_score, dtype=np.float64),
        )


def from_documents(
    ground_truth: Sequence[Sequence[Mapping[str, Any]] | None],
    predictions: Sequence[Sequence[Mapping[str, Any]] | None],
    *,
    classes: Sequence[ClassRef] | None = None,
    questions: Sequence[ClassRef] | None = None,
    options: Sequence[ClassRef] | None = None,
    segm: bool = False,
    image_sizes: Sequence[tuple[int, int] | None] | None = None,
) -> EvaluationInput:
    """Boxes (masks with `segm`) and radio answers of both sides, with shared vocabularies (module docstring)."""
    if len(ground_truth) != len(predictions):
        raise ValueError("ground_truth and predictions must have one entry per image (the same length).")
    class_vocab, question_vocab, option_vocab = Vocabulary(classes), Vocabulary(questions), Vocabulary(options)
    gt = _Collector(class_vocab, question_vocab, option_vocab, scored=False, segm=segm)
    pred = _Collector(class_vocab, question_vocab, option_vocab, scored=True, segm=segm)
    sizes = list(image_sizes) if image_sizes is not None else [None] * len(ground_truth)
    for image, document in enumerate(ground_truth):
        gt.document(image, document, sizes[image])
    for image, document in enumerate(predictions):
        pred.document(image, document, sizes[image])
    return EvaluationInput(
        gt=gt.boxes(),
        pred=pred.boxes(),
        gt_answers=gt.answers(),
        pred_answers=pred.answers(),
        classes=tuple(class_vocab.refs),
        questions=tuple(question_vocab.refs),
        options=tuple(option_vocab.refs),
        num_images=len(ground_truth),
        skipped={"ground_truth": gt.skipped, "predictions": pred.skipped},
    )
