"""The import's fast paths give exactly what the full paths give: `clean_row`'s common-row path (same clean row or
the same error message, on a corpus of good and bad rows) and the orjson metadata text (same jsonb value)."""

import json
import math

import pytest

from apps.datasets.domain import rows
from apps.datasets.domain.metadata import compile_specs
from apps.datasets.importer import _JSON, metadata_json

SPECS = compile_specs(
    [("camera", "string", []), ("score", "number", []), ("captured_at", "datetime", []), ("kind", "enum", ["a", "b"])]
)
PREFIX = "upload://uploads/org/"
GOOD_META = {"camera": "cam-1", "score": 0.5, "captured_at": "2024-01-02T03:00:00Z"}

CORPUS = [
    {"global_key": "k1", "row_data": "https://x.example/1.jpg"},
    {"global_key": "k2", "row_data": "http://x.example/2.jpg", "media_type": "image", "metadata": GOOD_META},
    {"global_key": "k3", "row_data": "https://x.example/3.txt", "media_type": "text", "metadata": None},
    {"global_key": "k4", "row_data": "https://x.example/4.jpg", "metadata": {"tag": ["a", "b", "a"], "split": "train"}},
    {"global_key": "k5", "row_data": "https://x.example/5.jpg", "metadata": {"score": 3, "kind": "a", "camera": None}},
    {"global_key": "k6", "row_data": "https://x.example/6.jpg", "media_type": ""},
    {"global_key": "k7", "row_data": "https://x.example/7.jpg", "media_type": 0},
    {"global_key": "k8", "row_data": "https://x.example/8.jpg", "media_type": "video"},
    {"global_key": "k9", "row_data": "https://x.example/a b.jpg"},
    {"global_key": "k10", "row_data": "https://x.example/\x1f.jpg"},
    {"global_key": "k11", "row_data": "https://x.example/" + "a" * 5000},
    {"global_key": "k12", "row_data": "https://x.example/ü.jpg"},
    {"global_key": "k13", "row_data": "not a url", "media_type": "text"},
    {"global_key": "k14", "row_data": "not a url"},
    {"global_key": "k15", "row_data": "s3://bucket/key.jpg"},
    {"global_key": "k16", "row_data": "s3://bucket"},
    {"global_key": "k17", "row_data": "upload://uploads/org/a.jpg"},
    {"global_key": "k18", "row_data": "upload://uploads/other/a.jpg"},
    {"global_key": "", "row_data": "https://x.example/1.jpg"},
    {"global_key": None, "row_data": "https://x.example/1.jpg"},
    {"global_key": 5, "row_data": "https://x.example/1.jpg"},
    {"global_key": "k" * 256, "row_data": "https://x.example/1.jpg"},
    {"global_key": "ключ", "row_data": "https://x.example/1.jpg"},
    {"global_key": "nul\x00", "row_data": "https://x.example/1.jpg"},
    {"global_key": "lone\ud800", "row_data": "https://x.example/1.jpg"},
    {"global_key": "k19"},
    {"row_data": "https://x.example/1.jpg"},
    {"global_key": "k20", "row_data": "https://x.example/nul\x00.jpg"},
    {"global_key": "k21", "row_data": 7},
    {"global_key": "k22", "row_data": "https://x.example/1.jpg", "metadata": {"unknown": 1}},
    {"global_key": "k23", "row_data": "https://x.example/1.jpg", "metadata": {"score": "high"}},
    {"global_key": "k24", "row_data": "https://x.example/1.jpg", "metadata": {"score": math.nan}},
    {"global_key": "k25", "row_data": "https://x.example/1.jpg", "metadata": {"score": 2**64}},
    {"global_key": "k26", "row_data": "https://x.example/1.jpg", "metadata": {"score": True}},
    {"global_key": "k27", "row_data": "https://x.example/1.jpg", "metadata": {"captured_at": "yesterday"}},
    {"global_key": "k28", "row_data": "https://x.example/1.jpg", "metadata": {"kind": "c"}},
    {"global_key": "k29", "row_data": "https://x.example/1.jpg", "metadata": []},
    {"global_key": "k30", "row_data": "https://x.example/1.jpg", "metadata": {"camera": "x" * 5000}},
    {"global_key": "k31", "row_data": "https://x.example/1.jpg", "metadata": {"camera": "snö"}},
    {"global_key": "k32", "row_data": "https://x.example/1.jpg", "external_id": "e", "width": 10, "height": 20.0},
    {"global_key": "k33", "row_data": "https://x.example/1.jpg", "attachments": [{"type": "text", "value": "x"}]},
    {"global_key": "k34", "row_data": "https://x.example/1.jpg", "colour": "red"},
    ["not", "an", "object"],
    "text",
    None,
]


def _outcome(clean, index, raw):
    try:
        return clean(index, raw, SPECS, PREFIX)
    except rows.RowError as exc:
        return ("error", str(exc))


@pytest.mark.parametrize("index", range(len(CORPUS)))
def test_common_row_path_agrees_with_the_full_checks(index, monkeypatch):
    raw = CORPUS[index]
    fast = _outcome(rows.clean_row, index, raw)
    monkeypatch.setattr(rows, "_clean_common", lambda *args: None)
    full = _outcome(rows.clean_row, index, raw)
    assert fast == full


def test_common_row_path_is_taken_for_the_usual_rows():
    assert rows._clean_common(0, CORPUS[1], SPECS) is not None
    assert rows._clean_common(0, CORPUS[32], SPECS) is None  # optional fields: the full path


@pytest.mark.parametrize(
    "metadata",
    [
        {},
        GOOD_META,
        {"camera": "snö ☃ 😀", "score": -(2**63), "big": 2**63, "f": 1e300, "tiny": 5e-324, "neg0": -0.0},
        {"tag": ["a", "b"], "split": "valid", "quote": 'say "hi"\\\n\t'},
    ],
)
def test_metadata_json_is_the_same_jsonb_value(metadata):
    assert json.loads(metadata_json(metadata)) == json.loads(_JSON.encode(metadata))


def test_metadata_json_falls_back_for_what_orjson_cannot_encode():
    assert metadata_json({"huge": 2**70}) == _JSON.encode({"huge": 2**70})
    # orjson would write NaN as null: validated metadata never holds one (the standard encoder would refuse it).
    with pytest.raises(rows.RowError, match="finite"):
        row = {"global_key": "k", "row_data": "https://x/1", "metadata": {"score": math.nan}}
        rows.clean_row(0, row, SPECS, PREFIX)
