"""UUIDv7 ids: well-formed, and strictly increasing within a process so creation order is the id order."""

import os
import threading
import time
import uuid

from apps.core import ids


def test_ids_made_together_increase_strictly_and_carry_their_millisecond():
    before = time.time_ns() // 1_000_000
    made = [ids.uuid7() for _ in range(20_000)]  # many per millisecond
    after = time.time_ns() // 1_000_000
    assert made == sorted(made)
    assert len(set(made)) == len(made)
    for value in made[::997]:
        assert value.version == 7 and value.variant == uuid.RFC_4122
        assert before <= value.int >> 80 <= after + 1


def test_ids_from_many_threads_are_unique():
    found: list[list[uuid.UUID]] = []

    def make() -> None:
        found.append([ids.uuid7() for _ in range(2_000)])

    threads = [threading.Thread(target=make) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    everything = [value for batch in found for value in batch]
    assert len(set(everything)) == 16_000
    assert all(batch == sorted(batch) for batch in found)


def test_a_clock_that_steps_back_does_not_reorder_ids(monkeypatch):
    first = ids.uuid7()
    monkeypatch.setattr(ids.time, "time_ns", lambda: (first.int >> 80) * 1_000_000 - 5_000_000_000)
    later = [ids.uuid7() for _ in range(100)]
    assert all(value > first for value in later)
    assert later == sorted(later)


def test_a_forked_child_starts_its_own_sequence():
    ids.uuid7()
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        os.write(write, str(ids._last[0]).encode())
        os._exit(0)
    os.waitpid(child, 0)
    assert os.read(read, 64) == b"0"
