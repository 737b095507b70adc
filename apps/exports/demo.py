"""Demo content of the exports app (idempotent): an NDJSON and a COCO export of the main demo project, written now
by the same job body the worker runs (its task was held back by `load_demo`)."""

from __future__ import annotations

from apps.accounts.models import Organization, User
from apps.exports import services
from apps.exports.models import Export
from apps.exports.tasks import export_job
from apps.labeling.demo import PROJECT_NAME
from apps.labeling.models import Project


def load(organization: Organization) -> None:
    manager = User.objects.filter(organization=organization, username="demo-manager").first()
    project = Project.objects.filter(organization=organization, name=PROJECT_NAME).first()
    if manager is None or project is None or Export.objects.filter(project=project).exists():
        return
    for fmt in ("ndjson", "coco"):
        export = services.export_create(actor=manager, project=project, fmt=fmt, filters={})
        export_job(str(export.job_id))
