"""Radio classification metrics and the converter from stored annotation documents."""

from __future__ import annotations

import math

import numpy as np
import pytest

from apps.diagnostics.domain import Answers, ClassRef, classification_metrics, evaluate, from_documents

SUNNY, RAINY, CLOUDY, DAY = 0, 1, 2, 3


def test_radio_accuracy_and_confusion():
    gt = Answers.build([0, 1, 2, 3, 0], [0, 0, 0, 0, 1], [SUNNY, RAINY, SUNNY, CLOUDY, DAY])
    pred = Answers.build(
        [0, 1, 1, 2, 4],
        [0, 0, 0, 0, 0],
        [SUNNY, SUNNY, RAINY, SUNNY, RAINY],
        [0.9, 0.8, 0.2, 0.3, 0.7],  # image 1: sunny (.8) beats rainy (.2); image 2's prediction is below .5
    )
    options = [ClassRef("o1", "sunny"), ClassRef("o2", "rainy"), ClassRef("o3", "cloudy"), ClassRef("o4", "day")]
    weather, time_of_day = classification_metrics(
        gt,
        pred,
        confidence=0.5,
        questions=[ClassRef("q1", "weather"), ClassRef("q2", "time")],
        options=options,
        question_options=[[SUNNY, RAINY, CLOUDY]],
    )
    assert (weather.answered, weather.predicted, weather.correct) == (4, 2, 1)
    assert weather.accuracy == 0.25
    # rows: gt sunny, rainy, cloudy, none; columns: predicted sunny, rainy, cloudy, none
    assert weather.matrix.tolist() == [[1, 0, 0, 1], [1, 0, 0, 0], [0, 0, 0, 1], [0, 1, 0, 0]]
    d = weather.as_dict()
    assert d["confusion"]["labels"] == ["sunny", "rainy", "cloudy", "none"]
    assert [(o["precision"], o["recall"]) for o in d["options"]] == [(0.5, 0.5), (0.0, 0.0), (None, 0.0)]
    assert time_of_day.accuracy == 0.0 and time_of_day.matrix.tolist() == [[0, 1], [0, 0]]


def test_radio_empty_question():
    [q] = classification_metrics(Answers.empty(), Answers.empty(), questions=[ClassRef("q", "q")])
    assert q.answered == 0 and math.isnan(q.accuracy) and q.matrix.tolist() == [[0]]


def _box(schema_id, name, left, top, width, height, **extra):
    return {
        "schema_id": schema_id,
        "name": name,
        "tool": "bbox",
        "bbox": {"top": top, "left": left, "height": height, "width": width},
        "classifications": [],
        **extra,
    }


def test_from_documents_boxes_answers_and_vocabularies():
    gt_docs = [
        [
            _box("t-car", "car", 20, 10, 40, 30),
            {"schema_id": "q-w", "name": "weather", "answer": {"schema_id": "o-sun", "name": "sunny"}},
            {"schema_id": "t-roof", "name": "roof", "tool": "polygon", "polygon": [{"x": 0, "y": 0}] * 3},
            {"schema_id": "q-tags", "name": "tags", "answer": [{"schema_id": "o-n", "name": "night"}]},
        ],
        None,
        [_box("t-car", "car", 0, 0, 5, 5, confidence=0.1)],
    ]
    pred_docs = [
        [
            _box("t-car", "car", 21, 10, 40, 30, confidence=0.8),
            {
                "schema_id": "q-w",
                "name": "weather",
                "answer": {"schema_id": "o-rain", "name": "rainy", "confidence": 0.4},
            },
        ],
        [_box("t-bus", "bus", 1, 2, 3, 4)],
        [],
    ]
    inp = from_documents(gt_docs, pred_docs, classes=[ClassRef("t-person", "person")])
    assert [c.key for c in inp.classes] == ["t-person", "t-car", "t-bus"]
    assert [c.name for c in inp.classes] == ["person", "car", "bus"]
    assert inp.num_images == 3
    assert inp.gt.image.tolist() == [0, 2] and inp.gt.category.tolist() == [1, 1]
    assert inp.gt.xywh.tolist() == [[20, 10, 40, 30], [0, 0, 5, 5]]
    assert inp.gt.score.tolist() == [1.0, 1.0]  # ground-truth confidences are ignored
    assert inp.pred.image.tolist() == [0, 1] and inp.pred.category.tolist() == [1, 2]
    assert inp.pred.score.tolist() == [0.8, 1.0]  # no confidence → 1.0
    assert [q.key for q in inp.questions] == ["q-w"] and [o.key for o in inp.options] == ["o-sun", "o-rain"]
    assert inp.gt_answers.option.tolist() == [0] and inp.pred_answers.option.tolist() == [1]
    assert inp.pred_answers.score.tolist() == [0.4]  # the answer's confidence when the classification has none
    assert inp.skipped == {"ground_truth": 2, "predictions": 0}
    # The arrays feed the engine directly.
    ev = evaluate(inp.gt, inp.pred, classes=inp.classes, num_images=inp.num_images)
    assert [c.support for c in ev.classes] == [0, 2, 0]
    assert ev.classes[1].true_positives == 1 and ev.classes[2].false_positives == 1
    [weather] = classification_metrics(inp.gt_answers, inp.pred_answers, questions=inp.questions, options=inp.options)
    assert weather.accuracy == 0.0


def test_from_documents_requires_aligned_rows():
    with pytest.raises(ValueError):
        from_documents([[]], [])


def test_from_documents_empty():
    inp = from_documents([None, []], [[], None])
    assert len(inp.gt) == 0 and len(inp.pred) == 0 and inp.num_images == 2
    assert np.array_equal(evaluate(inp.gt, inp.pred, num_images=2).rows.gt, [0, 0])
