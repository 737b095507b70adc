"""Model diagnostics math: predictions against ground truth, pure numpy (no Django imports).

Inputs (flat arrays over all images of a model run; indexes are positions, the vocabularies map them to schema_ids):

- `Boxes(image, category, xywh, score)` — ground truth or predictions; `Boxes.build(...)`; `score` 1.0 for gt.
- `Answers(image, question, option, score)` — radio classification answers.
- `from_documents(ground_truth, predictions, classes=..., questions=..., options=...) -> EvaluationInput` —
  builds both from the stored normalized annotation documents (one list per data row, aligned by position).

Detection metrics:

- `evaluate(gt, pred, *, iou=0.5, confidence=0.0, classes=None, num_images=None, max_dets=100) -> Evaluation`:
  `.classes` (per class precision, recall, F1, support, tp/fp/fn, AP at `iou`), `.confusion` (matrix with a
  background row and column), `.rows` (per image counts and mean IoU), `.matches` (one record per prediction and
  missed box with status, IoU, score; `.filter(...)`, `.order_by(...)`), `.mean_ap`, `.pr_curves`, `.totals`.
  The matching rules (class-aware COCO greedy → class-agnostic confusions → localisation) are in `detection`.
- `coco_map(gt, pred, *, classes=None, num_images=None, max_dets=100) -> MapResult`: COCO's bbox evaluation
  (101-point AP, IoU 0.50:0.05:0.95, maxDets per image and class, area "all", no crowd) per class (`ap`, `ap50`,
  `ap75`) and overall (`map`, `map50`, `map75`); agrees with pycocotools' COCOeval.
- `box_iou(a, b)` (nA×nB IoU matrix), `paired_iou(a, b)`.

Classifications: `classification_metrics(gt_answers, pred_answers, *, confidence=0.0, ...) -> [QuestionMetrics]`
(accuracy and confusion matrix with a `none` row and column per radio question).

Error analysis (on an `Evaluation`; rules in `error_analysis`): `class_frequency` (low support and low recall),
`slice_metrics` (per metadata slice vs the rest, with significance), `error_summary` (false positive, false negative,
confusion, localisation, with the images behind each), `iteration_priorities` (ranked by estimated mAP gain if
that kind of error were fixed, per class and slice), and `errors(...)` bundling them.

Every result has an `as_dict()` (or `as_dicts()`) giving JSON-ready values (undefined numbers → None).
"""

from apps.diagnostics.domain.average_precision import COCO_IOU_THRESHOLDS, RECALL_THRESHOLDS
from apps.diagnostics.domain.boxes import Answers, Boxes, ClassRef, box_iou, paired_iou
from apps.diagnostics.domain.classification import QuestionMetrics, classification_metrics
from apps.diagnostics.domain.detection import (
    BACKGROUND,
    LOCALISATION_MIN_IOU,
    STATUS_NAMES,
    ClassMetrics,
    Confusion,
    Evaluation,
    Matches,
    Rows,
    Status,
    evaluate,
)
from apps.diagnostics.domain.documents import EvaluationInput, from_documents
from apps.diagnostics.domain.error_analysis import (
    CONFUSION,
    ERROR_KINDS,
    FALSE_NEGATIVE,
    FALSE_POSITIVE,
    LOCALISATION,
    ClassFrequency,
    ErrorReport,
    ErrorSet,
    Priority,
    SliceMetrics,
    class_frequency,
    error_sets,
    error_summary,
    errors,
    iteration_priorities,
    slice_metrics,
)
from apps.diagnostics.domain.mean_ap import ClassAP, MapResult, coco_map

__all__ = [
    "BACKGROUND",
    "COCO_IOU_THRESHOLDS",
    "CONFUSION",
    "ERROR_KINDS",
    "FALSE_NEGATIVE",
    "FALSE_POSITIVE",
    "LOCALISATION",
    "LOCALISATION_MIN_IOU",
    "RECALL_THRESHOLDS",
    "STATUS_NAMES",
    "Answers",
    "Boxes",
    "ClassAP",
    "ClassFrequency",
    "ClassMetrics",
    "ClassRef",
    "Confusion",
    "ErrorReport",
    "ErrorSet",
    "Evaluation",
    "EvaluationInput",
    "MapResult",
    "Matches",
    "Priority",
    "QuestionMetrics",
    "Rows",
    "SliceMetrics",
    "Status",
    "box_iou",
    "class_frequency",
    "classification_metrics",
    "coco_map",
    "error_sets",
    "error_summary",
    "errors",
    "evaluate",
    "from_documents",
    "iteration_priorities",
    "paired_iou",
    "slice_metrics",
]
