"""Public ids: time-ordered UUIDs (version 7) so new rows land at the end of B-tree indexes."""

import os
import threading
import time
import uuid
from datetime import datetime

_COUNTER_BITS = 74  # rand_a (12 bits) and rand_b (62 bits) together
_lock = threading.Lock()
_last = (0, 0)  # (milliseconds, counter) of the id made last in this process


def uuid7() -> uuid.UUID:
    """RFC 9562 UUIDv7: 48-bit Unix milliseconds, version, 74 bits of counter seeded at random.

    Ids made by one process are strictly increasing (RFC 9562 §6.2, method 2, monotonic random): within a
    millisecond the counter grows by a random step instead of being drawn afresh, so rows created together sort
    in the order they were made and `ORDER BY created_at, id` gives the same answer on every run."""
    global _last
    with _lock:
        millis = time.time_ns() // 1_000_000
        last_millis, last_counter = _last
        if millis > last_millis:
            counter = int.from_bytes(os.urandom(10), "big") >> (80 - _COUNTER_BITS + 1)  # top bit clear: room to grow
        else:
            millis = last_millis  # the same millisecond, or the clock stepped back
            counter = last_counter + 1 + int.from_bytes(os.urandom(4), "big")
            if counter >> _COUNTER_BITS:
                millis, counter = millis + 1, int.from_bytes(os.urandom(10), "big") >> (80 - _COUNTER_BITS + 1)
        _last = (millis, counter)
    value = (millis & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= (counter >> 62) << 64
    value |= 0b10 << 62
    value |= counter & ((1 << 62) - 1)
    return uuid.UUID(int=value)


def _forget_last_id() -> None:
    """A forked worker starts its own sequence rather than continuing its parent's, which its siblings share."""
    global _last
    _last = (0, 0)


os.register_at_fork(after_in_child=_forget_last_id)


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
