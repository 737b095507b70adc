"""Pure domain tests (no database): streaming parsers and row/metadata validation."""

from __future__ import annotations

import json

import pytest

from apps.datasets.domain.metadata import BUILTIN_SPECS, FieldSpec, MetadataError, coerce_metadata, compile_specs
from apps.datasets.domain.rows import RowError, clean_row
from apps.datasets.domain.streams import BodyError, iter_csv, iter_json_array, iter_ndjson


def chunked(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


@pytest.mark.parametrize("size", [1, 2, 3, 7, 64, 100_000])
def test_json_array_any_chunking(size):
    rows = [{"a": "x]y,[z", "n": 12345.5e3, "s": 'é\\"q'}, [1, [2]], 7, {"emoji": "🎉"}, "str", None]
    data = (" \n[ " + " ,\n ".join(json.dumps(r) for r in rows) + " ]\n ").encode()
    assert [v for _, v in iter_json_array(chunked(data, size), 10_000)] == rows


@pytest.mark.parametrize(
    "body",
    [b"", b"{}", b"[1,]", b"[1 2]", b"[1,2", b"[1] 2", b'[{"a": }]', b'["unterminated]'],
)
def test_json_array_structural_errors(body):
    with pytest.raises(BodyError):
        list(iter_json_array(chunked(body, 3), 10_000))


def test_json_array_row_too_large():
    body = b'[{"a": "' + b"x" * 5000 + b'"}]'
    with pytest.raises(BodyError) as error:
        list(iter_json_array(chunked(body, 100), 1000))
    assert error.value.code == "row_too_large"


def test_json_empty_array():
    assert list(iter_json_array([b" [ ] "], 100)) == []


def test_ndjson_crlf_blank_lines_bom_and_bad_lines():
    body = "\ufeff".encode() + b'{"a": 1}\r\n\r\n  \n{"a": 2}\nnot json\n{"a": 3}'
    items = list(iter_ndjson(chunked(body, 4), 1000))
    assert [(i, v) for i, v in items if not isinstance(v, RowError)] == [(0, {"a": 1}), (1, {"a": 2}), (3, {"a": 3})]
    assert isinstance(items[2][1], RowError) and items[2][0] == 2


def test_utf8_split_across_chunks_and_invalid_bytes():
    body = '{"k": "日本語"}\n'.encode()
    assert [v for _, v in iter_ndjson(chunked(body, 1), 100)] == [{"k": "日本語"}]
    with pytest.raises(BodyError) as error:
        list(iter_ndjson([b'{"k": "\xc3\x28"}\n'], 100))
    assert error.value.code == "bad_encoding"


def test_csv_quoted_newlines_bom_and_extra_fields():
    body = '\ufeffglobal_key,row_data,metadata.note\n"a","line1\nline2, ""q""",x\nb,https://x.org/b,y,extra\n'
    items = list(iter_csv(chunked(body.encode(), 5), 10_000))
    assert items[0] == (0, {"global_key": "a", "row_data": 'line1\nline2, "q"', "metadata": {"note": "x"}})
    assert isinstance(items[1][1], RowError)


def test_csv_header_requires_key_and_data():
    with pytest.raises(BodyError):
        list(iter_csv([b"row_data\nx\n"], 1000))


SPECS = compile_specs([("n", "number", []), ("d", "datetime", []), ("e", "enum", ["a", "b"]), ("s", "string", [])])


def test_metadata_coercion():
    assert coerce_metadata({"n": 3, "d": "2024-01-01T00:00:00", "e": "a", "s": "x", "tag": "t"}, SPECS) == {
        "n": 3,
        "d": "2024-01-01T00:00:00+00:00",
        "e": "a",
        "s": "x",
        "tag": ["t"],
    }
    assert coerce_metadata({"n": "2.5", "tag": "a|b|a", "s": ""}, SPECS, from_text=True) == {
        "n": 2.5,
        "tag": ["a", "b"],
    }
    for bad in ({"n": True}, {"n": float("inf")}, {"e": "c"}, {"d": 5}, {"split": "training"}, {"zzz": 1}):
        with pytest.raises(MetadataError):
            coerce_metadata(bad, SPECS)


def test_reserved_fields_cannot_be_redefined():
    specs = compile_specs([("split", "string", [])])
    assert specs["split"] == BUILTIN_SPECS["split"]
    assert isinstance(specs["split"], FieldSpec)


def test_clean_row_text_and_references():
    row = clean_row(0, {"global_key": "k", "row_data": "hello", "media_type": "text"}, SPECS, "upload://uploads/o/")
    assert row.row_data == "hello" and row.media_type == "text"
    for raw in (
        {"global_key": "k", "row_data": "s3://bucket-only"},
        {"global_key": "k", "row_data": "upload://uploads/other/x.png"},
        {"global_key": "k", "row_data": "https://x.org/a b.png"},
        {"global_key": "k" * 256, "row_data": "https://x.org/a.png"},
        {"global_key": "k", "row_data": "https://x.org/a.png", "media_type": "audio"},
        {"global_key": "k", "row_data": "https://x.org/a.png", "attachments": [{"type": "html", "value": "<b>"}]},
    ):
        with pytest.raises(RowError):
            clean_row(0, raw, SPECS, "upload://uploads/o/")
