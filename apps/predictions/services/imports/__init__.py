"""Importing pre-labels (into a project) and predictions (into a model run) from NDJSON.

Per chunk of lines: parse (bad lines reported with their line number); box lines of the common shape are kept as
columns by the box path (`domain/boxes.py`), every other line goes through `parse_line`. Resolve the data rows in one
query per kind of reference (global key or id), with their size and whether they are in the project. Box lines:
every box's numbers checked at once with the validator's own checks, documents written from a template (a box the
checks doubt goes to the validator, which explains it). Other lines: the one ontology validator in bulk (tool
annotations grouped by the asset's size; classifications one by one, since a validator call treats its list as one
label). Then write the chunk with COPY: straight into the table while every uuid is new, else through a temp table
and one `INSERT … ON CONFLICT (owner, uuid) DO UPDATE … RETURNING (xmax = 0)`, so a re-import updates instead of
duplicating and the database says which rows were created. Small bodies run in the request, in one transaction;
large ones are spooled and run as a job, each chunk committed (progress in bytes).

The package, by step: `rows` (resolve the rows the lines name), `chunks` (one chunk: box lines and other lines
validated into records), `writer` (COPY / upsert), `pipeline` (the whole file on two threads), `bodies` (the services
for a body in the request or spooled to storage). `Target` lives in `services/targets.py`, which routing and queue
order import too.
"""

from apps.predictions.services.imports.bodies import (
    STORED_ERRORS,
    annotations_import,
    annotations_import_enqueue,
    annotations_import_from_storage,
)
from apps.predictions.services.imports.chunks import Chunk, ChunkImporter
from apps.predictions.services.imports.pipeline import CHUNK_LINES, DatabaseThread, run_import
from apps.predictions.services.imports.report import Report
from apps.predictions.services.imports.writer import copy_text
from apps.predictions.services.targets import Target, prediction_target, prelabel_target

__all__ = [
    "CHUNK_LINES",
    "STORED_ERRORS",
    "Chunk",
    "ChunkImporter",
    "DatabaseThread",
    "Report",
    "Target",
    "annotations_import",
    "annotations_import_enqueue",
    "annotations_import_from_storage",
    "copy_text",
    "prediction_target",
    "prelabel_target",
    "run_import",
]
