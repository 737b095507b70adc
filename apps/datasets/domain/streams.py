"""Incremental parsers for import bodies: JSON array, NDJSON and CSV over an iterator of byte chunks.

Memory stays bounded by the chunk size plus the largest single row (`max_row_chars`). Each parser yields
`(index, row)` where `row` is the decoded object, or a `RowError` for a row that cannot be decoded but does not
break the stream (a malformed NDJSON line). Structural problems (bad UTF-8, a broken JSON array, a bad CSV header)
raise `BodyError`: the whole request is rejected.
"""

from __future__ import annotations

import codecs
import csv
import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

from apps.core import json_limits
from apps.datasets.domain.rows import RowError, check_csv_header, csv_record_to_row

FORMATS = {
    "application/json": "json",
    "application/x-ndjson": "ndjson",
    "application/ndjson": "ndjson",
    "application/jsonl": "ndjson",
    "application/x-jsonlines": "ndjson",
    "text/csv": "csv",
}

_WS = re.compile(r"[ \t\n\r]*")


class BodyError(ValueError):
    def __init__(self, message: str, code: str = "malformed_body") -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def decode_utf8(chunks: Iterable[bytes]) -> Iterator[str]:
    """UTF-8 (an optional BOM is dropped) → text chunks; invalid bytes raise BodyError(bad_encoding)."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")("strict")
    offset = 0
    try:
        for chunk in chunks:
            text = decoder.decode(chunk)
            offset += len(chunk)
            if text:
                yield text
        tail = decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        raise BodyError(
            f"The request body is not valid UTF-8 (near byte {offset + exc.start}).", code="bad_encoding"
        ) from None
    if tail:
        yield tail


def _loads(text: str) -> Any:
    return json_limits.loads(text)


def iter_ndjson(chunks: Iterable[bytes], max_row_chars: int) -> Iterator[tuple[int, Any]]:
    """One JSON value per line; blank lines are skipped and not counted."""
    raw_decode = json.JSONDecoder().raw_decode
    index = 0
    pending = ""
    for text in decode_utf8(chunks):
        lines = (pending + text).split("\n") if pending else text.split("\n")
        pending = lines.pop()
        if len(pending) > max_row_chars:
            raise BodyError(f"Row {index} is longer than {max_row_chars} characters.", code="row_too_large")
        for line in lines:
            if not line or line.isspace():
                continue
            if len(line) > max_row_chars:
                raise BodyError(f"Row {index} is longer than {max_row_chars} characters.", code="row_too_large")
            try:
                value, end = raw_decode(line)  # fast path: the line starts with its value
                if end != len(line) and not line[end:].isspace():
                    raise ValueError("extra data")
            except (ValueError, RecursionError):
                try:
                    value = json_limits.loads(line)  # leading whitespace, or the precise error message
                except ValueError as exc:
                    value = RowError(f"malformed JSON: {exc}")
            yield index, value
            index += 1
    if pending and not pending.isspace():
        try:
            yield index, json_limits.loads(pending)
        except ValueError as exc:
            yield index, RowError(f"malformed JSON: {exc}")


def _needs_more(exc: json.JSONDecodeError, length: int) -> bool:
    return exc.pos >= length - 8 or exc.msg.startswith("Unterminated string")


def iter_json_array(chunks: Iterable[bytes], max_row_chars: int) -> Iterator[tuple[int, Any]]:
    """Elements of one top-level JSON array, decoded one at a time with `raw_decode`."""
    decoder = json.JSONDecoder()
    source = decode_utf8(chunks)
    buf = ""
    pos = 0
    eof = False
    state = "start"  # start → first → (value → sep)* → done
    index = 0

    def more() -> None:
        nonlocal buf, pos, eof
        try:
            text = next(source)
        except StopIteration:
            eof = True
            return
        buf = buf[pos:] + text
        pos = 0

    while True:
        pos = _WS.match(buf, pos).end()  # type: ignore[union-attr]
        if pos >= len(buf):
            if eof:
                break
            more()
            continue
        char = buf[pos]
        if state == "start":
            if char != "[":
                raise BodyError("A JSON body must be an array of data rows.")
            pos += 1
            state = "first"
        elif state in ("first", "value"):
            if state == "first" and char == "]":
                pos += 1
                state = "done"
                continue
            try:
                value, end = decoder.raw_decode(buf, pos)
            except RecursionError:
                raise BodyError(f"Row {index} is nested too deeply.") from None
            except json.JSONDecodeError as exc:
                if not eof and _needs_more(exc, len(buf)):
                    if len(buf) - pos > max_row_chars:
                        raise BodyError(
                            f"Row {index} is longer than {max_row_chars} characters.", code="row_too_large"
                        ) from None
                    more()
                    continue
                raise BodyError(f"Malformed JSON in row {index}: {exc.msg}.") from None
            if end >= len(buf) and not eof:
                more()  # a number may continue in the next chunk: decode again with more text
                continue
            pos = end
            yield index, value
            index += 1
            state = "sep"
        elif state == "sep":
            if char == ",":
                state = "value"
            elif char == "]":
                state = "done"
            else:
                raise BodyError(f"Malformed JSON after row {index - 1}: expected ',' or ']'.")
            pos += 1
        else:
            raise BodyError("Unexpected data after the end of the JSON array.")
    if state != "done":
        raise BodyError("The JSON array is incomplete (unexpected end of body).")


def _lines(texts: Iterable[str], max_row_chars: int) -> Iterator[str]:
    pending = ""
    for text in texts:
        parts = (pending + text).split("\n")
        pending = parts.pop()
        if len(pending) > max_row_chars:
            raise BodyError(f"A CSV line is longer than {max_row_chars} characters.", code="row_too_large")
        for part in parts:
            yield part + "\n"
    if pending:
        yield pending


def iter_csv(chunks: Iterable[bytes], max_row_chars: int) -> Iterator[tuple[int, Any]]:
    """CSV with a header row (RFC 4180 quoting: quoted fields may hold commas, quotes and newlines)."""
    csv.field_size_limit(max(max_row_chars, 131072))
    reader = csv.reader(_lines(decode_utf8(chunks), max_row_chars), strict=True)
    try:
        header_record = next(reader, None)
        if header_record is None:
            return
        try:
            header = check_csv_header(header_record)
        except ValueError as exc:
            raise BodyError(str(exc), code="invalid_csv_header") from None
        if "global_key" not in header or "row_data" not in header:
            raise BodyError("The CSV header needs global_key and row_data columns.", code="invalid_csv_header")
        index = 0
        for record in reader:
            if not record or record == [""]:
                continue
            try:
                yield index, csv_record_to_row(header, record)
            except RowError as exc:
                yield index, exc
            index += 1
    except csv.Error as exc:
        raise BodyError(f"Malformed CSV near line {reader.line_num}: {exc}.") from None


PARSERS = {"json": iter_json_array, "ndjson": iter_ndjson, "csv": iter_csv}


def iter_rows(fmt: str, chunks: Iterable[bytes], max_row_chars: int) -> Iterator[tuple[int, Any]]:
    return PARSERS[fmt](chunks, max_row_chars)
