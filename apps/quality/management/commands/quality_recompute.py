"""`python manage.py quality_recompute <project id> [...]`: rescore every labeled row of the projects, in place."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from apps.core.ids import is_uuid
from apps.labeling.models import Project
from apps.quality import services


class Command(BaseCommand):
    help = "Recompute benchmark and consensus scores of projects (after an ontology or quality-setting change)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("projects", nargs="+", help="project ids")

    def handle(self, *args: Any, **options: Any) -> None:
        for project_id in options["projects"]:
            project = Project.objects.filter(pk=project_id).first() if is_uuid(project_id) else None
            if project is None:
                raise CommandError(f"No project {project_id}.")
            scored = services.project_rescore(project=project)
            self.stdout.write(f"{project.name}: {scored} row(s) rescored.")
