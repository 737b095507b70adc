"""Agreement of two labels, case by case, against values computed by hand. Pure: no database."""

from __future__ import annotations

import math
from typing import Any

import pytest

from apps.quality.domain.agreement import Agreement, agreement

BOX = "f-box"
POLY = "f-poly"
LINE = "f-line"
POINT = "f-point"
SPAN = "f-span"
RADIO = "f-radio"
CHECK = "f-check"
TEXT = "f-text"


def box(left: float, top: float, width: float, height: float, *nested: dict[str, Any], sid: str = BOX) -> dict:
    return {
        "schema_id": sid,
        "name": sid,
        "tool": "bbox",
        "bbox": {"top": top, "left": left, "height": height, "width": width},
        "classifications": list(nested),
    }


def polygon(*xy: tuple[float, float], sid: str = POLY) -> dict:
    return {
        "schema_id": sid,
        "name": sid,
        "tool": "polygon",
        "polygon": [{"x": x, "y": y} for x, y in xy],
        "classifications": [],
    }


def line(*xy: tuple[float, float], sid: str = LINE) -> dict:
    return {
        "schema_id": sid,
        "name": sid,
        "tool": "polyline",
        "line": [{"x": x, "y": y} for x, y in xy],
        "classifications": [],
    }


def point(x: float, y: float, sid: str = POINT) -> dict:
    return {"schema_id": sid, "name": sid, "tool": "point", "point": {"x": x, "y": y}, "classifications": []}


def span(start: int, end: int, sid: str = SPAN) -> dict:
    return {
        "schema_id": sid,
        "name": sid,
        "tool": "ner",
        "location": {"start": start, "end": end},
        "classifications": [],
    }


def option(sid: str, *nested: dict[str, Any]) -> dict:
    answer: dict[str, Any] = {"schema_id": sid, "name": sid}
    if nested:
        answer["classifications"] = list(nested)
    return answer


def radio(choice: str, *nested: dict[str, Any], sid: str = RADIO) -> dict:
    return {"schema_id": sid, "name": sid, "answer": option(choice, *nested)}


def checklist(*choices: str | dict[str, Any], sid: str = CHECK) -> dict:
    answer = [c if isinstance(c, dict) else option(c) for c in choices]
    return {"schema_id": sid, "name": sid, "answer": answer}


def text(value: str, sid: str = TEXT) -> dict:
    return {"schema_id": sid, "name": sid, "answer": value}


def score(a: list[dict], b: list[dict], **kwargs: Any) -> float:
    """The score, after checking that it does not depend on the order of the two labels."""
    forward = agreement(a, b, **kwargs)
    backward = agreement(b, a, **kwargs)
    assert forward.score == pytest.approx(backward.score, abs=1e-12)
    return forward.score


# -- empty labels, features on one side ----------------------------------------------------------------------------
def test_two_empty_labels_agree_fully_with_no_features() -> None:
    assert agreement([], []) == Agreement(score=1.0, features={})


def test_one_empty_label_scores_zero_on_each_feature_of_the_other() -> None:
    result = agreement([box(0, 0, 10, 10), radio("sunny")], [])
    assert result == Agreement(score=0.0, features={BOX: 0.0, RADIO: 0.0})
    assert agreement([], [box(0, 0, 10, 10)]).features == {BOX: 0.0}


def test_feature_present_on_one_side_only_scores_zero_and_counts_in_the_mean() -> None:
    result = agreement([box(0, 0, 10, 10), radio("sunny")], [box(0, 0, 10, 10)])
    assert result.features == {BOX: 1.0, RADIO: 0.0}
    assert result.score == 0.5


def test_score_is_the_mean_over_features() -> None:
    a = [box(0, 0, 10, 10), radio("sunny"), checklist("x", "y"), text("a")]
    b = [box(5, 0, 10, 10), radio("rainy"), checklist("y"), text("a")]
    result = agreement(a, b)
    assert result.features == pytest.approx({BOX: 1 / 3, RADIO: 0.0, CHECK: 0.5, TEXT: 1.0})
    assert result.score == pytest.approx((1 / 3 + 0 + 0.5 + 1) / 4)


# -- boxes ---------------------------------------------------------------------------------------------------------
def test_identical_boxes_score_one() -> None:
    doc = [box(10, 20, 30, 40), box(100, 100, 5, 5)]
    assert agreement(doc, list(reversed(doc))).features == {BOX: 1.0}


def test_half_overlapping_boxes_score_their_iou() -> None:
    # [0,10]x[0,10] and [5,15]x[0,10]: intersection 50, union 150
    assert score([box(0, 0, 10, 10)], [box(5, 0, 10, 10)]) == pytest.approx(1 / 3)
    # corner overlap: [0,10]² and [5,15]²: intersection 25, union 175
    assert score([box(0, 0, 10, 10)], [box(5, 5, 10, 10)]) == pytest.approx(25 / 175)


def test_disjoint_and_touching_boxes_score_zero() -> None:
    assert score([box(0, 0, 10, 10)], [box(20, 0, 10, 10)]) == 0.0
    assert score([box(0, 0, 10, 10)], [box(10, 0, 10, 10)]) == 0.0


def test_boxes_are_paired_by_maximum_total_iou_not_greedily() -> None:
    # Heights are equal, so IoU is the IoU of the x intervals:
    # a1=[3,13], a2=[11,21]; b1=[5,15], b2=[0,10]
    # IoU(a1,b1)=8/12, IoU(a1,b2)=7/13, IoU(a2,b1)=4/16, IoU(a2,b2)=0.
    # Greedy takes a1-b1 (the best single pair) and leaves a2-b2 = 0: (2/3 + 0) / 2.
    # The Hungarian assignment pairs a1-b2 and a2-b1: (7/13 + 1/4) / 2, which is larger.
    a = [box(3, 0, 10, 10), box(11, 0, 10, 10)]
    b = [box(5, 0, 10, 10), box(0, 0, 10, 10)]
    assert score(a, b) == pytest.approx((7 / 13 + 1 / 4) / 2)
    assert (7 / 13 + 1 / 4) / 2 > (2 / 3) / 2


def test_unmatched_boxes_count_as_zero() -> None:
    a = [box(0, 0, 10, 10), box(50, 50, 10, 10), box(200, 200, 10, 10)]
    b = [box(0, 0, 10, 10), box(50, 50, 10, 10)]
    assert score(a, b) == pytest.approx(2 / 3)


def test_many_boxes_on_one_object_only_one_is_matched() -> None:
    a = [box(0, 0, 10, 10)]
    b = [box(0, 0, 10, 10), box(0, 0, 10, 10), box(5, 0, 10, 10)]
    assert score(a, b) == pytest.approx(1 / 3)


def test_degenerate_boxes_match_nothing_without_crashing() -> None:
    assert score([box(0, 0, 0, 10)], [box(0, 0, 0, 10)]) == 0.0
    assert score([box(0, 0, 10, 10)], [box(0, 0, -5, 10)]) == 0.0
    assert score([box(0, 0, 10, 10), box(0, 0, math.nan, 1)], [box(0, 0, 10, 10)]) == pytest.approx(0.5)


# -- polygons ------------------------------------------------------------------------------------------------------
def test_identical_polygons_score_one_whatever_the_starting_vertex() -> None:
    a = [polygon((0, 0), (10, 0), (0, 10))]
    b = [polygon((10, 0), (0, 10), (0, 0))]
    assert score(a, b) == pytest.approx(1.0)


def test_polygon_iou() -> None:
    square = polygon((0, 0), (10, 0), (10, 10), (0, 10))
    shifted = polygon((5, 0), (15, 0), (15, 10), (5, 10))
    assert score([square], [shifted]) == pytest.approx(1 / 3)
    # the triangle under the diagonal is half of the square
    assert score([square], [polygon((0, 0), (10, 0), (10, 10))]) == pytest.approx(0.5)


def test_self_intersecting_polygon_is_repaired_not_crashing() -> None:
    # The bowtie (0,0)→(10,10)→(10,0)→(0,10) is two triangles of area 25 meeting at (5,5).
    bowtie = polygon((0, 0), (10, 10), (10, 0), (0, 10))
    square = polygon((0, 0), (10, 0), (10, 10), (0, 10))
    assert score([bowtie], [square]) == pytest.approx(50 / 100)
    assert score([bowtie], [bowtie]) == pytest.approx(1.0)


def test_self_touching_polygon_is_repaired() -> None:
    # The ring touches itself at (2,2): two triangles of area 4 each, inside the 4×4 square.
    touching = polygon((0, 0), (4, 0), (2, 2), (4, 4), (0, 4), (2, 2))
    square = polygon((0, 0), (4, 0), (4, 4), (0, 4))
    assert score([touching], [square]) == pytest.approx(8 / 16)
    assert score([touching], [touching]) == pytest.approx(1.0)


def test_degenerate_polygons_score_zero_without_crashing() -> None:
    flat = polygon((0, 0), (5, 5), (10, 10))  # collinear: no area
    square = polygon((0, 0), (10, 0), (10, 10), (0, 10))
    assert score([flat], [square]) == 0.0
    assert score([flat], [flat]) == 0.0
    two_points = polygon((0, 0), (1, 1))
    nan_vertex = polygon((0, 0), (math.nan, 0), (0, 1))
    assert score([two_points, nan_vertex, square], [square]) == pytest.approx(1 / 3)


# -- points --------------------------------------------------------------------------------------------------------
def test_points_with_a_known_sigma() -> None:
    # image 300×400: diagonal 500; σ = 0.01 × 500 = 5
    image = (300.0, 400.0)
    assert score([point(10, 10)], [point(10, 10)], image_size=image) == 1.0
    assert score([point(10, 10)], [point(13, 14)], image_size=image) == pytest.approx(math.exp(-0.5))
    assert score([point(10, 10)], [point(16, 18)], image_size=image) == pytest.approx(math.exp(-2.0))
    # σ = 0.02 × 500 = 10: distance 10 is one σ
    assert score([point(10, 10)], [point(16, 18)], image_size=image, point_sigma=0.02) == pytest.approx(math.exp(-0.5))


def test_points_are_paired_and_normalised_by_the_larger_count() -> None:
    image = (300.0, 400.0)  # σ = 5
    a = [point(0, 0), point(100, 100), point(200, 200)]
    b = [point(103, 104), point(0, 0)]
    assert score(a, b, image_size=image) == pytest.approx((1 + math.exp(-0.5) + 0) / 3)


def test_points_without_image_size_use_the_extent_of_all_points_of_both_labels() -> None:
    # all points span [0,30]×[0,40]: diagonal 50; σ = 0.1 × 50 = 5
    a = [point(0, 0), point(30, 40)]
    b = [point(3, 4), point(30, 40)]
    assert score(a, b, point_sigma=0.1) == pytest.approx((1 + math.exp(-0.5)) / 2)
    # the extent covers every point feature: a second feature widens it to [0,300]×[0,400] (σ = 0.1 × 500 = 50)
    other = "f-point-2"
    wide_a = [point(0, 0), point(300, 400, sid=other)]
    wide_b = [point(30, 40), point(300, 400, sid=other)]
    result = agreement(wide_a, wide_b, point_sigma=0.1)
    assert result.features == pytest.approx({POINT: math.exp(-(50**2) / (2 * 50**2)), other: 1.0})


def test_points_and_lines_at_one_place_without_image_size_do_not_divide_by_zero() -> None:
    # every point and vertex at (7, 7): the extent has no diagonal (1 is used instead)
    assert score([point(7, 7)], [point(7, 7)]) == 1.0
    assert score([line((7, 7), (7, 7))], [point(7, 7, sid="p"), line((7, 7), (7, 7))]) == 0.5


def test_non_positive_sigma_is_refused() -> None:
    with pytest.raises(ValueError, match="point_sigma"):
        agreement([point(0, 0)], [point(0, 0)], point_sigma=0)


# -- polylines -----------------------------------------------------------------------------------------------------
def test_parallel_polylines() -> None:
    # every vertex is 1 away from the other line; image 6×8 → diagonal 10; σ = 0.1 × 10 = 1
    a = [line((0, 0), (10, 0))]
    b = [line((0, 1), (10, 1))]
    assert score(a, b, image_size=(6, 8), point_sigma=0.1) == pytest.approx(math.exp(-0.5))
    assert score(a, a, image_size=(6, 8), point_sigma=0.1) == 1.0


def test_polyline_distance_is_to_the_line_not_to_its_vertices() -> None:
    # A = (0,0)–(10,0); B = (5,3)–(5,1).
    # B's vertices to line A: 3 and 1 → mean 2 (to A's vertices they would be √34 and √26).
    # A's vertices to line B: both √26 (nearest point (5,1)).  d = (2 + √26) / 2.
    # image 60×80 → diagonal 100; σ = 0.05 × 100 = 5
    d = (2 + math.sqrt(26)) / 2
    a = [line((0, 0), (10, 0))]
    b = [line((5, 3), (5, 1))]
    assert score(a, b, image_size=(60, 80), point_sigma=0.05) == pytest.approx(math.exp(-(d**2) / (2 * 25)))


def test_polylines_are_paired() -> None:
    # σ = 1 as above; a1 equals b2, a2 is 1 away from b1
    a = [line((0, 0), (10, 0)), line((0, 5), (10, 5))]
    b = [line((0, 6), (10, 6)), line((0, 0), (10, 0))]
    assert score(a, b, image_size=(6, 8), point_sigma=0.1) == pytest.approx((1 + math.exp(-0.5)) / 2)


# -- ner spans -----------------------------------------------------------------------------------------------------
def test_span_iou() -> None:
    assert score([span(0, 10)], [span(0, 10)]) == 1.0
    assert score([span(0, 10)], [span(5, 15)]) == pytest.approx(5 / 15)
    assert score([span(0, 10)], [span(10, 20)]) == 0.0  # end is exclusive: no shared character
    assert score([span(0, 4)], [span(1, 3)]) == pytest.approx(2 / 4)


def test_spans_are_paired() -> None:
    a = [span(0, 5), span(10, 20), span(40, 41)]
    b = [span(12, 20), span(0, 5)]
    assert score(a, b) == pytest.approx((1 + 8 / 10 + 0) / 3)


# -- classifications -----------------------------------------------------------------------------------------------
def test_radio() -> None:
    assert score([radio("sunny")], [radio("sunny")]) == 1.0
    assert score([radio("sunny")], [radio("rainy")]) == 0.0


def test_checklist_jaccard() -> None:
    assert score([checklist("a", "b", "c")], [checklist("b", "c", "d")]) == pytest.approx(2 / 4)
    assert score([checklist("a")], [checklist("b")]) == 0.0
    assert score([checklist("b", "a")], [checklist("a", "b")]) == 1.0
    assert score([checklist()], [checklist()]) == 1.0
    assert score([checklist()], [checklist("a")]) == 0.0


def test_text_is_compared_after_collapsing_whitespace_and_casefolding() -> None:
    assert score([text("  Red   CAR\n")], [text("red car")]) == 1.0
    assert score([text("Straße")], [text("STRASSE")]) == 1.0
    assert score([text("red car")], [text("redcar")]) == 0.0
    assert score([text("")], [text("   ")]) == 1.0


def test_answers_of_different_kinds_do_not_agree() -> None:
    assert score([radio("a", sid="q")], [text("a", sid="q")]) == 0.0


# -- nested classifications ----------------------------------------------------------------------------------------
def test_nested_classifications_multiply_the_matched_pair_score() -> None:
    kind_police = radio("police", sid="kind")
    kind_ambulance = radio("ambulance", sid="kind")
    plate_a = text("AB 123", sid="plate")
    plate_b = text("XY 999", sid="plate")
    # identical box, nested: kind agrees (1), plate differs (0) → classification agreement 0.5
    assert score([box(0, 0, 10, 10, kind_police, plate_a)], [box(0, 0, 10, 10, kind_police, plate_b)]) == 0.5
    # half-overlapping boxes (IoU 1/3) with the same nested agreement 0.5
    assert score([box(0, 0, 10, 10, kind_police, plate_a)], [box(5, 0, 10, 10, kind_police, plate_b)]) == (
        pytest.approx(1 / 6)
    )
    # all nested answers agree → the geometry alone
    assert score([box(0, 0, 10, 10, kind_police)], [box(5, 0, 10, 10, kind_police)]) == pytest.approx(1 / 3)
    # the nested feature is answered on one side only → classification agreement 0
    assert score([box(0, 0, 10, 10, kind_ambulance)], [box(0, 0, 10, 10)]) == 0.0


def test_pairing_uses_geometry_only() -> None:
    # a1 is identical to b1 but answers differently; a2 (IoU 0.5 with b1) answers the same.
    # Geometry pairs a1-b1: 1 × 0 = 0; a2 is unmatched → (0 + 0) / 2. Pairing on the product would give 0.25.
    police = radio("police", sid="kind")
    ambulance = radio("ambulance", sid="kind")
    a = [box(0, 0, 10, 10, police), box(0, 0, 10, 5, ambulance)]
    b = [box(0, 0, 10, 10, ambulance)]
    assert score(a, b) == 0.0


def test_geometric_ties_are_paired_by_the_best_nested_agreement() -> None:
    # two identical boxes that differ only by their nested answers: a label agrees fully with itself
    police = radio("police", sid="kind")
    ambulance = radio("ambulance", sid="kind")
    a = [box(0, 0, 10, 10, police), box(0, 0, 10, 10, ambulance)]
    b = [box(0, 0, 10, 10, ambulance), box(0, 0, 10, 10, police)]
    assert score(a, b) == 1.0
    assert score(a, a) == 1.0


def test_nested_questions_under_a_radio_option_multiply_the_option_match() -> None:
    red = radio("red", sid="color")
    blue = radio("blue", sid="color")
    doors_4 = text("4", sid="doors")
    doors_5 = text("5", sid="doors")
    assert score([radio("car", red)], [radio("car", red)]) == 1.0
    assert score([radio("car", red)], [radio("car", blue)]) == 0.0
    assert score([radio("car", red, doors_4)], [radio("car", red, doors_5)]) == 0.5
    assert score([radio("car", red)], [radio("car")]) == 0.0  # the nested question is answered on one side only
    assert score([radio("car", red)], [radio("bus", red)]) == 0.0
    # two levels: car → color red → shade (dark vs light) → 1 × (1 × (0)) = 0; with doors agreeing: 1 × mean(0, 1)
    dark = radio("red", radio("dark", sid="shade"), sid="color")
    light = radio("red", radio("light", sid="shade"), sid="color")
    assert score([radio("car", dark, doors_4)], [radio("car", light, doors_4)]) == 0.5


def test_nested_questions_under_checklist_options() -> None:
    x1 = text("1", sid="x")
    x2 = text("2", sid="x")
    # options {a(x=1), b} vs {a(x=2), c}: a is common but its nested question disagrees → 0 / |{a,b,c}|
    assert score([checklist(option("a", x1), "b")], [checklist(option("a", x2), "c")]) == 0.0
    # the same with x agreeing: 1 / 3
    assert score([checklist(option("a", x1), "b")], [checklist(option("a", x1), "c")]) == pytest.approx(1 / 3)


def test_nested_classifications_under_a_polygon_and_a_span() -> None:
    sure = radio("yes", sid="sure")
    unsure = radio("no", sid="sure")
    tri = polygon((0, 0), (10, 0), (0, 10))
    tri_sure = {**tri, "classifications": [sure]}
    tri_unsure = {**tri, "classifications": [unsure]}
    assert score([tri_sure], [tri_unsure]) == 0.0
    assert score([tri_sure], [tri_sure]) == pytest.approx(1.0)
    s_a = {**span(0, 10), "classifications": [sure, text("x", sid="note")]}
    s_b = {**span(5, 15), "classifications": [sure]}
    assert score([s_a], [s_b]) == pytest.approx(1 / 3 * 0.5)


# -- documents -----------------------------------------------------------------------------------------------------
def test_validator_shaped_documents_without_tool_key_are_understood() -> None:
    a = [{"schema_id": BOX, "bbox": {"top": 0, "left": 0, "height": 10, "width": 10}}]
    b = [box(5, 0, 10, 10)]
    assert score(a, b) == pytest.approx(1 / 3)


def test_extra_keys_are_ignored() -> None:
    a = [{**box(0, 0, 10, 10), "confidence": 0.3, "data_row": {"id": "x"}}, {**radio("s"), "confidence": 0.9}]
    assert score(a, [box(0, 0, 10, 10), radio("s")]) == 1.0


def test_a_schema_id_that_is_a_tool_in_one_label_and_a_classification_in_the_other_scores_zero() -> None:
    assert agreement([box(0, 0, 10, 10, sid="q")], [radio("a", sid="q")]).features == {"q": 0.0}
    assert agreement([box(0, 0, 10, 10, sid="q")], [point(0, 0, sid="q")]).features == {"q": 0.0}


@pytest.mark.parametrize(
    "document",
    [
        [{"name": "no schema id", "answer": "x"}],
        [{"schema_id": "q"}],
        [{"schema_id": "q", "tool": "lasso", "lasso": []}],
        [box(0, 0, 1, 1, sid="q"), point(0, 0, sid="q")],
        [box(0, 0, 1, 1, sid="q"), radio("a", sid="q")],
        ["not an object"],
    ],
)
def test_malformed_documents_raise_value_error(document: list) -> None:
    with pytest.raises(ValueError):
        agreement(document, [])


def test_odd_coordinates_never_crash_and_match_nothing() -> None:
    good = line((0, 0), (10, 0))
    assert score([line((0, 0), (math.nan, 1)), good], [good], image_size=(10, 10)) == 0.5
    assert score([line(), good], [good], image_size=(10, 10)) == 0.5
    assert score([point(math.nan, 0), point(1, 1)], [point(1, 1)]) == 0.5
    assert score([point(math.inf, 0), point(1, 1)], [point(1, 1)]) == 0.5
    assert score([{**point(0, 0), "point": {"x": "a", "y": 0}}], [point(0, 0)]) == 0.0
    assert score([{**box(0, 0, 1, 1), "bbox": None}], [box(0, 0, 1, 1)]) == 0.0
    assert score([span(5, 2)], [span(0, 10)]) == 0.0  # an inverted span is empty


def test_a_single_vertex_polyline_is_scored_as_a_point() -> None:
    # A = the single vertex (0,0); B = (0,0)–(10,0). A's vertex to B: 0; B's vertices to A: 0 and 10 → mean 5.
    # d = (0 + 5) / 2 = 2.5; image 6×8 → σ = 0.1 × 10 = 1
    assert score([line((0, 0))], [line((0, 0), (10, 0))], image_size=(6, 8), point_sigma=0.1) == pytest.approx(
        math.exp(-(2.5**2) / 2)
    )
