"""The comparison math without a database: deltas and their sign, per-class alignment, flipped rows."""

from __future__ import annotations

import pytest

from apps.diagnostics.domain import comparison


def test_delta_and_sign():
    assert comparison.delta(0.5, 0.75) == {"a": 0.5, "b": 0.75, "delta": 0.25, "sign": "up"}
    assert comparison.delta(0.75, 0.5)["sign"] == "down"
    assert comparison.delta(0.5, 0.5)["sign"] == "same"
    assert comparison.delta(None, 0.5) == {"a": None, "b": 0.5, "delta": None, "sign": None}
    assert comparison.delta(float("nan"), 0.5)["delta"] is None


def test_class_deltas_align_by_schema_id_and_keep_classes_of_either_side():
    a = [{"schema_id": "x", "name": "car", "support": 3, "ap50": 0.5, "map": 0.3, "precision": 1.0, "recall": 0.5}]
    b = [
        {"schema_id": "y", "name": "bus", "support": 1, "ap50": 0.2, "map": 0.1, "precision": 0.5, "recall": 1.0},
        {"schema_id": "x", "name": "car", "support": 3, "ap50": 0.7, "map": 0.2, "precision": 1.0, "recall": 0.5},
    ]
    out = comparison.class_deltas(a, b)
    assert [c["schema_id"] for c in out] == ["x", "y"]
    car, bus = out
    assert car["ap50"]["delta"] == pytest.approx(0.2) and car["ap50"]["sign"] == "up"
    assert car["map"]["sign"] == "down" and car["precision"]["sign"] == "same"
    assert bus["ap50"] == {"a": None, "b": 0.2, "delta": None, "sign": None}
    assert bus["support"] == {"a": None, "b": 1}


def test_flips_in_both_directions_by_class_and_direction():
    rows = ["r1", "r2", "r3", "r4", "r5"]
    errors_a = {"r1": {"car"}, "r3": {"bus"}, "r5": {"car", "bus"}}
    errors_b = {"r2": {"car"}, "r3": {"bus"}, "r5": {"bus"}}
    found = comparison.flips(rows, errors_a, errors_b)
    assert [(f.data_row, f.direction, f.classes) for f in found] == [
        ("r1", "fixed", ("car",)),
        ("r2", "broken", ("car",)),
    ]
    # For one class, a row wrong in both runs can still be fixed for that class.
    car = comparison.flips(rows, errors_a, errors_b, klass="car")
    assert [(f.data_row, f.direction) for f in car] == [("r1", "fixed"), ("r2", "broken"), ("r5", "fixed")]
    assert [f.data_row for f in comparison.flips(rows, errors_a, errors_b, direction="broken")] == ["r2"]
    assert comparison.flip_counts(car) == {"broken": 1, "fixed": 2}
    with pytest.raises(ValueError):
        comparison.flips(rows, errors_a, errors_b, direction="sideways")
