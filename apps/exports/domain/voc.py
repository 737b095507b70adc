"""Pascal VOC: one XML annotation per image. Every text is escaped (and characters XML 1.0 cannot hold are removed),
so hostile names and keys stay data. Boxes become `<object>`s (a tool's classifications as CVAT-style
`<attributes>`); polygons are written as their bounding box with the polygon in `<polygon>`; top-level
classifications are dropped."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any
from xml.sax.saxutils import escape

from apps.exports.domain.documents import Shape

_INVALID_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def text(value: Any) -> str:
    return escape(_INVALID_XML.sub("", str(value)))


def _n(value: float) -> str:
    return f"{round(value, 2):g}" if abs(value) < 1e15 else str(round(value, 2))


def _attribute_value(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return "" if value is None else str(value)


def annotation_xml(*, filename: str, row: Mapping[str, Any], shapes: Sequence[Shape], known: set[str]) -> str:
    width = row.get("width") or 0
    height = row.get("height") or 0
    parts = [
        "<annotation>",
        "<folder>tdp</folder>",
        f"<filename>{text(filename)}</filename>",
        f"<source><database>TDP</database><data_row_id>{text(row['id'])}</data_row_id>"
        f"<global_key>{text(row['global_key'])}</global_key><url>{text(row.get('row_data', ''))}</url></source>",
        f"<size><width>{int(width)}</width><height>{int(height)}</height><depth>3</depth></size>",
        "<segmented>0</segmented>",
    ]
    for shape in shapes:
        if shape.schema_id not in known:
            continue
        left, top, w, h = shape.box
        parts.append("<object>")
        parts.append(f"<name>{text(shape.name)}</name><schema_id>{text(shape.schema_id)}</schema_id>")
        parts.append("<pose>Unspecified</pose><truncated>0</truncated><difficult>0</difficult>")
        parts.append(
            f"<bndbox><xmin>{_n(left)}</xmin><ymin>{_n(top)}</ymin>"
            f"<xmax>{_n(left + w)}</xmax><ymax>{_n(top + h)}</ymax></bndbox>"
        )
        if shape.points:
            points = "".join(f"<pt><x>{_n(x)}</x><y>{_n(y)}</y></pt>" for x, y in shape.points)
            parts.append(f"<polygon>{points}</polygon>")
        if shape.attributes:
            attributes = "".join(
                f"<attribute><name>{text(k)}</name><value>{text(_attribute_value(v))}</value></attribute>"
                for k, v in shape.attributes.items()
            )
            parts.append(f"<attributes>{attributes}</attributes>")
        parts.append("</object>")
    parts.append("</annotation>\n")
    return "".join(parts)
