"""Cursor pagination for every list: `{"next", "previous", "results"}`, `?page_size=` up to 1000."""

from __future__ import annotations

from typing import Any

from rest_framework import pagination
from rest_framework.exceptions import NotFound
from rest_framework.request import Request

from apps.core.errors import ValidationFailed


class CursorPagination(pagination.CursorPagination):
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000
    ordering = ("-created_at", "-id")

    def decode_cursor(self, request: Request) -> Any:
        try:
            return super().decode_cursor(request)
        except NotFound as exc:
            raise ValidationFailed("The cursor is invalid.", code="invalid_cursor") from exc

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is not None:
            if not raw.isdigit() or not 1 <= int(raw) <= self.max_page_size:
                raise ValidationFailed(
                    f"page_size must be an integer from 1 to {self.max_page_size}.", code="invalid_page_size"
                )
            return int(raw)
        return self.page_size
