"""`python manage.py metadata_indexes`: create the range-filter indexes of number/datetime metadata fields that are
missing (`apps.datasets.metadata_indexes`; `CREATE INDEX CONCURRENTLY`, imports keep running)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from apps.datasets.metadata_indexes import metadata_indexes_ensure


class Command(BaseCommand):
    help = "Create the missing indexes for range filters on number/datetime metadata fields (PostgreSQL)."

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        created = metadata_indexes_ensure()
        names = ", ".join(created) if created else "none (all present, or not PostgreSQL)"
        self.stdout.write(f"Created indexes for: {names} in {time.perf_counter() - started:.1f} s")
