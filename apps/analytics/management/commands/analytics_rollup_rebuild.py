"""`python manage.py analytics_rollup_rebuild <project id>... | --all`: recompute the performance rollup of projects
from their source tables (after writes that bypassed the services, or when the rollup is first deployed)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.analytics import services
from apps.labeling.models import Project


class Command(BaseCommand):
    help = "Rebuild the analytics performance rollup of the given projects (or --all)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("projects", nargs="*", help="project ids")
        parser.add_argument("--all", action="store_true", help="every project")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["all"] == bool(options["projects"]):
            raise CommandError("Give project ids or --all (not both).")
        projects = Project.objects.all() if options["all"] else Project.objects.filter(pk__in=options["projects"])
        found = list(projects.order_by("created_at"))
        if not options["all"] and len(found) != len(set(options["projects"])):
            raise CommandError("Unknown project id.")
        for project in found:
            started = time.perf_counter()
            rebuilt = services.rollup_rebuild(project=project)
            seconds = time.perf_counter() - started
            self.stdout.write(f"{project.pk}: {rebuilt.days} days, {rebuilt.rows} rows in {seconds:.1f} s")
