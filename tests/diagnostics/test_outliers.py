"""Box outliers (pure): robust z-scores of log area and log aspect ratio."""

from __future__ import annotations

import numpy as np

from apps.diagnostics.charts import heat_map, histogram, pr_curves
from apps.diagnostics.domain import Boxes
from apps.diagnostics.domain.outliers import box_outliers, robust_z


def test_robust_z_is_zero_without_spread():
    assert robust_z(np.array([2.0, 2.0, 2.0])).tolist() == [0.0, 0.0, 0.0]


def test_extreme_boxes_are_flagged_with_their_reason():
    rng = np.random.default_rng(1)
    n = 60
    wh = rng.uniform(40, 60, (n, 2))
    wh[10] = (2000, 50)  # very wide (and large)
    wh[20] = (2, 2)  # tiny
    xywh = np.hstack([np.zeros((n, 2)), wh])
    boxes = Boxes.build(np.arange(n), np.zeros(n, dtype=np.int64), xywh)
    found = {o.box: o for o in box_outliers(boxes, side="prediction")}
    assert set(found) == {10, 20}
    assert "wide" in found[10].reasons and "large" in found[10].reasons
    assert found[20].reasons == ("small",)
    assert box_outliers(boxes, side="prediction", mask=np.arange(5)) == []


def test_chart_geometry():
    heat = heat_map(["a", "background"], [[3, 1], [2, 0]])
    assert [c["value"] for c in heat["cells"]] == [3, 1, 2, 0]
    assert heat["cells"][0]["diagonal"] and not heat["cells"][3]["diagonal"]
    assert heat["cells"][3]["opacity"] == 0.0
    bars = histogram([0, 0.5, 1], [1, 3])["bars"]
    assert bars[1]["h"] > bars[0]["h"] > 0
    lines = pr_curves([{"name": "a", "ap": 0.5, "precision": [1.0, None]}], [0.0, 1.0], ["#000"])["lines"]
    assert lines[0]["points"].count(",") == 1
