"""Pure labeling rules: state machine, settings validation, review sampling, annotation flattening."""

import pytest

from apps.labeling.domain import states
from apps.labeling.domain.annotation_rows import annotation_rows
from apps.labeling.domain.project_settings import DEFAULTS, normalize_settings


@pytest.mark.parametrize(
    ("transition", "state", "expected"),
    [
        ("claim", "to_label", "in_progress"),
        ("claim", "in_rework", "in_progress"),
        ("submit_for_review", "in_progress", "in_review"),
        ("submit_done", "in_progress", "done"),
        ("skip", "in_progress", "skipped"),
        ("approve", "in_review", "done"),
        ("reject", "in_review", "in_rework"),
    ],
)
def test_allowed_transitions(transition, state, expected):
    assert states.next_state(transition, state) == expected


@pytest.mark.parametrize(
    ("transition", "state"),
    [("claim", "in_review"), ("claim", "done"), ("submit_done", "to_label"), ("skip", "done"), ("approve", "to_label")],
)
def test_forbidden_transitions(transition, state):
    with pytest.raises(states.TransitionError):
        states.next_state(transition, state)


def test_review_sampling_is_deterministic_and_close_to_the_rate():
    import uuid

    ids = [str(uuid.uuid4()) for _ in range(4000)]
    sampled = [states.review_sampled(i, 0.25) for i in ids]
    assert sampled == [states.review_sampled(i, 0.25) for i in ids]
    assert 0.20 < sum(sampled) / len(ids) < 0.30
    assert all(states.review_sampled(i, 1.0) for i in ids[:10])
    assert not any(states.review_sampled(i, 0.0) for i in ids[:10])


def test_settings_defaults_and_partial_updates():
    settings, errors = normalize_settings({"review": {"sample_rate": 0.5}})
    assert errors == {}
    assert settings["review"]["sample_rate"] == 0.5
    assert settings["quality"] == DEFAULTS["quality"]
    again, _ = normalize_settings({"lease": {"minutes": 5}}, settings)
    assert again["review"]["sample_rate"] == 0.5 and again["lease"]["minutes"] == 5


@pytest.mark.parametrize(
    ("raw", "path"),
    [
        ({"review": {"sample_rate": 1.5}}, "review.sample_rate"),
        ({"review": {"sample_rate": float("nan")}}, "review.sample_rate"),
        ({"quality": {"consensus_labelers": 0}}, "quality.consensus_labelers"),
        ({"quality": {"consensus_labelers": True}}, "quality.consensus_labelers"),
        ({"queue": {"order": "random"}}, "queue.order"),
        ({"routing": {"colour": 1}}, "routing.colour"),
        ({"budget": {}}, "budget"),
        ({"lease": {"minutes": 0}}, "lease.minutes"),
    ],
)
def test_invalid_settings_name_the_path(raw, path):
    _, errors = normalize_settings(raw)
    assert path in errors


def test_annotation_rows_flatten_tools_nested_and_top_level_answers():
    document = [
        {
            "schema_id": "t1",
            "name": "vehicle",
            "tool": "bbox",
            "bbox": {"top": 1, "left": 2, "height": 3, "width": 4},
            "classifications": [
                {
                    "schema_id": "c1",
                    "name": "kind",
                    "answer": {
                        "schema_id": "o1",
                        "name": "amb",
                        "classifications": [
                            {"schema_id": "c2", "name": "lights", "answer": {"schema_id": "o2", "name": "yes"}}
                        ],
                    },
                }
            ],
        },
        {"schema_id": "c3", "name": "tags", "answer": [{"schema_id": "o3", "name": "night"}]},
        {"schema_id": "t2", "name": "wheel", "tool": "point", "point": {"x": 5, "y": 6}, "classifications": []},
    ]
    rows = annotation_rows(document)
    assert [(r["name"], r["kind"], r["parent"], r["index"]) for r in rows] == [
        ("vehicle", "bbox", None, 0),
        ("kind", "radio", 0, 0),
        ("lights", "radio", 1, 0),
        ("tags", "checklist", None, 1),
        ("wheel", "point", None, 2),
    ]
    assert (rows[0]["x"], rows[0]["y"], rows[0]["width"], rows[0]["height"]) == (2, 1, 4, 3)
    assert (rows[4]["x"], rows[4]["y"]) == (5, 6)
