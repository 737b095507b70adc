"""`python manage.py benchmark [name ...] [--size N] [--option key=value]`: prints one JSON line per benchmark."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from apps.core.benchmarks import registered_benchmarks


class Command(BaseCommand):
    help = "Run speed/memory benchmarks and print their numbers as JSON lines."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
        parser.add_argument("--size", type=int, default=None, help="problem size, where the benchmark takes one")
        parser.add_argument("--option", action="append", default=[], help="extra key=value passed to benchmarks")
        parser.add_argument("--list", action="store_true", help="list benchmark names")

    def handle(self, *args: Any, **options: Any) -> None:
        available = registered_benchmarks()
        if options["list"]:
            for name in available:
                self.stdout.write(name)
            return
        names = options["names"] or list(available)
        unknown = [n for n in names if n not in available]
        if unknown:
            raise CommandError(f"Unknown benchmark(s): {', '.join(unknown)}. Known: {', '.join(available)}")
        params: dict[str, Any] = {"size": options["size"]}
        for item in options["option"]:
            key, _, value = item.partition("=")
            params[key] = value
        for name in names:
            result = available[name](params)
            self.stdout.write(json.dumps({"benchmark": name, **result}))
