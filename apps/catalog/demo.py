"""Demo content: the built-in embedding (colour histogram + layout) of the street scenes, its map and clusters, and
two saved slices. Idempotent."""

from __future__ import annotations

from apps.accounts.models import Organization, User
from apps.accounts.roles import OrgRole
from apps.catalog import embedder, services
from apps.catalog.models import EmbeddingVector, Slice
from apps.datasets.demo import DEMO_DATASET
from apps.datasets.models import DataRow, Dataset, MediaType

SLICES = [
    ("Night scenes", {"metadata.time_of_day": "night"}),
    ("east-cam (smudged lens)", {"metadata.sensor": "east-cam"}),
    ("Rain on Market Street", {"metadata.weather": "rain", "metadata.street": "Market Street"}),
]


def load(organization: Organization) -> None:
    actor = User.objects.filter(organization=organization, role=OrgRole.ADMIN, is_active=True).first()
    dataset = Dataset.objects.filter(organization=organization, name=DEMO_DATASET).first()
    if actor is None or dataset is None:
        return
    space = embedder.builtin_space(actor=actor)
    if EmbeddingVector.objects.filter(space=space, data_row__dataset=dataset).exists():
        return
    rows = list(
        DataRow.objects.filter(dataset=dataset, media_type=MediaType.IMAGE, row_data__startswith="upload://").order_by(
            "global_key"
        )
    )
    vectors, _ = embedder.embed_rows(rows)
    if not vectors:
        return
    services.embedding_vectors_store(space=space, vectors=vectors)
    services.space_analysis_compute(space=space, clusters=min(6, len(vectors)), neighbors=min(10, len(vectors) - 1))
    for name, filters in SLICES:
        if not Slice.objects.filter(organization=organization, name=name).exists():
            services.slice_create(actor=actor, name=name, dataset=dataset, filters=filters)
