"""The data of `benchmark scale`, built in SQL (INSERT … SELECT generate_series, COPY for vectors): one organization
per size with a dataset of N rows (typed metadata), a project holding 10 % of them as tasks in mixed states, labels
on half of those tasks, and an embedding space of 512 dims on min(N, `vectors`) rows.

Ids are UUIDv7-shaped (48-bit milliseconds first) and grow with `created_at`, as the application's own ids do.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.db import connection, transaction

from apps.accounts import services as account_services
from apps.accounts.models import Organization, User
from apps.catalog.models import EmbeddingSpace
from apps.datasets.metadata_indexes import metadata_indexes_ensure
from apps.datasets.models import Dataset, MetadataField
from apps.labeling import services as labeling_services
from apps.labeling.benchmarks import LABEL  # the queue benchmark's label: valid in its `vehicles` ontology
from apps.labeling.models import Batch, Project
from apps.ontologies import services as ontology_services
from apps.ontologies.demo import VEHICLES

LABELERS = 8
SENSORS = 8
TAGS = ("night", "rain", "fog", "urban", "highway", "snow", "dusk", "glare")
# The ms timestamp of row 0 (2026-01-01T00:00:00Z); row i is created i ms later.
BASE_MS = 1_767_225_600_000
DIMS = 512


@dataclass
class ScaleData:
    size: int
    organization: Organization
    admin: User
    labelers: list[User]
    dataset: Dataset
    project: Project
    space: EmbeddingSpace | None
    vectors: int
    build_s: dict[str, float]
    reused: bool


def org_name(size: int) -> str:
    return f"Scale benchmark {size}"


def _uuid7_sql(ms: str, seed: str) -> str:
    """SQL of a UUIDv7-shaped id from an integer millisecond expression and a text seed (unique per row)."""
    return (
        f"(lpad(to_hex({ms}), 12, '0') || '7' || substr(md5({seed}), 1, 3) || '8' || substr(md5({seed}), 4, 15))::uuid"
    )


def _people(size: int) -> tuple[Organization, User, list[User]]:
    prefix = f"scale{size}"
    organization = Organization.objects.filter(name=org_name(size)).first()
    if organization is None:
        created = account_services.organization_create(
            name=org_name(size),
            admin={"username": f"{prefix}-admin", "password": secrets.token_urlsafe(24)},
            actor=None,
        )
        organization, admin = created.organization, created.admin
    else:
        admin = User.objects.get(username=f"{prefix}-admin")
    labelers = []
    for i in range(LABELERS):
        username = f"{prefix}-labeler-{i}"
        user = User.objects.filter(username=username).first() or account_services.user_create(
            organization=organization, username=username, password=None, role="labeler"
        )
        labelers.append(user)
    return organization, admin, labelers


def _metadata_schema(organization: Organization, admin: User) -> None:
    for name, kind, options in (
        ("sensor", "enum", [f"cam{i}" for i in range(SENSORS)]),
        ("captured_at", "datetime", []),
        ("score", "number", []),
    ):
        MetadataField.objects.get_or_create(
            organization=organization, name=name, defaults={"kind": kind, "options": options, "created_by": admin}
        )


def _insert_rows(organization: Organization, dataset: Dataset, size: int) -> None:
    """N data rows; metadata: split 80/10/10, sensor cam0..7, captured_at one per minute, score in [0, 1), 1–2
    tags (a rare tag, `glare`, on 1 row in 1,000)."""
    ms = f"{BASE_MS} + i"
    sql = f"""
        INSERT INTO datasets_datarow (id, created_at, updated_at, global_key, external_id, row_data, media_type,
                                      width, height, metadata, organization_id, dataset_id)
        SELECT {_uuid7_sql(ms, "%(seed)s || i")}, to_timestamp(({ms}) / 1000.0), now(),
               %(prefix)s || i, '', 'https://example.com/scale/' || i || '.jpg', 'image', 640, 480,
               jsonb_build_object(
                   'split', CASE WHEN i %% 10 < 8 THEN 'train' WHEN i %% 10 = 8 THEN 'valid' ELSE 'test' END,
                   'sensor', 'cam' || (i %% {SENSORS}),
                   'captured_at', to_char((timestamptz '2025-01-01T00:00:00Z' + i * interval '1 minute')
                                          AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"'),
                   'score', ((hashint4(i) & 65535) / 65536.0)::float8,
                   'tag', CASE WHEN i %% 1000 = 7 THEN jsonb_build_array('glare')
                               ELSE jsonb_build_array((%(tags)s::text[])[1 + i %% 7],
                                                      (%(tags)s::text[])[1 + (i + 1 + (i / 7) %% 6) %% 7])
                          END)
               , %(org)s, %(dataset)s
        FROM generate_series(0, %(n)s - 1) AS i
    """  # noqa: S608 (constants of this module only; values are parameters)
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            {
                "seed": f"{dataset.pk}-",
                "prefix": f"sc{size}-",
                "tags": list(TAGS[:7]),
                "org": organization.pk,
                "dataset": dataset.pk,
                "n": size,
            },
        )


def _insert_tasks(project: Project, batches: list[Batch], labelers: list[User]) -> None:
    """A task for every 10th row of the dataset, in two batches; states: 50 % done (with a label), 35 % to label,
    5 % each in review, skipped, in rework."""
    labeler_ids = [str(u.pk) for u in labelers]
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            CREATE TEMP TABLE scale_rows ON COMMIT DROP AS
            SELECT r.id AS row_id, (row_number() OVER (ORDER BY r.created_at, r.id)) - 1 AS j, r.created_at
            FROM datasets_datarow r
            WHERE r.dataset_id = %(dataset)s AND (split_part(r.global_key, '-', 2))::int %% 10 = 0;
            INSERT INTO labeling_task (id, created_at, updated_at, slot, kind, priority, state, skip_reason,
                                       review_priority, batch_id, data_row_id, project_id, labeled_by_id, done_at,
                                       claimed_at)
            SELECT {_uuid7_sql("(extract(epoch FROM s.created_at) * 1000)::bigint", "'t' || s.row_id::text")},
                   s.created_at, now(), 0, 'label', 3,
                   CASE WHEN s.j %% 20 < 10 THEN 'done' WHEN s.j %% 20 = 10 THEN 'in_review'
                        WHEN s.j %% 20 = 11 THEN 'skipped' WHEN s.j %% 20 = 12 THEN 'in_rework' ELSE 'to_label' END,
                   '', 0, CASE WHEN s.j %% 2 = 0 THEN %(batch_a)s ELSE %(batch_b)s END::uuid, s.row_id,
                   %(project)s,
                   CASE WHEN s.j %% 20 < 11 THEN (%(labelers)s::uuid[])[1 + s.j %% {len(labeler_ids)}] END,
                   CASE WHEN s.j %% 20 < 10 THEN s.created_at + interval '1 hour' END,
                   CASE WHEN s.j %% 20 < 11 THEN s.created_at + interval '50 minutes' END
            FROM scale_rows s;
            INSERT INTO labeling_label (id, created_at, updated_at, annotations, revision, is_current, seconds_spent,
                                        server_seconds, data_row_id, labeler_id, ontology_version_id, project_id,
                                        task_id, source)
            SELECT {_uuid7_sql("(extract(epoch FROM t.done_at) * 1000)::bigint", "'l' || t.id::text")},
                   t.done_at, t.done_at, %(label)s::jsonb, 1, true, 20.0, 21.0, t.data_row_id, t.labeled_by_id,
                   %(version)s, t.project_id, t.id, 'labeler'
            FROM labeling_task t WHERE t.project_id = %(project)s AND t.state = 'done';
            """,  # noqa: S608 (constants of this module only; values are parameters)
            {
                "dataset": _dataset_of(project),
                "batch_a": str(batches[0].pk),
                "batch_b": str(batches[1].pk),
                "project": project.pk,
                "labelers": labeler_ids,
                "label": json.dumps(LABEL),
                "version": project.ontology_version_id,
            },
        )


def _dataset_of(project: Project) -> Any:
    return Dataset.objects.get(organization_id=project.organization_id, name="scale").pk


def _vectors(space: EmbeddingSpace, dataset: Dataset, count: int, seed: int = 0) -> None:
    """`count` 512-d float32 vectors (clusters of a Gaussian mixture, as real embeddings are), written with COPY."""
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((max(16, count // 500), DIMS), dtype=np.float32)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM datasets_datarow WHERE dataset_id = %s ORDER BY created_at, id LIMIT %s",
            [dataset.pk, count],
        )
        ids = [r[0] for r in cursor.fetchall()]
    raw = connection.connection
    chunk = 20_000
    with raw.cursor() as cursor:
        for start in range(0, len(ids), chunk):
            part = ids[start : start + chunk]
            which = rng.integers(0, centers.shape[0], len(part))
            block = centers[which] + 0.35 * rng.standard_normal((len(part), DIMS), dtype=np.float32)
            block = block.astype("<f4")
            with cursor.copy(
                "COPY catalog_embeddingvector (space_id, data_row_id, vector, updated_at) FROM STDIN"
            ) as copy:
                for row_id, vec in zip(part, block, strict=True):
                    copy.write_row((space.pk, row_id, vec.tobytes(), "2026-01-01T00:00:00Z"))
    EmbeddingSpace.objects.filter(pk=space.pk).update(version=1)
    space.refresh_from_db(fields=["version"])


def build(size: int, *, max_vectors: int = 1_000_000) -> ScaleData:
    """The data of one size, reused when an earlier run left it complete."""
    organization, admin, labelers = _people(size)
    timings: dict[str, float] = {}
    dataset = Dataset.objects.filter(organization=organization, name="scale").first()
    project = Project.objects.filter(organization=organization, name="scale").first()
    space = EmbeddingSpace.objects.filter(organization=organization, name="scale-512").first()
    vectors = min(size, max_vectors)
    if dataset is not None and project is not None and (space is not None or vectors == 0):
        return ScaleData(size, organization, admin, labelers, dataset, project, space, vectors, timings, True)
    _metadata_schema(organization, admin)
    started = time.perf_counter()
    with transaction.atomic():
        dataset = Dataset.objects.create(organization=organization, name="scale", created_by=admin)
        _insert_rows(organization, dataset, size)
    timings["rows_s"] = time.perf_counter() - started
    ontology = ontology_services.ontology_create(
        organization=organization,
        name="vehicles",
        tools=VEHICLES["tools"],
        classifications=[{"name": "weather", "type": "radio", "options": [{"value": "sunny"}, {"value": "rain"}]}],
        actor=admin,
    )
    project = labeling_services.project_create(
        actor=admin, name="scale", ontology=ontology, instructions="Scale.", settings={"review": {"sample_rate": 0.0}}
    )
    for user in labelers:
        labeling_services.project_member_set(actor=admin, project=project, user=user, role="labeler")
    started = time.perf_counter()
    with transaction.atomic():
        batches = [Batch.objects.create(project=project, name=n, priority=3, created_by=admin) for n in ("A", "B")]
        _insert_tasks(project, batches, labelers)
    timings["tasks_labels_s"] = time.perf_counter() - started
    space = None
    if vectors:
        started = time.perf_counter()
        with transaction.atomic():
            space = EmbeddingSpace.objects.create(organization=organization, name="scale-512", dims=DIMS)
            _vectors(space, dataset, vectors)
        timings["vectors_s"] = time.perf_counter() - started
    started = time.perf_counter()
    metadata_indexes_ensure()  # as the task enqueued by `metadata_field_create` does
    timings["metadata_indexes_s"] = time.perf_counter() - started
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for table in ("datasets_datarow", "labeling_task", "labeling_label", "catalog_embeddingvector"):
            verb = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"  # VACUUM: not in a transaction
            cursor.execute(f"{verb} {table}")
    timings["analyze_s"] = time.perf_counter() - started
    return ScaleData(size, organization, admin, labelers, dataset, project, space, vectors, timings, False)
