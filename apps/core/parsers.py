"""JSON parsing with a size cap (413) and clear encoding errors (400) instead of Django's 500s."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser

from apps.core.errors import PayloadTooLarge, ValidationFailed
from apps.core.json_limits import (
    depth_exceeds,
    finite_float,
    float_sized_int,
    lone_surrogate,
    may_hold_surrogates,
    reject_constant,
)


def read_capped(stream: IO[bytes], limit: int) -> bytes:
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge(f"The request body is larger than the limit of {limit} bytes.", details={"limit": limit})
    return data


class JSONParser(BaseParser):
    media_type = "application/json"

    def parse(
        self, stream: IO[bytes], media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> Any:
        if stream is None:
            return {}
        raw = read_capped(stream, settings.TDP_MAX_JSON_BODY_BYTES)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValidationFailed("The request body is not valid UTF-8.", code="bad_encoding") from exc
        if not text.strip():
            return {}
        try:
            value = json.loads(
                text, parse_int=float_sized_int, parse_float=finite_float, parse_constant=reject_constant
            )
        except RecursionError:
            raise _too_deep() from None
        except ValueError as exc:
            raise ParseError(f"Malformed JSON: {exc}") from exc
        if depth_exceeds(value, settings.TDP_MAX_JSON_DEPTH):
            raise _too_deep()
        if may_hold_surrogates(text) and lone_surrogate(value):
            raise ValidationFailed(
                "The request body holds a lone UTF-16 surrogate (e.g. \\ud800): not valid Unicode text.",
                code="bad_encoding",
            )
        return value


def _too_deep() -> ValidationFailed:
    limit = settings.TDP_MAX_JSON_DEPTH
    return ValidationFailed(
        f"The JSON body is nested more than {limit} levels deep.", code="too_deep", details={"max_depth": limit}
    )
