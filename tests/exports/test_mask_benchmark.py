"""`manage.py benchmark masks` at a tiny size: import, consensus math and COCO export run end to end through the real
paths on generated 1024 × 1024 masks, and the consensus goal is judged only at 1,000 rows."""

import io
import json

import pytest
from django.core.management import call_command

from apps.exports.mask_benchmark import SIZE, shapes
from apps.ontologies.domain import rle as R

pytestmark = pytest.mark.django_db


def test_benchmark_masks_runs_end_to_end_at_a_tiny_size():
    out = io.StringIO()
    call_command("benchmark", "masks", "--option", "masks=40", "--option", "consensus_rows=6", stdout=out)
    report = json.loads(out.getvalue().strip().splitlines()[-1])
    assert report["import"]["masks"] == 40
    assert report["import"]["database_cpu_seconds"] is not None  # the private cluster runs on this machine
    assert report["import"]["cpu_ms_per_mask"] > 0
    assert report["coco_export"]["images"] == 8 and report["coco_export"]["masks"] == 40
    assert report["consensus"]["rows"] == 6 and 0.5 < report["consensus"]["mean_score"] < 1.0  # jittered copies
    assert report["targets_met"]["consensus"] is False  # fewer than 1,000 rows: not judged


def test_generated_shapes_are_holed_ellipses_of_the_benchmark_size():
    docs = shapes(count=3)
    for doc in docs:
        rle = R.from_document(doc)
        assert rle.size == [SIZE, SIZE] and R.area(rle) > 1000
        x, y, w, h = R.bbox(rle)
        mask = R.decode(rle)
        assert mask[y + h // 2, x + w // 2] == 0  # the hole in the middle
