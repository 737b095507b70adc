"""Fixtures of the video tests (the datasets and labeling tests' users, clients, dataset, ontology and project)."""

from __future__ import annotations

import pytest

from apps.datasets.models import DataRow, Dataset, VideoAsset, VideoStatus
from tests.datasets.conftest import dataset, manager, manager_client, other_dataset, post_rows  # noqa: F401
from tests.labeling.conftest import make_rows, members, ontology, project, project_factory  # noqa: F401


@pytest.fixture
def make_video_rows(org):
    """Video rows whose probe is done (60 frames at 30 fps, 640×480) unless `status` says otherwise."""

    def make(n: int = 1, *, frames: int = 60, status: str = VideoStatus.READY, prefix: str = "clip") -> list[DataRow]:
        videos = Dataset.objects.create(organization=org, name=f"{prefix}-videos")
        rows = DataRow.objects.bulk_create(
            DataRow(
                organization=org,
                dataset=videos,
                global_key=f"{prefix}-{i}",
                row_data=f"https://example.com/{prefix}-{i}.mp4",
                media_type="video",
                width=640,
                height=480,
            )
            for i in range(n)
        )
        VideoAsset.objects.bulk_create(
            VideoAsset(
                data_row=row,
                organization_id=org.pk,
                status=status,
                frame_count=frames,
                frame_rate=30.0,
                frame_rate_exact="30/1",
                duration=frames / 30,
                width=640,
                height=480,
                codec="h264",
                time_base="1/30",
                pts=list(range(frames)),
            )
            for row in rows
        )
        return rows

    return make
