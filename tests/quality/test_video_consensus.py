"""Consensus on video rows: the three labels' tracks are compared frame by frame (video agreement), not as images."""

from __future__ import annotations

import pytest

from apps.quality.models import ConsensusScore, LabelScore
from tests.quality.conftest import add_batch
from tests.quality.test_workflow import claim_and_submit
from tests.video.conftest import make_video_rows  # noqa: F401

pytestmark = pytest.mark.django_db

KIND = [{"name": "kind", "answer": {"name": "police"}}]


def track(left_at_30: float) -> list[dict]:
    return [
        {
            "name": "vehicle",
            "track_id": "car",
            "classifications": KIND,
            "keyframes": [
                {"frame": 0, "bbox": {"left": 10, "top": 10, "width": 40, "height": 40}},
                {"frame": 30, "bbox": {"left": left_at_30, "top": 10, "width": 40, "height": 40}},
            ],
        }
    ]


def test_video_consensus_compares_tracks(consensus_project, org_admin, labelers, make_video_rows):  # noqa: F811
    row = make_video_rows(1)[0]
    add_batch(consensus_project, org_admin, [row])
    claim_and_submit(labelers[0], consensus_project, track(70))
    claim_and_submit(labelers[1], consensus_project, track(70))
    claim_and_submit(labelers[2], consensus_project, track(400))
    score = ConsensusScore.objects.get(data_row=row)
    assert score.label_count == 3 and score.complete
    # the two equal labels agree 1.0; the third drifts apart after frame 0 and stays apart to frame 59
    from apps.labeling.models import Label
    from apps.quality.domain.video_agreement import video_agreement

    labels = list(Label.objects.filter(data_row=row).order_by("created_at"))
    odd = video_agreement(labels[2].annotations, labels[0].annotations, frame_count=60).score
    assert 0 < odd < 0.5
    assert score.score == pytest.approx((1 + 1 + odd) / 3)
    assert score.flagged  # below the project's 0.9 threshold
    agreements = sorted(LabelScore.objects.filter(data_row=row).values_list("consensus_agreement", flat=True))
    assert agreements == pytest.approx(sorted([1 * 0.5 + odd * 0.5, 1 * 0.5 + odd * 0.5, odd]))
