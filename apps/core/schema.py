"""OpenAPI naming: nested `InputSerializer`/`OutputSerializer` classes get their view's name as a prefix."""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema


class AutoSchema(SpectacularAutoSchema):
    def _get_serializer_name(self, serializer: Any, direction: str, bypass_extensions: bool = False) -> str:
        name = super()._get_serializer_name(serializer, direction, bypass_extensions)
        serializer_class = serializer if isinstance(serializer, type) else type(serializer)
        outer, _, inner = serializer_class.__qualname__.rpartition(".")
        if outer and not getattr(getattr(serializer_class, "Meta", None), "ref_name", None):
            prefix = outer.split(".")[-1].removesuffix("Api").removesuffix("View")
            base = inner.removesuffix("Serializer")
            name = f"{prefix}{base}"
        return name

    def _get_paginator(self) -> Any:
        """Our APIViews page their GET lists by hand; a view's `pagination_class` tells the schema so (and only for
        GET: a POST that answers with a list answers with a plain list)."""
        if self.method != "GET":
            return None
        return super()._get_paginator()
