"""Pure code of the predictions app: NDJSON lines, provenance, routing (no database)."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from apps.predictions.domain.lines import LineError, derived_uuid, iter_lines, parse_line
from apps.predictions.domain.provenance import classify, same_annotation
from apps.predictions.domain.routing import due_time, is_overdue, rows_to_route

BOX = {
    "schema_id": "s-vehicle",
    "name": "vehicle",
    "tool": "bbox",
    "bbox": {"top": 10, "left": 20, "height": 30, "width": 40},
    "classifications": [{"schema_id": "s-kind", "name": "kind", "answer": {"schema_id": "o-police", "name": "police"}}],
}


def test_iter_lines_numbers_lines_across_chunks_and_skips_blank_ones():
    chunks = [b'\xef\xbb\xbf{"a"', b': 1}\n\n  \n{"b": 2}\n{"c"', b": 3}"]
    assert list(iter_lines(chunks, 100)) == [(1, b'{"a": 1}'), (4, b'{"b": 2}'), (5, b'{"c": 3}')]


def test_iter_lines_drops_too_long_lines_with_bounded_memory():
    chunks = [b"x" * 50, b"x" * 60, b"\n{}\n", b"y" * 200]
    assert list(iter_lines(chunks, 100)) == [(1, None), (2, b"{}"), (3, None)]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"{bad", "Malformed JSON"),
        (b"[1, 2]", "one JSON object"),
        (b'{"name": "x"}', "data_row is required"),
        (b'{"name": "x", "data_row": {"global_key": "a", "id": "b"}}', "data_row is required"),
        (b'{"name": "x", "data_row": {"global_key": 5}}', "global_key"),
        (b'{"name": "x", "data_row": {"id": "r"}, "confidence": NaN}', "NaN"),
        (b'{"name": "x", "data_row": {"id": "r"}, "confidence": Infinity}', "Infinity"),
        (b'{"name": "x", "data_row": {"id": "r"}, "confidence": 1.01}', "outside [0, 1]"),
        (b'{"name": "x", "data_row": {"id": "r"}, "confidence": true}', "a number"),
        (b'{"name": "x", "data_row": {"id": "r"}, "uuid": "nope"}', "not a UUID"),
        (b'{"name": "\xff"}', "UTF-8"),
        (None, "longer than"),
    ],
)
def test_parse_line_reports_the_reason(raw, message):
    with pytest.raises(LineError, match=re.escape(message)):
        parse_line(1, raw, 100)


def test_parse_line_takes_off_the_import_keys():
    line = parse_line(
        7,
        b'{"name": "vehicle", "bbox": {}, "data_row": {"global_key": "k"}, "uuid": "AAAAAAAA-0000-4000-8000-'
        b'000000000001", "confidence": 0}',
    )
    assert (line.number, line.global_key, line.row_id, line.confidence) == (7, "k", None, 0.0)
    assert line.uuid == "aaaaaaaa-0000-4000-8000-000000000001"
    assert line.annotation == {"name": "vehicle", "bbox": {}} and line.is_tool


def test_derived_uuid_is_deterministic_and_content_bound():
    first = derived_uuid("row-1", '{"a":1}')
    assert first == derived_uuid("row-1", '{"a":1}')
    assert first != derived_uuid("row-2", '{"a":1}') != derived_uuid("row-1", '{"a":2}')
    assert str(uuid.UUID(first)) == first


def test_same_annotation_tolerates_1e6_and_ignores_names_and_confidence():
    near = {**BOX, "bbox": {"top": 10 + 5e-7, "left": 20, "height": 30, "width": 40}, "confidence": 0.3}
    assert same_annotation(near, BOX)
    moved = {**BOX, "bbox": {"top": 10.01, "left": 20, "height": 30, "width": 40}}
    assert not same_annotation(moved, BOX)
    other_answer = {
        **BOX,
        "classifications": [{"schema_id": "s-kind", "name": "kind", "answer": {"schema_id": "o-amb", "name": "a"}}],
    }
    assert not same_annotation(other_answer, BOX)
    other_feature = {**BOX, "schema_id": "s-roof"}
    assert not same_annotation(other_feature, BOX)
    checklist = {"schema_id": "t", "answer": [{"schema_id": "x"}, {"schema_id": "y"}]}
    assert same_annotation({"schema_id": "t", "answer": [{"schema_id": "y"}, {"schema_id": "x"}]}, checklist)
    assert not same_annotation({"schema_id": "t", "answer": [{"schema_id": "y"}]}, checklist)


def test_classify_accepted_modified_added_rejected():
    a, b, c = (str(uuid.UUID(int=i)) for i in (1, 2, 3))
    moved = {**BOX, "bbox": {"top": 11, "left": 20, "height": 30, "width": 40}}
    document = [BOX, moved, BOX, {**BOX, "schema_id": "s-x"}]
    # a unchanged, b moved, a again (used twice: the second is added), a forged id → added; c never used → rejected
    outcomes = classify(document, [a, b, a, "not-a-uuid"], {a: BOX, b: BOX, c: BOX})
    assert [(o.index, o.prelabel, o.outcome) for o in outcomes] == [
        (0, a, "accepted"),
        (1, b, "modified"),
        (2, None, "added"),
        (3, None, "added"),
        (None, c, "rejected"),
    ]


def test_rows_to_route_keeps_each_rows_lowest_confidence_under_the_threshold():
    pairs = [("r1", 0.2), ("r2", 0.5), ("r3", 0.9), ("r1", 0.1), ("r4", None), ("r2", 0.6)]
    assert rows_to_route(pairs, 0.6) == {"r1": 0.1, "r2": 0.5}
    assert rows_to_route(pairs, None) == {}


def test_due_and_overdue():
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert due_time(now, 48) == now + timedelta(hours=48)
    assert is_overdue(now - timedelta(seconds=1), now) and not is_overdue(now, now) and not is_overdue(None, now)


def test_copy_text_escapes_what_copy_would_misread():
    from apps.predictions.services.imports import copy_text

    records = [
        ("u1", "r1", "s1", "tab\there\\", "text", '{"answer":"a\\"b\\\\c"}', 0.5),
        ("u2", "r2", "s1", "n", "bbox", "{}", None),
    ]
    text = copy_text(records, prefix="P\t", suffix="\tS\n")
    assert text.splitlines() == [
        'P\tu1\tr1\ts1\ttab\\there\\\\\ttext\t{"answer":"a\\\\"b\\\\\\\\c"}\t0.5\tS',
        "P\tu2\tr2\ts1\tn\tbbox\t{}\t\\N\tS",
    ]


def test_parse_lines_fast_path_agrees_with_parse_line():
    from apps.predictions.domain.lines import parse_lines

    raws = [
        b'{"name": "v", "bbox": {}, "data_row": {"global_key": "k"}, "confidence": 0.5}',
        b'{"name": "v", "data_row": {"id": "0190a0b0-0000-7000-8000-000000000000"}}',
        b'{"name": "v", "data_row": {"global_key": "k"}, "confidence": 1}',
        b'{"name": "v", "data_row": {"global_key": "k"}, "confidence": 1.5}',
        b'{"name": "v", "data_row": {"global_key": "k"}, "confidence": NaN}',
        b'{"name": "v", "data_row": {"global_key": ""}}',
        b'{"name": "v", "data_row": {"other": "k"}}',
        b'{"name": "v", "data_row": {"global_key": "k"}, "uuid": "0190a0b0-0000-7000-8000-000000000001"}',
        b'{"name": "\xff"}',
        b"[]",
        None,
    ]
    numbered = list(enumerate(raws, start=1))
    parsed, errors = parse_lines(numbered, 100)
    expected_parsed, expected_errors = [], []
    for number, raw in numbered:
        try:
            expected_parsed.append(parse_line(number, raw, 100))
        except LineError as exc:
            expected_errors.append((number, str(exc)))
    assert sorted(parsed, key=lambda p: p.number) == expected_parsed
    assert sorted(errors) == expected_errors
    assert [p.number for p in expected_parsed] == [1, 2, 3, 8]


def test_mask_lines_are_tool_lines_and_a_repainted_mask_is_not_the_same_annotation():
    raw = b'{"name": "weed", "mask": {"size": [2, 2], "counts": "0400"}, "data_row": {"global_key": "k"}}'
    line = parse_line(3, raw)
    assert line.is_tool  # validated in bulk with the other geometry lines of its row size
    prelabel = {"schema_id": "w", "mask": {"size": [4, 4], "counts": "0b0"}}
    assert same_annotation({"schema_id": "w", "mask": {"size": [4, 4], "counts": "0b0"}}, prelabel)
    assert not same_annotation({"schema_id": "w", "mask": {"size": [4, 4], "counts": "1a1"}}, prelabel)  # repainted
    assert not same_annotation({"schema_id": "w", "bbox": {"left": 0, "top": 0, "width": 1, "height": 1}}, prelabel)
