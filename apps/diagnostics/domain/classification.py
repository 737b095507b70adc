"""Radio classification metrics: accuracy and a confusion matrix per question.

Per question, each image has at most one ground-truth answer (the first given) and at most one predicted answer
(the highest score among predictions with score >= confidence; ties: the first given). Over the images that have a
ground-truth answer: `accuracy = correct / answered`, where an image without a kept prediction counts as wrong.
The confusion matrix has one row per ground-truth option and one column per predicted option, each plus a final
`none`: row `none` counts predictions on images without a ground-truth answer, column `none` counts ground-truth
answers without a kept prediction. The options listed are those given for the question (`question_options`), then
every other option that occurs in its ground truth or predictions, in index order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from apps.diagnostics.domain.boxes import Answers, ClassRef, FloatArray, IntArray
from apps.diagnostics.domain.detection import json_number

NONE = "none"


@dataclass(frozen=True, eq=False)
class QuestionMetrics:
    index: int
    key: str
    name: str
    options: tuple[int, ...]  # option indexes, in matrix order (without `none`)
    option_refs: tuple[ClassRef, ...]
    answered: int  # images with a ground-truth answer
    predicted: int  # of those, images with a kept prediction
    correct: int
    accuracy: float  # correct / answered; NaN when nothing is answered
    matrix: IntArray  # (L+1, L+1): [gt option or none, predicted option or none]

    @property
    def option_recall(self) -> FloatArray:
        support = self.matrix[:-1].sum(axis=1)
        out = np.full(len(support), np.nan)
        np.divide(np.diag(self.matrix)[:-1], support, out=out, where=support > 0)
        return out

    @property
    def option_precision(self) -> FloatArray:
        predicted = self.matrix[:, :-1].sum(axis=0)
        out = np.full(len(predicted), np.nan)
        np.divide(np.diag(self.matrix)[:-1], predicted, out=out, where=predicted > 0)
        return out

    def as_dict(self) -> dict[str, Any]:
        recall, precision = self.option_recall, self.option_precision
        return {
            "index": self.index,
            "schema_id": self.key,
            "name": self.name,
            "answered": self.answered,
            "predicted": self.predicted,
            "correct": self.correct,
            "accuracy": json_number(self.accuracy),
            "options": [
                {
                    "schema_id": ref.key,
                    "name": ref.name,
                    "support": int(self.matrix[i, :].sum()),
                    "precision": json_number(float(precision[i])),
                    "recall": json_number(float(recall[i])),
                }
                for i, ref in enumerate(self.option_refs)
            ],
            "confusion": {
                "labels": [r.name for r in self.option_refs] + [NONE],
                "schema_ids": [r.key for r in self.option_refs] + [None],
                "matrix": self.matrix.tolist(),
            },
        }


def _first_per_image(image: IntArray, option: IntArray, order: IntArray) -> tuple[IntArray, IntArray]:
    """The first entry per image in `order`: (sorted unique images, their options)."""
    img = image[order]
    uniq, first = np.unique(img, return_index=True)
    return uniq, option[order][first]


def classification_metrics(
    gt: Answers,
    pred: Answers,
    *,
    confidence: float = 0.0,
    questions: Sequence[ClassRef] | None = None,
    options: Sequence[ClassRef] | None = None,
    question_options: Sequence[Sequence[int]] | None = None,
) -> list[QuestionMetrics]:
    """Accuracy and confusion matrix of every question (index 0..Q-1, Q from `questions` or the data)."""
    q_refs = list(questions or [])
    top_q = max([int(a.question.max()) + 1 for a in (gt, pred) if len(a)], default=0)
    q_refs += [ClassRef(str(i), str(i)) for i in range(len(q_refs), top_q)]
    o_refs = list(options or [])
    top_o = max([int(a.option.max()) + 1 for a in (gt, pred) if len(a)], default=0)
    o_refs += [ClassRef(str(i), str(i)) for i in range(len(o_refs), top_o)]
    kept = pred.score >= confidence
    results = []
    for q, ref in enumerate(q_refs):
        g_sel = np.flatnonzero(gt.question == q)
        p_sel = np.flatnonzero((pred.question == q) & kept)
        g_img, g_opt = _first_per_image(gt.image[g_sel], gt.option[g_sel], np.arange(len(g_sel)))
        p_order = np.lexsort((p_sel, -pred.score[p_sel]))
        p_img, p_opt = _first_per_image(pred.image[p_sel], pred.option[p_sel], p_order)
        given = list(question_options[q]) if question_options is not None and q < len(question_options) else []
        seen = np.setdiff1d(np.concatenate([g_opt, p_opt]), np.asarray(given, dtype=np.int64)).tolist()
        labels = np.asarray(given + seen, dtype=np.int64)
        code = np.full(int(labels.max()) + 1 if len(labels) else 0, -1, dtype=np.int64)
        code[labels] = np.arange(len(labels))
        size = len(labels) + 1
        none = size - 1
        images = np.union1d(g_img, p_img)
        row = np.full(len(images), none, dtype=np.int64)
        col = np.full(len(images), none, dtype=np.int64)
        row[np.searchsorted(images, g_img)] = code[g_opt]
        col[np.searchsorted(images, p_img)] = code[p_opt]
        matrix = np.bincount(row * size + col, minlength=size * size).reshape(size, size).astype(np.int64)
        answered = len(g_img)
        has_gt = row != none
        predicted = int((has_gt & (col != none)).sum())
        correct = int((has_gt & (row == col)).sum())
        results.append(
            QuestionMetrics(
                index=q,
                key=ref.key,
                name=ref.name,
                options=tuple(int(o) for o in labels),
                option_refs=tuple(o_refs[int(o)] for o in labels),
                answered=answered,
                predicted=predicted,
                correct=correct,
                accuracy=correct / answered if answered else float("nan"),
                matrix=matrix,
            )
        )
    return results
