"""Mask agreement in consensus and benchmarks equals an independent NumPy computation on generated labels:
dense masks, IoU by pixel counting, the best one-to-one pairing by brute force over permutations."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from pycocotools import mask as cmask

from apps.ontologies.domain import rle as R
from apps.quality.domain.agreement import agreement
from apps.quality.domain.consensus import consensus

H, W = 64, 48
ROAD, FIELD = "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"


def _blob(rng: np.random.Generator) -> np.ndarray:
    m = np.zeros((H, W), np.uint8)
    cy, cx = rng.integers(8, H - 8), rng.integers(8, W - 8)
    ry, rx = rng.integers(3, 12), rng.integers(3, 12)
    yy, xx = np.ogrid[:H, :W]
    m[((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1] = 1
    m &= (rng.random((H, W)) > 0.1).astype(np.uint8)  # ragged edges and holes
    if not m.any():
        m[cy, cx] = 1
    return m


def _jitter(m: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    shifted = np.roll(m, (int(rng.integers(-3, 4)), int(rng.integers(-3, 4))), axis=(0, 1))
    flip = rng.random((H, W)) < 0.03
    out = np.where(flip, 1 - shifted, shifted).astype(np.uint8)
    return out if out.any() else m


def _document(masks: dict[str, list[np.ndarray]]) -> list[dict]:
    return [
        {"schema_id": sid, "name": sid[:4], "tool": "mask", "mask": R.encode(m).document(), "classifications": []}
        for sid, ms in masks.items()
        for m in ms
    ]


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else 0.0


def _feature(a: list[np.ndarray], b: list[np.ndarray]) -> float:
    if not a and not b:
        raise AssertionError("absent from both")
    if not a or not b:
        return 0.0
    small, large = (a, b) if len(a) <= len(b) else (b, a)
    best = max(
        sum(_iou(small[i], large[j]) for i, j in enumerate(perm))
        for perm in itertools.permutations(range(len(large)), len(small))
    )
    return best / max(len(a), len(b))


def _label_score(a: dict[str, list[np.ndarray]], b: dict[str, list[np.ndarray]]) -> float:
    features = [f for f in (ROAD, FIELD) if a.get(f) or b.get(f)]
    if not features:
        return 1.0
    return sum(_feature(a.get(f, []), b.get(f, [])) for f in features) / len(features)


def _labels(rng: np.random.Generator, n_labels: int) -> list[dict[str, list[np.ndarray]]]:
    truth = {ROAD: [_blob(rng) for _ in range(int(rng.integers(1, 5)))], FIELD: [_blob(rng) for _ in range(2)]}
    labels = []
    for _ in range(n_labels):
        label: dict[str, list[np.ndarray]] = {}
        for feature, masks in truth.items():
            kept = [_jitter(m, rng) for m in masks if rng.random() > 0.2]
            if rng.random() < 0.3:
                kept.append(_blob(rng))  # an extra object
            rng.shuffle(kept)
            if kept:
                label[feature] = kept
        labels.append(label)
    return labels


@pytest.mark.parametrize("seed", range(12))
def test_consensus_matrix_equals_numpy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    labels = _labels(rng, 3)
    result = consensus([_document(label) for label in labels], image_size=(W, H))
    for i, j in itertools.combinations(range(3), 2):
        assert result.matrix[i][j] == pytest.approx(_label_score(labels[i], labels[j]), abs=1e-12)
    means = [sum(_label_score(labels[i], labels[j]) for j in range(3) if j != i) / 2 for i in range(3)]
    assert result.label_means == pytest.approx(means, abs=1e-12)


@pytest.mark.parametrize("seed", range(12, 20))
def test_benchmark_agreement_equals_numpy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    label, reference = _labels(rng, 2)
    result = agreement(_document(label), _document(reference))
    assert result.score == pytest.approx(_label_score(label, reference), abs=1e-12)


def test_identical_masks_agree_fully_and_disjoint_masks_not_at_all() -> None:
    m = np.zeros((H, W), np.uint8)
    m[5:10, 5:10] = 1
    other = np.zeros((H, W), np.uint8)
    other[30:40, 30:40] = 1
    assert agreement(_document({ROAD: [m]}), _document({ROAD: [m]})).score == 1.0
    assert agreement(_document({ROAD: [m]}), _document({ROAD: [other]})).score == 0.0


def test_a_mask_against_a_box_or_polygon_is_rasterised_as_coco() -> None:
    m = np.zeros((H, W), np.uint8)
    m[10:30, 5:25] = 1
    mask_doc = _document({ROAD: [m]})
    box = [{"schema_id": ROAD, "tool": "bbox", "bbox": {"left": 8, "top": 12, "width": 20, "height": 25}}]
    coco_box = cmask.frPyObjects([[8, 12, 8, 37, 28, 37, 28, 12]], H, W)[0]
    expected = float(cmask.iou([cmask.encode(np.asfortranarray(m))], [coco_box], [0])[0][0])
    assert agreement(mask_doc, box).score == pytest.approx(expected, abs=1e-12)
    assert agreement(box, mask_doc).score == pytest.approx(expected, abs=1e-12)
    polygon = [
        {"schema_id": ROAD, "tool": "polygon", "polygon": [{"x": 5, "y": 10}, {"x": 25, "y": 10}, {"x": 5, "y": 30}]}
    ]
    coco_poly = cmask.frPyObjects([[5, 10, 25, 10, 5, 30]], H, W)[0]
    expected = _iou(m, cmask.decode(coco_poly))
    assert agreement(mask_doc, polygon).score == pytest.approx(expected, abs=1e-12)
    # Points or lines are not rasterised: another kind still scores 0.
    point = [{"schema_id": ROAD, "tool": "point", "point": {"x": 10, "y": 20}}]
    assert agreement(mask_doc, point).score == 0.0


@pytest.mark.django_db
def test_consensus_scoring_of_mask_labels_through_the_services(org, org_admin, make_user, make_rows):
    """Three labelers paint masks on one row of a consensus project: the stored consensus score is the NumPy one."""
    from apps.labeling import services as labeling_services
    from apps.ontologies import services as ontology_services
    from apps.quality.models import ConsensusScore

    ontology = ontology_services.ontology_create(
        organization=org, name="weeds", tools=[{"name": "weed", "tool": "mask"}], classifications=[], actor=org_admin
    )
    project = labeling_services.project_create(
        actor=org_admin,
        name="Weeds consensus",
        ontology=ontology,
        instructions="Paint.",
        settings={"quality": {"consensus_coverage": 1.0, "consensus_labelers": 3}, "review": {"sample_rate": 0.0}},
    )
    labelers = [make_user(role="labeler", organization=org, username=f"painter-{i}") for i in range(3)]
    for user in labelers:
        labeling_services.project_member_set(actor=org_admin, project=project, user=user, role="labeler")
    row = make_rows(1, width=W, height=H)[0]
    labeling_services.batch_create(actor=org_admin, project=project, name="b", data_row_ids=[str(row.id)])
    rng = np.random.default_rng(99)
    labels = _labels(rng, 3)
    road_only = [{ROAD: label.get(ROAD, [_blob(rng)])} for label in labels]  # one feature: the ontology's tool
    for user, label in zip(labelers, road_only, strict=True):
        task = labeling_services.queue_claim(actor=user, project=project)
        document = [{"name": "weed", "mask": R.encode(m).document()} for m in label[ROAD]]
        labeling_services.label_submit(actor=user, task=task, annotations=document)
    stored = ConsensusScore.objects.get(project=project, data_row=row)
    pair = {(i, j): _label_score(road_only[i], road_only[j]) for i, j in itertools.combinations(range(3), 2)}
    means = [sum(v for k, v in pair.items() if i in k) / 2 for i in range(3)]
    winner = max(range(3), key=lambda i: (means[i], -i))
    expected = (1 + sum(pair[tuple(sorted((i, winner)))] for i in range(3) if i != winner)) / 3
    assert stored.score == pytest.approx(expected, abs=1e-9)
