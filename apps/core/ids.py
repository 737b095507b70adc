"""Public ids: time-ordered UUIDs (version 7) so new rows land at the end of B-tree indexes."""

import os
import time
import uuid
from datetime import datetime


def uuid7() -> uuid.UUID:
    """RFC 9562 UUIDv7: 48-bit Unix milliseconds, version, 74 random bits."""
    millis = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (millis & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= ((rand >> 62) & 0xFFF) << 64
    value |= 0b10 << 62
    value |= rand & ((1 << 62) - 1)
    return uuid.UUID(int=value)


def is_uuid(value: object) -> bool:
    """Whether `value` parses as a UUID (ids from URLs and bodies are checked before they reach a query)."""
    try:
        uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        return False
    return True


def uuid7_floor(moment: datetime) -> uuid.UUID:
    """The smallest UUIDv7 of that millisecond: `id >= uuid7_floor(t)` selects rows created since `t` through the
    primary key index."""
    millis = int(moment.timestamp() * 1000)
    return uuid.UUID(int=((millis & ((1 << 48) - 1)) << 80) | (0x7 << 76) | (0b10 << 62))
