"""NDJSON lines built whole by PostgreSQL: one query per page of data rows returns each row's finished line as text.

Why: the line is mostly data the database already holds as text (ids, names, timestamps, the stored annotation
documents). Building it there and copying it through costs a few microseconds per row; fetching the pieces and
assembling them in Python cost ten times that (see docs/exports.md, "Speed").

How the query is built:

- `page`: the next `limit` project rows after the keyset id (slot-0 tasks, the row filters as `WHERE` conditions),
  materialized once; `bounds` is its first and last id, so every other table is read by one index range scan over
  `(project_id, data_row_id)` and joined back to the page (exact also when filters make the page non-contiguous).
- every array of the line (tasks, labels with their history and reviews, issues with comments, attachments) is
  aggregated per row from a subquery sorted by the array's order, and then joined to the page: sorting each whole
  page once is much cheaper than one small sort per row (`string_agg(... ORDER BY ...)`).
- optional sections (issues, reviews, attachments, quality) are range scans that find nothing when a page has none:
  one index probe per page.
- objects are written with `concat()`/`to_json()`, not `json_build_object()` (which looks up the type of every
  argument on every call, the main cost of the old path).

Pages are read by `apps.exports.sql_pages.run_pages`: one after the other (keyset on the data row id) or, outside
a transaction, several at once on their own connections between boundaries found in advance (`boundaries_query`,
bounded `page_query`, `apps.exports.page_pool`), then the keyset loop for the tail: see docs/exports.md, "Pages on
two connections at once".

Every fragment of SQL here is a constant of this module (table names from the models' metadata, columns from fixed
lists); values, including every filter, are bound parameters.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

from apps.datasets.models import Attachment, DataRow, Dataset
from apps.issues.models import Comment, Issue
from apps.labeling.models import Annotation, Batch, Label, Task
from apps.ontologies.models import OntologyVersion
from apps.predictions.models import AnnotationProvenance
from apps.quality.models import BenchmarkReference, ConsensusScore, LabelScore
from apps.review.models import Review

# Table names, from the models (fixed at import).
T = {
    "task": Task._meta.db_table,
    "label": Label._meta.db_table,
    "batch": Batch._meta.db_table,
    "row": DataRow._meta.db_table,
    "dataset": Dataset._meta.db_table,
    "attachment": Attachment._meta.db_table,
    "review": Review._meta.db_table,
    "issue": Issue._meta.db_table,
    "comment": Comment._meta.db_table,
    "user": Label._meta.get_field("labeler").related_model._meta.db_table,  # type: ignore[union-attr]
    "version": OntologyVersion._meta.db_table,
    "consensus": ConsensusScore._meta.db_table,
    "benchmark": BenchmarkReference._meta.db_table,
    "label_score": LabelScore._meta.db_table,
    "provenance": AnnotationProvenance._meta.db_table,
    "annotation": Annotation._meta.db_table,
}


def _sql(template: str) -> str:
    """`{task}`, `{label}`, ... replaced by the table names (JSON braces elsewhere are left alone)."""
    for name, table in T.items():
        template = template.replace("{" + name + "}", table)
    return template


def _nullable(expression: str) -> str:
    """A JSON value, or `null` when the column is NULL."""
    return f"coalesce(to_json({expression})::text, 'null')"


def _seconds(expression: str) -> str:
    """Seconds rounded to milliseconds (as `seconds_json` in the Python path)."""
    return f"coalesce(round(({expression})::numeric, 3)::text, 'null')"


def _user(id_column: str, name_column: str) -> str:
    return f"""'{{"id":"', {id_column}, '","username":', to_json({name_column}), '}}'"""


_LITERAL = re.compile(r"'(?:[^']|'')*'")
_CONCAT = re.compile(r"(?<![A-Za-z0-9_])concat\(")


def _split_arguments(sql: str, start: int) -> tuple[list[str], int]:
    """The top-level arguments of the call whose `(` is just before `start`, and the index after its `)`."""
    arguments, depth, current, i = [], 0, start, start
    while i < len(sql):
        char = sql[i]
        if char == "'":
            i = _LITERAL.match(sql, i).end()  # type: ignore[union-attr]
            continue
        if char == "(":
            depth += 1
        elif char == ")":
            if depth == 0:
                arguments.append(sql[current:i].strip())
                return [a for a in arguments if a], i + 1
            depth -= 1
        elif char == "," and depth == 0:
            arguments.append(sql[current:i].strip())
            current = i + 1
        i += 1
    raise ValueError("unbalanced concat()")


def fast_concat(sql: str) -> str:
    """Every `concat(a, b, ...)` of `sql` as `(a || b || ...)`, NULL arguments as empty text, as concat() does.

    Why: concat() looks up the output function of every argument on every call (a catalog lookup per argument per
    row: most of the cost of writing a line). A `::text` cast is resolved once, when the query is planned. The one
    difference, booleans (`true` instead of `t`), does not occur: the JSON texts write booleans with to_json()."""
    out, position = [], 0
    while (match := _CONCAT.search(sql, position)) is not None:
        literal = _LITERAL.search(sql, position)
        if literal is not None and literal.start() < match.start():
            out.append(sql[position : literal.end()])
            position = literal.end()
            continue
        arguments, end = _split_arguments(sql, match.end())
        parts = [a if _LITERAL.fullmatch(a) else f"coalesce(({fast_concat(a)})::text, '')" for a in arguments]
        out.append(sql[position : match.start()] + ("(" + " || ".join(parts) + ")" if parts else "''"))
        position = end
    return "".join(out) + sql[position:]


# --- the page of rows (keyset on data row id) and its filters ------------------------------------------------------

_PAGE_FILTERS = {
    "states": "t.state = ANY(%(states)s)",
    "batch_ids": "t.batch_id = ANY(%(batch_ids)s::uuid[])",
    "global_keys": "d.global_key = ANY(%(global_keys)s)",
    "metadata": "d.metadata @> %(metadata)s::jsonb",
}
_LABEL_FILTERS = {
    "labeler_ids": "l.labeler_id = ANY(%(labeler_ids)s::uuid[])",
    "label_created_from": "l.created_at >= %(label_created_from)s",
    "label_created_to": "l.created_at < %(label_created_to)s",
}
# Which current labels of a row are exported, by `label=` mode (`w.winner_id`: the row's consensus winner).
_LABEL_MODES = {
    "all": "TRUE",
    "approved": "t.state = 'done'",
    "consensus_winner": "CASE WHEN w.winner_id IS NOT NULL THEN l.id = w.winner_id ELSE t.state = 'done' END",
}


@dataclass
class PageQuery:
    """The SQL of one NDJSON page for a set of filters; `params` gets `after` and `limit` per page."""

    sql: str
    params: dict[str, Any] = field(default_factory=dict)


def _page_where(row_filters: dict[str, Any], params: dict[str, Any], *, first: bool, bounded: bool) -> str:
    """The export's slot-0 tasks as `FROM ... WHERE ...` (alias `t`; `d` the data row when a filter needs it): the
    project, the row filters, the keyset lower bound unless `first`, and the upper bound `%(upto)s` if `bounded`."""
    where = ["t.project_id = %(project)s", "t.slot = 0"]
    if not first:
        where.append("t.data_row_id > %(after)s")
    if bounded:
        where.append("t.data_row_id <= %(upto)s")
    needs_row = False
    for key, condition in _PAGE_FILTERS.items():
        value = row_filters.get(key)
        if value:
            where.append(condition)
            params[key] = json.dumps(value, cls=DjangoJSONEncoder) if key == "metadata" else list(value)
            needs_row = needs_row or key in ("global_keys", "metadata")
    label_conditions = []
    for key, condition in _LABEL_FILTERS.items():
        value = row_filters.get(key)
        if value:
            label_conditions.append(condition)
            params[key] = list(value) if key == "labeler_ids" else value
    if label_conditions:
        where.append(
            _sql(  # noqa: S608 - table names from T, conditions from _LABEL_FILTERS; values are parameters
                "EXISTS (SELECT 1 FROM {label} l WHERE l.project_id = %(project)s "
                "AND l.data_row_id = t.data_row_id AND l.is_current AND "
            )
            + " AND ".join(label_conditions)
            + ")"
        )
    join = _sql(" JOIN {row} d ON d.id = t.data_row_id") if needs_row else ""
    return _sql("FROM {task} t") + join + " WHERE " + " AND ".join(where)


def _page_cte(row_filters: dict[str, Any], params: dict[str, Any], *, first: bool, bounded: bool = False) -> str:
    """The page's rows: the next `%(limit)s` after the keyset id, or, `bounded`, every row up to `%(upto)s` (no
    LIMIT: a row inserted meanwhile below the bound must not push the bound's row out of its page)."""
    return (
        "page AS MATERIALIZED (SELECT t.data_row_id AS id, t.state, t.priority, t.batch_id "
        + _page_where(row_filters, params, first=first, bounded=bounded)
        + " ORDER BY t.data_row_id"
        + ("" if bounded else " LIMIT %(limit)s")
        + ")"
    )


def boundaries_query(*, project_id: Any, row_filters: dict[str, Any], first: bool) -> PageQuery:
    """Every `%(page_size)s`-th data row id (the last id of each full page) among the next `%(limit)s` rows of the
    export after `%(after)s` (from the start if `first`), in order: the bounds of the pages built concurrently."""
    params: dict[str, Any] = {"project": project_id}
    rows = (
        "SELECT t.data_row_id AS id, row_number() OVER (ORDER BY t.data_row_id) AS n "
        + _page_where(row_filters, params, first=first, bounded=False)
        + " ORDER BY t.data_row_id LIMIT %(limit)s"
    )
    sql = f"SELECT s.id::text FROM ({rows}) s WHERE mod(s.n, %(page_size)s) = 0 ORDER BY s.id"  # noqa: S608
    return PageQuery(sql=sql, params=params)


_BOUNDS = (
    "bounds AS MATERIALIZED (SELECT (SELECT id FROM page ORDER BY id LIMIT 1) AS lo, "
    "(SELECT id FROM page ORDER BY id DESC LIMIT 1) AS hi)"
)
# "This table's row is in the page": a range scan between the page's first and last id when the page holds every
# project row in that range (no row filter), else a semi-join with the page's ids. (Both conditions together make
# the planner misjudge the row counts and compare every pair.)
_RANGE = "{column} BETWEEN (SELECT lo FROM bounds) AND (SELECT hi FROM bounds)"
_SEMI_JOIN = "{column} IN (SELECT id FROM page)"
_IN_PAGE_MARK = re.compile(r"@IN_PAGE\(([a-z]+\.[a-z_]+)\)@")


def _in_page(column: str) -> str:
    return f"@IN_PAGE({column})@"


def _resolve_in_page(sql: str, *, contiguous: bool) -> str:
    template = _RANGE if contiguous else _SEMI_JOIN
    return _IN_PAGE_MARK.sub(lambda match: template.format(column=match.group(1)), sql)


# --- sections --------------------------------------------------------------------------------------------------

_TASKS_CTE = _sql(
    """tasks AS (SELECT s.data_row_id, string_agg(s.item, ',') AS items FROM (
  SELECT t.data_row_id, concat('{"id":"', t.id, '","slot":', t.slot, ',"kind":', to_json(t.kind),
    ',"state":', to_json(t.state), ',"labeled_by":', coalesce('"' || t.labeled_by_id || '"', 'null'),
    ',"done_at":', """  # noqa: S608 - table names from T, columns and JSON keys are constants; values are parameters
    + _nullable("t.done_at")
    + """, '}') AS item
  FROM {task} t WHERE t.project_id = %(project)s AND """
    + _in_page("t.data_row_id")
    + """
  ORDER BY t.data_row_id, t.slot) s GROUP BY s.data_row_id)"""
)

_ATTACHMENTS_CTE = _sql(
    """attachments AS (SELECT s.data_row_id, string_agg(s.item, ',') AS items FROM (
  SELECT a.data_row_id, concat('{"type":', to_json(a.type), ',"value":', to_json(a.value), ',"name":',
    to_json(a.name), '}') AS item
  FROM {attachment} a WHERE """  # noqa: S608 - table names from T, columns and JSON keys are constants; values are parameters
    + _in_page("a.data_row_id")
    + """
  ORDER BY a.data_row_id, a.id) s GROUP BY s.data_row_id)"""
)

# Reviews of the page's tasks (only when the project has any: one probe otherwise).
_REVIEWS_CTE = _sql(
    """reviews AS (SELECT s.task_id, string_agg(s.item, ',') AS items, sum(s.secs) AS secs FROM (
  SELECT r.task_id, coalesce(r.seconds_spent, r.server_seconds) AS secs,
    concat('{"id":"', r.id, '","label":"', r.label_id, '","result_label":',
    coalesce('"' || r.result_label_id || '"', 'null'), ',"reviewer":', """  # noqa: S608 - table names from T, columns and JSON keys are constants; values are parameters
    + _user("r.reviewer_id", "u.username")
    + """, ',"decision":', to_json(r.decision), ',"feedback":', to_json(r.feedback), ',"edited":', to_json(r.edited),
    ',"overrode_open_issues":', r.overrode_open_issues, ',"seconds_spent":', """
    + _nullable("r.seconds_spent")
    + """, ',"server_seconds":', """
    + _nullable("r.server_seconds")
    + """, ',"created_at":', to_json(r.created_at), '}') AS item
  FROM {review} r JOIN {user} u ON u.id = r.reviewer_id JOIN {task} rt ON rt.id = r.task_id
  WHERE EXISTS (SELECT 1 FROM {review} x WHERE x.project_id = %(project)s) AND r.project_id = %(project)s
    AND rt.project_id = %(project)s AND """
    + _in_page("rt.data_row_id")
    + """
  ORDER BY r.task_id, r.created_at, r.id) s GROUP BY s.task_id)"""
)

# Every revision of the page's tasks: the history entries and the create / rework seconds. A revision is a
# reviewer's when a review names it as its result (edit-and-approve).
_HISTORY_CTE = _sql(
    """history AS (SELECT s.task_id, string_agg(s.item, ',') AS items,
    sum(s.secs) FILTER (WHERE s.revision = 1) AS create_secs,
    sum(s.secs) FILTER (WHERE s.revision > 1 AND NOT s.by_reviewer) AS rework_secs FROM (
  SELECT h.task_id, h.revision, coalesce(h.seconds_spent, h.server_seconds) AS secs, rv.id IS NOT NULL AS by_reviewer,
    concat('{"id":"', h.id, '","revision":', h.revision, ',"labeler":', """  # noqa: S608 - table names from T, columns and JSON keys are constants; values are parameters
    + _user("h.labeler_id", "u.username")
    + """, ',"created_at":', to_json(h.created_at), ',"seconds_spent":', """
    + _nullable("h.seconds_spent")
    + """, ',"server_seconds":', """
    + _nullable("h.server_seconds")
    + """, CASE WHEN rv.id IS NOT NULL THEN ',"by_reviewer":true' END, '}') AS item
  FROM {label} h JOIN {user} u ON u.id = h.labeler_id
  LEFT JOIN LATERAL (SELECT x.id FROM {review} x WHERE x.result_label_id = h.id LIMIT 1) rv ON TRUE
  WHERE h.project_id = %(project)s AND """
    + _in_page("h.data_row_id")
    + """
  ORDER BY h.task_id, h.revision) s GROUP BY s.task_id)"""
)


def _labels_cte(mode: str, label_filters: Sequence[str]) -> str:
    conditions = [_LABEL_MODES[mode], *(_LABEL_FILTERS[key] for key in label_filters)]
    winner_join = (
        _sql("LEFT JOIN {consensus} w ON w.project_id = %(project)s AND w.data_row_id = l.data_row_id")
        if mode == "consensus_winner"
        else ""
    )
    return _sql(
        """labels AS (SELECT s.data_row_id, string_agg(s.item, ',') AS items FROM (
  SELECT l.data_row_id, concat('{"id":"', l.id, '","task":"', l.task_id, '","slot":', t.slot,
    ',"task_kind":', to_json(t.kind), ',"task_state":', to_json(t.state), ',"revision":', l.revision,
    ',"labeler":', """  # noqa: S608 - table names from T, columns and JSON keys are constants; values are parameters
        + _user("l.labeler_id", "u.username")
        + """, ',"ontology_version":{"id":"', l.ontology_version_id, '","number":', v.number,
    '},"created_at":', to_json(l.created_at), ',"updated_at":', to_json(l.updated_at),
    ',"seconds_spent":', """
        + _nullable("l.seconds_spent")
        + """, ',"server_seconds":', """
        + _nullable("l.server_seconds")
        + """, ',"annotations":', l.annotations,
    ',"seconds":{"create":', """
        + _seconds("h.create_secs")
        + """, ',"review":', """
        + _seconds("r.secs")
        + """, ',"rework":', """
        + _seconds("h.rework_secs")
        + """, '},"history":[', h.items, '],"reviews":[', r.items, ']}') AS item
  FROM {label} l JOIN {task} t ON t.id = l.task_id JOIN {user} u ON u.id = l.labeler_id
  JOIN {version} v ON v.id = l.ontology_version_id JOIN history h ON h.task_id = l.task_id
  LEFT JOIN reviews r ON r.task_id = l.task_id """
        + winner_join
        + """
  WHERE l.project_id = %(project)s AND l.is_current AND """
        + _in_page("l.data_row_id")
        + " AND "
        + " AND ".join(f"({c})" for c in conditions)
        + """
  ORDER BY l.data_row_id, l.task_id) s GROUP BY s.data_row_id)"""
    )


_ISSUES_CTE = _sql(
    """comments AS (SELECT s.issue_id, string_agg(s.item, ',') AS items FROM (
  SELECT c.issue_id, concat('{"id":"', c.id, '","author":', """  # noqa: S608 - table names from T, columns and JSON keys are constants; values are parameters
    + _user("c.author_id", "u.username")
    + """, ',"text":', to_json(c.text), ',"created_at":', to_json(c.created_at), '}') AS item
  FROM {comment} c JOIN {user} u ON u.id = c.author_id JOIN {issue} i ON i.id = c.issue_id
  WHERE i.project_id = %(project)s AND """
    + _in_page("i.data_row_id")
    + """
  ORDER BY c.issue_id, c.created_at, c.id) s GROUP BY s.issue_id),
issues AS (SELECT s.data_row_id, string_agg(s.item, ',') AS items FROM (
  SELECT i.data_row_id, concat('{"id":"', i.id, '","project":"', i.project_id, '","data_row":"', i.data_row_id,
    '","task":', coalesce('"' || i.task_id || '"', 'null'), ',"label":', coalesce('"' || i.label_id || '"', 'null'),
    ',"text":', to_json(i.text), ',"position":',
    CASE WHEN i.x IS NOT NULL AND i.y IS NOT NULL THEN concat('{"x":', to_json(i.x), ',"y":', to_json(i.y), '}')
      ELSE 'null' END,
    ',"text_offset":', coalesce(i.text_offset::text, 'null'),
    ',"annotation":', coalesce(i.annotation_index::text, 'null'),
    ',"feature":', CASE WHEN i.feature_schema_id IS NOT NULL THEN concat('{"schema_id":"', i.feature_schema_id,
      '","name":', to_json(i.feature_name), '}') ELSE 'null' END,
    ',"status":', to_json(i.status), ',"created_by":', """
    + _user("i.created_by_id", "cu.username")
    + """, ',"resolved_by":', CASE WHEN i.resolved_by_id IS NOT NULL AND ru.id IS NOT NULL THEN """
    + "concat("
    + _user("i.resolved_by_id", "ru.username")
    + """) ELSE 'null' END, ',"resolved_at":', """
    + _nullable("i.resolved_at")
    + """, ',"created_at":', to_json(i.created_at), ',"comments":[', c.items, ']}') AS item
  FROM {issue} i JOIN {user} cu ON cu.id = i.created_by_id LEFT JOIN {user} ru ON ru.id = i.resolved_by_id
  LEFT JOIN comments c ON c.issue_id = i.id
  WHERE i.project_id = %(project)s AND """
    + _in_page("i.data_row_id")
    + """
  ORDER BY i.data_row_id, i.created_at, i.id) s GROUP BY s.data_row_id)"""
)

# The quality section: the row's consensus score and the benchmark references among its current labels.
_QUALITY_CTE = _sql(
    """refs AS (SELECT s.data_row_id, string_agg(s.item, ',') AS items FROM (
  SELECT l.data_row_id, concat('"', l.id, '"') AS item
  FROM {label} l JOIN {benchmark} b ON b.label_id = l.id
  WHERE l.project_id = %(project)s AND l.is_current AND """  # noqa: S608 - table names from T, columns and JSON keys are constants; values are parameters
    + _in_page("l.data_row_id")
    + """
  ORDER BY l.data_row_id, l.id) s GROUP BY s.data_row_id),
consensus AS (SELECT c.data_row_id, concat('{"score":', to_json(c.score), ',"winner":',
    coalesce('"' || c.winner_id || '"', 'null'), ',"complete":', to_json(c.complete), ',"flagged":', to_json(c.flagged),
    ',"labels":', c.labels, '}') AS item
  FROM {consensus} c WHERE c.project_id = %(project)s AND """
    + _in_page("c.data_row_id")
    + ")"
)
_QUALITY_VALUE = (
    "CASE WHEN qc.item IS NULL AND qr.items IS NULL THEN 'null' "
    """ELSE concat('{"consensus":', coalesce(qc.item, 'null'), ',"benchmark_references":[', qr.items, ']}') END"""
)


# Each current label's consensus agreement and benchmark score, keyed by label id (as `load_label_scores`).
_LABEL_SCORES_CTE = _sql(
    """label_scores AS (SELECT s.data_row_id, string_agg(concat('"', s.label_id, '":{"consensus_agreement":', """  # noqa: S608 - table names from T, columns and JSON keys are constants; values are parameters
    + _nullable("s.consensus_agreement")
    + """, ',"benchmark_score":', """
    + _nullable("s.benchmark_score")
    + """, ',"benchmark_reference":', coalesce('"' || s.reference_id || '"', 'null'), '}'), ',' ORDER BY s.label_id)
    AS items
  FROM {label_score} s JOIN {label} l ON l.id = s.label_id
  WHERE EXISTS (SELECT 1 FROM {label_score} x WHERE x.project_id = %(project)s) AND s.project_id = %(project)s
    AND l.is_current AND """
    + _in_page("s.data_row_id")
    + """
  GROUP BY s.data_row_id)"""
)

# What happened to the pre-labels of the row's labels, by label and provenance id (as `load_prelabel_provenance`).
_PROVENANCE_CTE = _sql(
    """provenance AS (SELECT l.data_row_id, string_agg(concat('{"label":"', pv.label_id, '","index":',
    coalesce(pv.index::text, 'null'), ',"prelabel":', coalesce('"' || pv.prelabel_uuid || '"', 'null'),
    ',"schema_id":"', pv.schema_id, '","name":', to_json(pv.name), ',"outcome":', to_json(pv.outcome),
    ',"confidence":', """  # noqa: S608 - table names from T, columns and JSON keys are constants; values are parameters
    + _nullable("pv.confidence")
    + """, '}'), ',' ORDER BY pv.label_id, pv.id) AS items
  FROM {provenance} pv JOIN {label} l ON l.id = pv.label_id
  WHERE EXISTS (SELECT 1 FROM {provenance} x WHERE x.project_id = %(project)s) AND pv.project_id = %(project)s
    AND """
    + _in_page("l.data_row_id")
    + """
  GROUP BY l.data_row_id)"""
)


@dataclass(frozen=True)
class SqlSection:
    """A row section built by the database: CTEs (may use `page`, `bounds` and `%(project)s`), the joins that bring
    them to the page row `p`, and the expression of the section's JSON text for the row."""

    ctes: str
    joins: str
    value: str


SQL_SECTIONS: dict[str, SqlSection] = {
    "issues": SqlSection(
        ctes=_ISSUES_CTE,
        joins="LEFT JOIN issues iss ON iss.data_row_id = p.id",
        value="concat('[', iss.items, ']')",
    ),
    "quality": SqlSection(
        ctes=_QUALITY_CTE,
        joins="LEFT JOIN consensus qc ON qc.data_row_id = p.id LEFT JOIN refs qr ON qr.data_row_id = p.id",
        value=_QUALITY_VALUE,
    ),
    "label_scores": SqlSection(
        ctes=_LABEL_SCORES_CTE,
        joins="LEFT JOIN label_scores lsc ON lsc.data_row_id = p.id",
        value="CASE WHEN lsc.items IS NULL THEN 'null' ELSE concat('{', lsc.items, '}') END",
    ),
    "prelabel_provenance": SqlSection(
        ctes=_PROVENANCE_CTE,
        joins="LEFT JOIN provenance prv ON prv.data_row_id = p.id",
        value="CASE WHEN prv.items IS NULL THEN 'null' ELSE concat('[', prv.items, ']') END",
    ),
}

_ROW = _sql(
    """concat('{"data_row":{"id":"', d.id, '","global_key":', to_json(d.global_key),
  ',"external_id":', to_json(d.external_id), ',"row_data":', to_json(d.row_data),
  ',"media_type":', to_json(d.media_type), ',"width":', coalesce(d.width::text, 'null'),
  ',"height":', coalesce(d.height::text, 'null'), ',"dataset":{"id":"', ds.id, '","name":', to_json(ds.name),
  '},"created_at":', to_json(d.created_at), ',"metadata":', d.metadata, ',"attachments":[', att.items, ']}',
  ',"project":', %(project_json)s::text,
  ',"workflow":{"state":', to_json(p.state), ',"priority":', p.priority, ',"batch":{"id":"', p.batch_id,
  '","name":', to_json(b.name), ',"priority":', b.priority, '},"tasks":[', tk.items, ']}'"""  # no closing parenthesis
)


def page_query(
    *,
    project_id: Any,
    project_json: str,
    row_filters: dict[str, Any],
    mode: str,
    sections: Sequence[tuple[str, SqlSection | str]],
    first: bool,
    contiguous: bool,
    bounded: bool = False,
) -> PageQuery:
    """The query of one page: `(id, line)` per row in id order. `sections`: the registered sections that have SQL,
    in line order, as `(name, SqlSection or "labels")`; names are registry-checked (`[a-z][a-z0-9_]*`). `bounded`:
    the rows up to `%(upto)s` rather than the next `%(limit)s`."""
    params: dict[str, Any] = {"project": project_id, "project_json": project_json}
    ctes = [_page_cte(row_filters, params, first=first, bounded=bounded), _BOUNDS, _TASKS_CTE, _ATTACHMENTS_CTE]
    joins = [
        _sql("JOIN {row} d ON d.id = p.id"),
        _sql("JOIN {dataset} ds ON ds.id = d.dataset_id"),
        _sql("JOIN {batch} b ON b.id = p.batch_id"),
        "LEFT JOIN tasks tk ON tk.data_row_id = p.id",
        "LEFT JOIN attachments att ON att.data_row_id = p.id",
    ]
    values = []
    for name, section in sections:
        if section == "labels":
            label_filters = [key for key in _LABEL_FILTERS if row_filters.get(key)]
            ctes += [_REVIEWS_CTE, _HISTORY_CTE, _labels_cte(mode, label_filters)]
            joins.append("LEFT JOIN labels lab ON lab.data_row_id = p.id")
            values.append("""',"labels":[', lab.items, ']'""")
        elif isinstance(section, SqlSection):
            ctes.append(section.ctes)
            joins.append(section.joins)
            values.append(f"""',"{name}":', {section.value}""")
    select = _ROW + "".join(f", {v}" for v in values) + ", '}')"
    sql = (
        "WITH "  # noqa: S608 - CTEs, joins and values from this module's constants and registered SqlSection constants
        + ",\n".join(ctes)
        + "\nSELECT p.id::text, "
        + select
        + " FROM page p "
        + " ".join(joins)
        + " ORDER BY p.id"
    )
    return PageQuery(sql=fast_concat(_resolve_in_page(sql, contiguous=contiguous)), params=params)


# A page's sorts (each array's items in order) stay in memory: a few MB per page.
WORK_MEM = "SET LOCAL work_mem = '64MB'"
