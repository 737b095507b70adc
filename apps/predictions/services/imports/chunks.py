"""One chunk of lines, by input format: box lines of the common shape as columns (the box path, every box's numbers
checked at once), every other line parsed and checked by the one ontology validator; then the records to store."""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from typing import Any

import orjson
from django.conf import settings
from django.db import transaction

from apps.ontologies.models import OntologyVersion
from apps.ontologies.selectors import annotations_validate, compiled_version
from apps.predictions.domain.boxes import BoxLines, BoxPath
from apps.predictions.domain.lines import ParsedLine, annotation_kind, derived_uuid, parse_line, parse_lines
from apps.predictions.models import ModelRun, ModelRunDataRow, PredictionImport
from apps.predictions.services.imports.report import Report
from apps.predictions.services.imports.rows import _NO_SIZE, Found, _canonical_id, _resolve_rows, _Row
from apps.predictions.services.imports.video import not_for_video, video_line
from apps.predictions.services.imports.writer import _Writer
from apps.predictions.services.targets import Target

_PATH = re.compile(r"^annotations\[\d+\]\.?")


@dataclass(slots=True)
class Chunk:
    """The parsed lines of one chunk: box lines as columns (`BoxLines`), the others one by one."""

    boxes: BoxLines
    lines: list[ParsedLine]

    def references(self) -> tuple[set[str], set[str]]:
        """The global keys and the data row ids the lines name."""
        keys = {line.global_key for line in self.lines if line.global_key is not None}
        keys.update(key for key in self.boxes.keys if key is not None)
        ids = {line.row_id for line in self.lines if line.row_id is not None}
        ids.update(row_id for row_id in self.boxes.row_ids if row_id is not None)
        return keys, ids


# (line number, data row, given uuid, normalized JSON, schema_id, name, kind, confidence, is a tool annotation)
_Entry = tuple[int, str, str | None, bytes, str, str, str, float | None, bool]


class ChunkImporter:
    """Validates and writes chunks of lines for one target, filling the report. Remembers the uuids of the whole
    file, so a uuid used twice in one file is reported (with the line that had it first)."""

    def __init__(self, target: Target, report: Report, source_import: PredictionImport | None) -> None:
        self.target = target
        self.report = report
        self.source_import_id = source_import.pk if source_import is not None else None
        self.seen: dict[str, int] = {}
        self.answered: dict[tuple[str, str], int] = {}
        self.row_ids: set[str] = set()  # rows that got an annotation (routing looks at these)
        self.writer = _Writer(target, self.source_import_id)
        self.compiled = compiled_version(target.version)
        self.box_path = BoxPath(self.compiled)
        self.tracks: dict[tuple[str, str], int] = {}  # (data row, track id) → the line that has it
        self.max_bytes = settings.TDP_IMPORT_MAX_ROW_CHARS

    def parse(self, raws: list[tuple[int, bytes | None]]) -> Chunk:
        """Parse numbered raw lines (no database access); bad lines are reported."""
        boxes, others = self.box_path.take(raws)
        lines, errors = parse_lines(others, self.max_bytes)
        for number, message in errors:
            self.report.error(number, message)
        return Chunk(boxes, lines)

    def lookup(self, chunk: Chunk) -> Found:
        """The database part before validation (runs on the database thread)."""
        return _resolve_rows(self.target, *chunk.references())

    def prepare(self, chunk: Chunk, found: Found) -> list[tuple[Any, ...]]:
        """Validate the lines whose rows were found (no database access): the records to store."""
        groups: dict[Any, list[tuple[ParsedLine, _Row]]] = {}
        singles: list[tuple[ParsedLine, _Row]] = []
        entries: list[_Entry] = []
        self._prepare_boxes(chunk.boxes, found, groups, entries)
        for line in chunk.lines:
            row = self._row(line.number, line.global_key, line.row_id, found)
            if row is None:
                continue
            if line.is_video:
                self._video(line, row, entries)
                continue
            refused = not_for_video(row)
            if refused:
                self.report.error(line.number, refused)
                continue
            if line.is_tool:
                groups.setdefault(row.bounds, []).append((line, row))
            else:
                singles.append((line, row))
        version = self.target.version
        for bounds, items in groups.items():
            self._validate(version, bounds, items, entries)
        for item in singles:
            self._validate(version, item[1].bounds, [item], entries)
        entries.sort(key=_line_number)  # the first line of a duplicated uuid keeps it
        return self._records(entries)

    def _row(self, number: int, global_key: str | None, row_id: str | None, found: Found) -> _Row | None:
        by_key, by_id, in_project = found
        if global_key is not None:
            row = by_key.get(global_key)
            if row is None:
                self.report.error(number, f"Unknown global key {global_key[:100]!r}.")
                return None
        else:
            row = by_id.get(_canonical_id(row_id))
            if row is None:
                self.report.error(number, f"Unknown data row id {str(row_id)[:64]!r}.")
                return None
        if row.id not in in_project:
            self.report.error(number, "The data row is not in this project (add it in a batch first).")
            return None
        return row

    def _prepare_boxes(
        self,
        boxes: BoxLines,
        found: Found,
        groups: dict[Any, list[tuple[ParsedLine, _Row]]],
        entries: list[_Entry],
    ) -> None:
        """The box lines: rows, then every box's numbers at once; a box the checks doubt goes to the validator."""
        if not len(boxes):
            return
        indices: list[int] = []
        rows: list[_Row] = []
        widths: list[float] = []
        heights: list[float] = []
        row_of = self._row
        for i, (number, key, row_id) in enumerate(zip(boxes.numbers, boxes.keys, boxes.row_ids, strict=True)):
            row = row_of(number, key, row_id, found)
            if row is None:
                continue
            refused = not_for_video(row)
            if refused:
                self.report.error(number, refused)
                continue
            indices.append(i)
            rows.append(row)
            width, height = row.bounds[0] or _NO_SIZE
            widths.append(width)
            heights.append(height)
        if not indices:
            return
        problems = boxes.problems(indices, widths, heights).tolist()
        good = [i for i, problem in zip(indices, problems, strict=True) if not problem]
        documents = iter(boxes.documents(good))
        numbers, uuids, confidences, tools = boxes.numbers, boxes.uuids, boxes.confidences, boxes.tools
        append = entries.append
        for i, row, problem in zip(indices, rows, problems, strict=True):
            if problem:  # the validator explains it
                line = parse_line(numbers[i], boxes.raws[i], self.max_bytes)
                groups.setdefault(row.bounds, []).append((line, row))
                continue
            tool = tools[i]
            document = next(documents)
            append((numbers[i], row.id, uuids[i], document, tool.schema_id, tool.name, "bbox", confidences[i], True))

    def _video(self, line: ParsedLine, row: _Row, entries: list[_Entry]) -> None:
        """A track or per-frame answer of a video row; a track id is used once per row in the whole file."""
        item, problem = video_line(self.compiled, line, row)
        if item is None:
            self.report.error(line.number, problem or "Invalid annotation.")
            return
        if "track_id" in item:
            first = self.tracks.setdefault((row.id, item["track_id"]), line.number)
            if first != line.number:
                self.report.error(line.number, f"Track id {item['track_id']!r} is used on line {first} for this row.")
                return
        # a track is a tool annotation; per-frame answers may repeat (other ranges): not "answered once"
        kind = "track" if "track_id" in item else annotation_kind(item)
        entries.append(
            (
                line.number,
                row.id,
                line.uuid,
                orjson.dumps(item),
                item["schema_id"],
                item["name"],
                kind,
                line.confidence,
                True,
            )
        )

    def store(self, records: list[tuple[Any, ...]], commit: bool) -> int:
        """Write the records (runs on the database thread); returns how many were new."""
        if not records:
            return 0
        with transaction.atomic() if commit else contextlib.nullcontext():
            created = self.writer.write(records)
            if self.target.model_run is not None:
                _add_run_rows(self.target.model_run, {r[1] for r in records})
        return created

    def run(self, raws: list[tuple[int, bytes | None]]) -> None:
        """One chunk, all on this thread (tests and small callers)."""
        chunk = self.parse(raws)
        records = self.prepare(chunk, self.lookup(chunk))
        created = self.store(records, commit=False)
        self.report.created += created
        self.report.updated += len(records) - created

    def _validate(
        self,
        version: OntologyVersion,
        bounds: tuple[tuple[float, float] | None, int | None],
        items: list[tuple[ParsedLine, _Row]],
        entries: list[_Entry],
    ) -> None:
        normalized, errors = annotations_validate(
            version=version,
            annotations=[line.annotation for line, _ in items],
            image_size=bounds[0],
            text_length=bounds[1],
        )
        reported: set[int] = set()
        for error in errors:
            index = error["index"]
            if index is None or index in reported:
                continue
            reported.add(index)
            path = _PATH.sub("", error["path"])
            message = f"{path}: {error['message']}" if path else error["message"]
            self.report.error(items[index][0].number, message)
        encode = orjson.dumps  # compact, keys in insertion order (the validator's fixed order): a stable document
        for (line, row), item in zip(items, normalized, strict=True):
            if item is not None:
                entries.append(
                    (
                        line.number,
                        row.id,
                        line.uuid,
                        encode(item),
                        item["schema_id"],
                        item["name"],
                        annotation_kind(item),
                        line.confidence,
                        "tool" in item,
                    )
                )

    def _records(self, entries: list[_Entry]) -> list[tuple[Any, ...]]:
        records: list[tuple[Any, ...]] = []
        append = records.append
        seen = self.seen
        answered_in = self.answered
        row_ids = self.row_ids
        error = self.report.error
        for number, row_id, given, document, schema_id, name, kind, confidence, is_tool in entries:
            annotation_id = given or derived_uuid(row_id, document)
            first = seen.get(annotation_id)
            if first is not None:
                if given is not None:
                    error(number, f"Duplicate uuid {annotation_id}: line {first} has it too.")
                else:
                    error(number, f"Duplicate annotation: line {first} has the same one.")
                continue
            if not is_tool:
                answered = answered_in.setdefault((row_id, schema_id), number)
                if answered != number:
                    error(number, f"{name!r} is already answered for this row on line {answered}.")
                    continue
            seen[annotation_id] = number
            row_ids.add(row_id)
            append((annotation_id, row_id, schema_id, name[:200], kind, document.decode(), confidence))
        return records


def _line_number(entry: _Entry) -> int:
    return entry[0]


def _add_run_rows(model_run: ModelRun, row_ids: set[str]) -> None:
    ModelRunDataRow.objects.bulk_create(
        [ModelRunDataRow(model_run=model_run, data_row_id=row_id) for row_id in row_ids],
        ignore_conflicts=True,
        batch_size=5000,
    )
