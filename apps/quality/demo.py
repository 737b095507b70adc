"""Demo content of the quality app (idempotent): benchmark references, then 30 days of work, then the scores.

The admin stores the exact ground truth of a few scenes as benchmark references of both demo projects; the history
(`demo_history`) replays the labelers' month, whose first claims are those benchmark rows; every row is then scored
at once (the per-label scoring tasks were held back by `load_demo`)."""

from __future__ import annotations

from apps.accounts.models import Organization, User
from apps.datasets.demo_scenes import ground_truth, scene_index, scene_spec
from apps.datasets.models import DataRow
from apps.labeling import services as labeling_services
from apps.labeling.demo import CONSENSUS_PROJECT_NAME, CONSENSUS_ROWS, PROJECT_NAME
from apps.labeling.models import Label, Project
from apps.quality import services
from apps.quality.demo_history import History

BENCHMARK_ROWS = 8
CONSENSUS_BENCHMARK_ROWS = 4


def _references(admin: User, project: Project, rows: list[DataRow]) -> None:
    for row in rows:
        index = scene_index(row.global_key)
        assert index is not None, row.global_key
        label = labeling_services.label_import(
            actor=admin, project=project, data_row=row, annotations=ground_truth(scene_spec(index)), source="demo"
        )
        services.benchmark_set(actor=admin, label=label)


def load(organization: Organization) -> None:
    main = Project.objects.filter(organization=organization, name=PROJECT_NAME).first()
    admin = User.objects.filter(organization=organization, role="admin").order_by("date_joined").first()
    if main is None or admin is None or Label.objects.filter(project=main).exists():
        return
    rows = list(
        DataRow.objects.filter(organization=organization, tasks__project=main).order_by("global_key").distinct()
    )
    _references(admin, main, rows[-BENCHMARK_ROWS:])
    consensus = Project.objects.filter(organization=organization, name=CONSENSUS_PROJECT_NAME).first()
    extra = rows[CONSENSUS_ROWS : CONSENSUS_ROWS + CONSENSUS_BENCHMARK_ROWS]
    if consensus is not None and extra:
        labeling_services.batch_create(
            actor=admin,
            project=consensus,
            name="benchmark rows",
            data_row_ids=[str(r.pk) for r in extra],
            quality={"consensus_coverage": 0.0},
        )
        _references(admin, consensus, extra)
        consensus = Project.objects.get(pk=consensus.pk)
    main = Project.objects.get(pk=main.pk)  # now marked as having benchmark references
    History(organization, main, consensus).run()
    for project in (main, consensus):
        if project is not None:
            services.project_rescore(project=project)
    labeling_services.project_update(
        actor=admin, project=Project.objects.get(pk=main.pk), data={"settings": {"quality": {"benchmark_rate": 0.05}}}
    )
