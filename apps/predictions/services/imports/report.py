"""What an import tells its caller: created, updated, failed, and the first errors with their line numbers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings


@dataclass
class Report:
    created: int = 0
    updated: int = 0
    failed: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    errors_truncated: bool = False

    def error(self, line: int, message: str) -> None:
        self.failed += 1
        if len(self.errors) < settings.TDP_IMPORT_MAX_REPORTED_ERRORS:
            self.errors.append({"line": line, "message": message})
        else:
            self.errors_truncated = True

    def as_dict(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "updated": self.updated,
            "failed": self.failed,
            "errors": sorted(self.errors, key=lambda e: e["line"]),
            "errors_truncated": self.errors_truncated,
        }
