"""Properties of agreement over random valid documents: symmetric, within [0, 1], and 1 for a label with itself."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from apps.quality.domain.agreement import agreement

coordinate = st.integers(min_value=0, max_value=60)
size = st.integers(min_value=1, max_value=30)

nested = st.lists(
    st.builds(
        lambda sid, choice: {"schema_id": sid, "name": sid, "answer": {"schema_id": choice, "name": choice}},
        st.sampled_from(["kind", "color"]),
        st.sampled_from(["o1", "o2"]),
    ),
    max_size=2,
    unique_by=lambda c: c["schema_id"],
)


def _tool(sid: str, tool: str, key: str, geometry: Any, children: list[dict[str, Any]]) -> dict[str, Any]:
    return {"schema_id": sid, "name": sid, "tool": tool, key: geometry, "classifications": children}


boxes = st.builds(
    lambda left, top, width, height, children: _tool(
        "box", "bbox", "bbox", {"top": top, "left": left, "height": height, "width": width}, children
    ),
    coordinate,
    coordinate,
    size,
    size,
    nested,
)
points = st.builds(
    lambda x, y, children: _tool("point", "point", "point", {"x": x, "y": y}, children), coordinate, coordinate, nested
)
spans = st.builds(
    lambda start, length, children: _tool("span", "ner", "location", {"start": start, "end": start + length}, children),
    coordinate,
    size,
    nested,
)


def _rectangle(x: int, y: int, w: int, h: int) -> list[dict[str, int]]:
    return [{"x": x, "y": y}, {"x": x + w, "y": y}, {"x": x + w, "y": y + h}, {"x": x, "y": y + h}]


def _triangle(x: int, y: int, w: int, h: int) -> list[dict[str, int]]:
    return [{"x": x, "y": y}, {"x": x + w, "y": y}, {"x": x, "y": y + h}]


polygons = st.builds(
    lambda shape, x, y, w, h, children: _tool("poly", "polygon", "polygon", shape(x, y, w, h), children),
    st.sampled_from([_rectangle, _triangle]),
    coordinate,
    coordinate,
    size,
    size,
    nested,
)
lines = st.builds(
    lambda xy, children: _tool("line", "polyline", "line", [{"x": x, "y": y} for x, y in xy], children),
    st.lists(st.tuples(coordinate, coordinate), min_size=2, max_size=4),
    nested,
)
option = st.sampled_from(["a", "b", "c"])
radios = st.builds(lambda choice: {"schema_id": "radio", "name": "radio", "answer": {"schema_id": choice}}, option)
checklists = st.builds(
    lambda chosen: {"schema_id": "check", "name": "check", "answer": [{"schema_id": c} for c in sorted(chosen)]},
    st.sets(option),
)
texts = st.builds(lambda t: {"schema_id": "text", "name": "text", "answer": t}, st.sampled_from(["x", " X ", "y"]))


@st.composite
def documents(draw: st.DrawFn) -> list[dict[str, Any]]:
    objects: list[dict[str, Any]] = []
    for strategy in (boxes, points, spans, polygons, lines):
        objects += draw(st.lists(strategy, max_size=4))
    for strategy in (radios, checklists, texts):
        if draw(st.booleans()):
            objects.append(draw(strategy))
    return draw(st.permutations(objects))


image_sizes = st.one_of(st.none(), st.tuples(st.integers(1, 200), st.integers(1, 200)))


@settings(max_examples=150, deadline=None)
@given(documents(), documents(), image_sizes)
def test_agreement_is_symmetric_and_bounded(a: list[dict], b: list[dict], image_size: Any) -> None:
    forward = agreement(a, b, image_size=image_size)
    backward = agreement(b, a, image_size=image_size)
    assert 0.0 <= forward.score <= 1.0
    assert abs(forward.score - backward.score) < 1e-9
    assert forward.features.keys() == backward.features.keys()
    for feature, value in forward.features.items():
        assert 0.0 <= value <= 1.0
        assert abs(value - backward.features[feature]) < 1e-9
    expected_keys = {item["schema_id"] for item in a + b}
    assert forward.features.keys() == expected_keys


@settings(max_examples=150, deadline=None)
@given(documents(), image_sizes)
def test_a_label_agrees_fully_with_itself(a: list[dict], image_size: Any) -> None:
    result = agreement(a, a, image_size=image_size)
    assert abs(result.score - 1.0) < 1e-9
    assert all(abs(value - 1.0) < 1e-9 for value in result.features.values())


@settings(max_examples=100, deadline=None)
@given(documents(), image_sizes)
def test_a_label_agrees_fully_with_its_reordering(a: list[dict], image_size: Any) -> None:
    result = agreement(a, list(reversed(a)), image_size=image_size)
    assert abs(result.score - 1.0) < 1e-9
