"""The bulk path of import lines for the common shape: a box of a known bbox tool with its classifications.

Most pre-label files are boxes: `{"name": <bbox tool>, "bbox": {top, left, height, width}, "classifications": [...],
"confidence": c, "uuid": u, "data_row": {...}}` (classifications, confidence and uuid optional). `BoxPath.take`
recognises these lines as it parses them (one `orjson.loads` each), keeps them as columns, not as per-line objects,
and sends every other line to the general path (`parse_line` + the ontology validator). After the rows are known,
`BoxLines.problems` checks every box's numbers at once with the validator's own numpy checks (`box_checks`), and
`BoxLines.documents` writes each normalized annotation as the JSON text the validator's output would serialize to.

Identical results by construction: a line takes this path only if the general path would accept it as it is, and
whatever this path doubts (an unusual shape, a bad number, a box outside the image) goes to the general path, which
explains it. The classifications are not checked here at all: the validator itself validates each distinct
classifications value once per tool (tried on a unit box) and the serialized answer is reused for every line that
has the same value; a value the validator refuses sends the line to the general path.
"""

from __future__ import annotations

import uuid as uuid_module
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson

from apps.ontologies.domain.validation import CompiledOntology, box_checks, validate_annotations

MAX_CACHED_CLASSIFICATIONS = 10_000  # distinct classifications values remembered per import (bounded memory)
_NUMBER = frozenset({int, float})
_REFUSED = b""  # cached "the validator refuses these classifications"
_UNIT_BOX = {"top": 0, "left": 0, "height": 1, "width": 1}  # valid whatever the image size is unknown


@dataclass(slots=True)
class BoxTool:
    schema_id: str
    name: str
    template: bytes  # the normalized annotation as a bytes %-template: 4 numbers, then the classifications
    classifications: dict[bytes | None, bytes] = field(default_factory=dict)


@dataclass(slots=True)
class BoxLines:
    """The box lines of one chunk, as columns (index i is one line)."""

    numbers: list[int] = field(default_factory=list)
    raws: list[bytes] = field(default_factory=list)
    keys: list[str | None] = field(default_factory=list)  # data_row.global_key, or None when given by id
    row_ids: list[str | None] = field(default_factory=list)  # data_row.id, or None when given by global key
    uuids: list[str | None] = field(default_factory=list)  # canonical, or None (derived from the content)
    confidences: list[float | None] = field(default_factory=list)
    tools: list[BoxTool] = field(default_factory=list)
    values: list[Any] = field(default_factory=list)  # top, left, height, width of each line, flat
    classifications: list[bytes] = field(default_factory=list)  # serialized normalized classifications

    def __len__(self) -> int:
        return len(self.numbers)

    def problems(
        self, indices: list[int], image_widths: list[float], image_heights: list[float]
    ) -> np.ndarray[Any, Any]:
        """For those lines, whether the validator's box checks find anything (image size per line, NaN if unknown)."""
        boxes = np.array(self.values, dtype=np.float64).reshape(-1, 4)[indices]
        sizes = (np.array(image_widths, dtype=np.float64), np.array(image_heights, dtype=np.float64))
        _, not_finite, non_positive, negative_origin, outside = box_checks(boxes, sizes)
        return np.asarray(not_finite | non_positive | negative_origin | outside)

    def documents(self, indices: list[int]) -> list[bytes]:
        """The normalized annotations of those lines, byte for byte `orjson.dumps` of the validator's output (the
        numbers are serialized by orjson too, all at once)."""
        values = self.values
        flat = []
        for i in indices:
            flat.extend(values[4 * i : 4 * i + 4])
        numbers = orjson.dumps(flat)[1:-1].split(b",") if flat else []
        tools = self.tools
        classifications = self.classifications
        return [tools[i].template % (*numbers[4 * k : 4 * k + 4], classifications[i]) for k, i in enumerate(indices)]


class BoxPath:
    """Recognises the box lines of an import against one ontology version (state: the classifications seen)."""

    def __init__(self, compiled: CompiledOntology) -> None:
        self.compiled = compiled
        self.tools: dict[str, BoxTool] = {}
        for tool in compiled.tools_by_name.values():
            if tool.tool != "bbox" or tool.archived:
                continue
            head = orjson.dumps({"schema_id": tool.schema_id, "name": tool.name, "tool": "bbox"})[:-1]
            template = head.replace(b"%", b"%%") + (
                b',"bbox":{"top":%b,"left":%b,"height":%b,"width":%b},"classifications":%b}'
            )
            self.tools[tool.name] = BoxTool(tool.schema_id, tool.name, template)
        self.cached = 0

    def _classifications(self, tool: BoxTool, key: bytes | None, value: Any) -> bytes:
        """The serialized normalized classifications of a box of this tool, or `_REFUSED`."""
        annotation: dict[str, Any] = {"name": tool.name, "bbox": _UNIT_BOX}
        if value is not None:
            annotation["classifications"] = value
        normalized, errors = validate_annotations(self.compiled, [annotation])
        item = normalized[0] if normalized else None
        result = _REFUSED if errors or item is None else orjson.dumps(item["classifications"])
        if self.cached < MAX_CACHED_CLASSIFICATIONS:
            tool.classifications[key] = result
            self.cached += 1
        return result

    def take(self, raws: list[tuple[int, bytes | None]]) -> tuple[BoxLines, list[tuple[int, bytes | None]]]:
        """Split numbered raw lines into the box lines (as columns) and the others, in order."""
        boxes = BoxLines()
        others: list[tuple[int, bytes | None]] = []
        if not self.tools:
            return boxes, list(raws)
        loads = orjson.loads
        dumps = orjson.dumps
        decode_error = orjson.JSONDecodeError
        tools = self.tools
        number_types = _NUMBER
        numbers, kept_raws, keys, row_ids = boxes.numbers, boxes.raws, boxes.keys, boxes.row_ids
        uuids, confidences, box_tools = boxes.uuids, boxes.confidences, boxes.tools
        values, classifications = boxes.values, boxes.classifications
        for number, raw in raws:
            if raw is None:
                others.append((number, raw))
                continue
            try:
                value = loads(raw)
            except decode_error:
                others.append((number, raw))
                continue
            if type(value) is not dict:
                others.append((number, raw))
                continue
            name = value.get("name")
            tool = tools.get(name) if type(name) is str else None
            ref = value.get("data_row")
            box = value.get("bbox")
            if tool is None or type(ref) is not dict or len(ref) != 1 or type(box) is not dict or len(box) != 4:
                others.append((number, raw))
                continue
            nested = value.get("classifications")
            confidence = value.get("confidence")
            given = value.get("uuid")
            expected = 3 + ("classifications" in value) + ("confidence" in value) + ("uuid" in value)
            top = box.get("top")
            left = box.get("left")
            height = box.get("height")
            width = box.get("width")
            if (
                len(value) != expected
                or type(top) not in number_types
                or type(left) not in number_types
                or type(height) not in number_types
                or type(width) not in number_types
            ):
                others.append((number, raw))
                continue
            key = ref.get("global_key")
            row_id = ref.get("id")
            if not ((type(key) is str and 0 < len(key) <= 255) or (key is None and type(row_id) is str)):
                others.append((number, raw))
                continue
            if confidence is not None:
                kind = type(confidence)
                if (kind is not float and kind is not int) or not 0 <= confidence <= 1:
                    others.append((number, raw))
                    continue
                confidence = float(confidence)
            if given is not None or "uuid" in value:
                if type(given) is not str or len(given) > 64:
                    others.append((number, raw))
                    continue
                try:
                    given = str(uuid_module.UUID(given))
                except ValueError:
                    others.append((number, raw))
                    continue
            cache_key = None if nested is None else dumps(nested)
            children = tool.classifications.get(cache_key)
            if children is None:
                children = self._classifications(tool, cache_key, nested)
            if not children:  # refused
                others.append((number, raw))
                continue
            numbers.append(number)
            kept_raws.append(raw)
            keys.append(key)
            row_ids.append(row_id)
            uuids.append(given)
            confidences.append(confidence)
            box_tools.append(tool)
            values.extend((top, left, height, width))
            classifications.append(children)
        return boxes, others
