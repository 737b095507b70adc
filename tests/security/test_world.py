"""The world builder makes every object the attack tests name."""

import pytest

pytestmark = pytest.mark.django_db


def test_world_has_every_object(world, other_world):
    assert len(world.ids) == len(other_world.ids)
    assert set(world.ids.values()).isdisjoint(other_world.ids.values())
    for make in world.fresh.values():
        assert make()
