"""Demo content of the quality app (idempotent): benchmark references, then 30 days of work, then the scores.

The admin stores the exact ground truth of the first scenes as benchmark references of the main project; the
history (`demo_history`) replays the labelers' month, whose first claims are those benchmark rows; every row is then
scored at once (the per-label scoring tasks were held back by `load_demo`)."""

from __future__ import annotations

from apps.accounts.models import Organization, User
from apps.datasets.demo_scenes import ground_truth, scene_spec
from apps.datasets.models import DataRow
from apps.labeling import services as labeling_services
from apps.labeling.demo import CONSENSUS_PROJECT_NAME, PROJECT_NAME
from apps.labeling.models import Label, Project
from apps.quality import services
from apps.quality.demo_history import History

BENCHMARK_ROWS = 8


def load(organization: Organization) -> None:
    main = Project.objects.filter(organization=organization, name=PROJECT_NAME).first()
    admin = User.objects.filter(organization=organization, role="admin").order_by("date_joined").first()
    if main is None or admin is None or Label.objects.filter(project=main).exists():
        return
    consensus = Project.objects.filter(organization=organization, name=CONSENSUS_PROJECT_NAME).first()
    rows = DataRow.objects.filter(organization=organization, tasks__project=main).order_by("-global_key")
    for row in rows.distinct()[:BENCHMARK_ROWS]:
        index = int(row.global_key.split("-")[1])
        label = labeling_services.label_import(
            actor=admin, project=main, data_row=row, annotations=ground_truth(scene_spec(index)), source="demo"
        )
        services.benchmark_set(actor=admin, label=label)
    History(organization, main, consensus).run()
    for project in (main, consensus):
        if project is not None:
            services.project_rescore(project=project)
    labeling_services.project_update(
        actor=admin, project=main, data={"settings": {"quality": {"benchmark_rate": 0.05}}}
    )
