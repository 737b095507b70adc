"""COCO pages built whole by PostgreSQL: one query per page of data rows returns the page's `images` and
`annotations` array items as two finished JSON texts (the same text as `apps.exports.domain.coco`, which stays the
writer on other databases and the reference of the tests).

Why: the Python writer parsed every stored label document, walked it and encoded every annotation again (about 300
microseconds per image of five boxes). The documents are already in the database; reading the few fields COCO needs
out of them there and writing the text directly costs a fraction of that and no Python work per row.

How the query is built (same page and label selection as the NDJSON query, `apps.exports.sql`):

- `page`/`bounds`: the next `limit` project rows after the keyset id; `images` numbers them from `first_image`.
- `chosen`: the exported labels of the page's rows (label mode and label filters) with their image id, ranked per
  row by task slot as the Python path reads them; `items`: their annotation documents' top-level items with their
  position.
- `shapes`: the boxes and polygons whose feature is a category of the project's ontology version (categories are
  parameters: `[schema_id]` and `[category id]`), with their classifications written in place when they are at most
  two plain answers; `shape_rows`: with each polygon's bounding box, segmentation and shoelace area aggregated over
  its vertices. Numbered in row, label and item order from `first_annotation` as the annotations are written.
- `answers`: the classification answers, flattened recursively into `"kind"`, `"kind.lights_on"` paths (top-level
  classifications of the labels for the image, a shape's own classifications for the annotation when they were not
  written in place). A path answered twice keeps its first position and its last value, as a Python dict updated in
  order does.
- numbers are computed as the Python writer does, in double precision (shoelace sum in vertex order), and written
  rounded to 3 decimals in their shortest form, as `coco._num` writes them. (Python rounds the exact binary value,
  the database rounds `x * 1000` half to even: they can differ by 0.001 when that product rounds across a half.)

Every fragment of SQL here is a constant (table names from the models' metadata); values are bound parameters.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction

from apps.exports.domain.documents import Category
from apps.exports.sql import (
    _BOUNDS,
    _LABEL_FILTERS,
    _LABEL_MODES,
    WORK_MEM,
    PageQuery,
    _in_page,
    _page_cte,
    _resolve_in_page,
    _sql,
    fast_concat,
)


def _num(expression: str) -> str:
    """A float as `coco._num` writes it: rounded to 3 decimals (half to even, on the binary value), shortest text,
    no trailing zeros (`20.25`, `80`, `0` for -0)."""
    return f"(round(({expression}) * 1000) / 1000 + 0.0)::text"


def _chosen_cte(mode: str, label_filters: Sequence[str]) -> str:
    conditions = [_LABEL_MODES[mode], *(_LABEL_FILTERS[key] for key in label_filters)]
    winner_join = (
        _sql("LEFT JOIN {consensus} w ON w.project_id = %(project)s AND w.data_row_id = l.data_row_id")
        if mode == "consensus_winner"
        else ""
    )
    return (
        _sql(  # noqa: S608 - table names from T, conditions from _LABEL_MODES/_LABEL_FILTERS; values are parameters
            """chosen AS MATERIALIZED (SELECT l.id, l.data_row_id, im.image_id, l.annotations,
    row_number() OVER (PARTITION BY l.data_row_id ORDER BY t.slot, l.id) AS rank
  FROM {label} l JOIN {task} t ON t.id = l.task_id JOIN images im ON im.id = l.data_row_id """
        )
        + winner_join
        + " WHERE l.project_id = %(project)s AND l.is_current AND "
        + _in_page("l.data_row_id")
        + " AND "
        + " AND ".join(f"({c})" for c in conditions)
        + ")"
    )


# The page's rows with what their image object needs (an index probe per row, not a join planned on the whole table).
_IMAGES_CTE = _sql(
    """images AS MATERIALIZED (SELECT p.id, %(first_image)s + row_number() OVER (ORDER BY p.id) - 1 AS image_id,
    d.global_key, d.external_id, d.row_data, d.width, d.height
  FROM page p CROSS JOIN LATERAL (SELECT x.global_key, x.external_id, x.row_data, x.width, x.height
    FROM {row} x WHERE x.id = p.id LIMIT 1) d)"""
)

# (A document that is not an array has no items: an empty array rather than a `WHERE` on the label, whose guessed
# selectivity made the planner expect a handful of shapes and join them to the page's images in a nested loop.)
_ITEMS_CTE = """items AS MATERIALIZED (SELECT c.data_row_id, c.id AS label_id, c.image_id, c.rank, e.ord, e.item,
    e.item->>'tool' AS tool, e.item->>'schema_id' AS schema_id
  FROM chosen c CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(c.annotations) = 'array'
    THEN c.annotations ELSE '[]' END) WITH ORDINALITY e(item, ord))"""

# A shape's classifications as their text when they are at most two plain answers (an option without nested
# classifications, or a text: the usual case), `''` when there are none, NULL when they must be walked
# (`_SHAPE_ATTRIBUTES_CTE`: checklists, nested answers, longer lists, anything unusual). Paths from the list `x.cl`,
# read once per shape; CASE, so each test only sees what the previous ones let through.


def _plain_answer(index: int) -> str:
    """`"name":value` of the list's answer `index` as `_MEMBER` writes it once walked, or NULL if it is not plain."""
    name = f"to_json(coalesce(x.cl #>> '{{{index},name}}', ''))::text || ':' || "
    return (
        f"CASE jsonb_typeof(x.cl #> '{{{index},answer}}') "
        f"WHEN 'object' THEN CASE WHEN coalesce(x.cl #> '{{{index},answer,classifications}}', '[]') = '[]' "
        f"THEN {name}coalesce((x.cl #> '{{{index},answer,name}}')::text, 'null') END "
        f"WHEN 'array' THEN NULL ELSE {name}(x.cl #> '{{{index},answer}}')::text END"
    )


_PLAIN_ATTRIBUTES = (
    "CASE jsonb_typeof(x.cl) WHEN 'array' THEN CASE jsonb_array_length(x.cl) WHEN 0 THEN '' "
    f"WHEN 1 THEN {_plain_answer(0)} WHEN 2 THEN {_plain_answer(0)} || ',' || {_plain_answer(1)} END ELSE '' END"
)

# The category by the item's schema id (a lookup, not a join: with a join the planner guessed a handful of shapes).
_CATEGORY = (
    "(%(category_ids)s::int[])[array_position(%(schema_ids)s::text[], "
    "CASE WHEN i.tool IN ('bbox', 'polygon', 'mask') THEN i.schema_id END)]"
)

# The page's boxes and polygons, keyed by label and item position (numbered when the annotations are written).
_SHAPES_CTE = (
    """shapes AS MATERIALIZED (SELECT y.data_row_id, y.label_id, y.image_id, y.rank, y.ord, y.tool, y.schema_id,"""  # noqa: S608 - constant SQL of this module; values are parameters
    + """
    y.category_id, y.polygon, y.attributes, CASE WHEN y.attributes IS NULL THEN y.cl END AS walked,
    -- (a mask label written without its annotation rows, outside the label services, gets zeros: valid JSON)
    coalesce((y.bbox->>'left')::float8, m.x, 0) AS box_left, coalesce((y.bbox->>'top')::float8, m.y, 0) AS box_top,
    coalesce((y.bbox->>'width')::float8, m.width, 0) AS box_width,
    coalesce((y.bbox->>'height')::float8, m.height, 0) AS box_height,
    CASE WHEN y.tool = 'mask' THEN coalesce(m.area, 0) END AS mask_area,
    CASE WHEN y.tool = 'mask' THEN concat('{"size":[', y.mask #>> '{size,0}', ',', y.mask #>> '{size,1}',
      '],"counts":', to_json(y.mask->>'counts')::text, '}') END AS mask_json
  FROM (SELECT x.*, """
    + _PLAIN_ATTRIBUTES
    + """ AS attributes
    FROM (SELECT i.data_row_id, i.label_id, i.image_id, i.rank, i.ord, i.tool, i.schema_id, """
    + _CATEGORY
    + """ AS category_id,
        CASE WHEN i.tool = 'polygon' THEN i.item->'polygon' END AS polygon, i.item->'bbox' AS bbox,
        CASE WHEN i.tool = 'mask' THEN i.item->'mask' END AS mask, i.item->'classifications' AS cl
      FROM items i OFFSET 0) x WHERE x.category_id IS NOT NULL OFFSET 0) y
    -- a mask's box and pixel count from its annotation row (stored with the label: no RLE decoding here)
    LEFT JOIN LATERAL (SELECT a.x, a.y, a.width, a.height, a.area FROM """
    + _sql("{annotation}")
    + """ a
      WHERE y.tool = 'mask' AND a.label_id = y.label_id AND a.index = y.ord - 1 AND a.parent_id IS NULL LIMIT 1) m
      ON TRUE)"""
)

_SHAPE_COLUMNS = (
    "data_row_id, rank, ord, image_id, category_id, tool, schema_id, label_id, "
    "box_left, box_top, box_width, box_height, mask_area, mask_json, attributes, walked"
)

# Every shape with its polygon's figures (NULL for boxes): a polygon's vertices, bounding box, segmentation and
# shoelace area aggregated over its points with the shape's own columns (no join back to the shapes: with the
# planner's guess of a handful of rows, that join was a nested loop over every pair of polygons).
_SHAPE_ROWS_CTE = (
    f"""shape_rows AS NOT MATERIALIZED (SELECT {_SHAPE_COLUMNS}, NULL::text AS segmentation, NULL::float8 AS left_x,"""  # noqa: S608 - constant SQL of this module; values are parameters
    + """
    NULL::float8 AS top_y, NULL::float8 AS width, NULL::float8 AS height, NULL::float8 AS area
  FROM shapes WHERE tool <> 'polygon'
  UNION ALL
  SELECT """
    + ", ".join(f"z.{column}" for column in _SHAPE_COLUMNS.split(", "))
    + """,
    string_agg(concat("""
    + _num("z.x")
    + ", ',', "
    + _num("z.y")
    + """), ',' ORDER BY z.vertex) FILTER (WHERE z.vertex IS NOT NULL),
    min(z.x), min(z.y), max(z.x) - min(z.x), max(z.y) - min(z.y),
    abs(sum(z.x * z.next_y - z.next_x * z.y ORDER BY z.vertex)) / 2
  FROM (SELECT s.*, q.vertex, (q.point->>'x')::float8 AS x, (q.point->>'y')::float8 AS y,
      coalesce(lead((q.point->>'x')::float8) OVER w, first_value((q.point->>'x')::float8) OVER w) AS next_x,
      coalesce(lead((q.point->>'y')::float8) OVER w, first_value((q.point->>'y')::float8) OVER w) AS next_y
    FROM shapes s LEFT JOIN LATERAL jsonb_array_elements(s.polygon) WITH ORDINALITY q(point, vertex) ON TRUE
    WHERE s.tool = 'polygon' WINDOW w AS (PARTITION BY s.label_id, s.ord ORDER BY q.vertex)) z
  GROUP BY """
    + ", ".join(f"z.{column}" for column in _SHAPE_COLUMNS.split(", "))
    + ")"
)

# An answer as `documents.answer_value` gives it: radio → the option's name, checklist → the names, text → itself.
_ANSWER_VALUE = """CASE jsonb_typeof(f.item->'answer')
    WHEN 'array' THEN (SELECT concat('[', string_agg(coalesce((o.option->'name')::text, 'null'), ',' ORDER BY o.ord),
      ']') FROM jsonb_array_elements(f.item->'answer') WITH ORDINALITY o(option, ord)
      WHERE jsonb_typeof(o.option) = 'object')
    WHEN 'object' THEN coalesce((f.item->'answer'->'name')::text, 'null')
    ELSE (f.item->'answer')::text END"""


def _flattened(name: str, roots: str) -> str:
    """`name(owner, position, key, value)`: the answers under the classification items of `roots(owner, position,
    item)`, with their nested answers as `kind.lights_on` (`documents.flatten_classifications`). `position` is the
    answer's path of ordinals, so ordering by it is document order. Only answers with nested classifications are
    walked further (`nested`: most answers have none, and the walk then costs one path test per answer)."""
    return _WALK.replace("@NAME@", name).replace("@ROOTS@", roots)


_WALK = (
    """@NAME@ AS (WITH RECURSIVE walk(owner, position, key, item, nested) AS ("""  # noqa: S608 - constant SQL of this module
    + """
    SELECT r.owner, r.position, coalesce(r.item->>'name', ''), r.item, r.item @? '$.answer.classifications[*]'
    FROM (@ROOTS@) r WHERE jsonb_typeof(r.item) = 'object' AND r.item ? 'answer'
    UNION ALL
    SELECT w.owner, w.position || o.ord || c.ord, w.key || '.' || coalesce(c.item->>'name', ''), c.item,
      c.item @? '$.answer.classifications[*]'
    FROM (SELECT * FROM walk WHERE nested) w
    CROSS JOIN LATERAL jsonb_array_elements(CASE jsonb_typeof(w.item->'answer')
      WHEN 'array' THEN w.item->'answer' WHEN 'object' THEN jsonb_build_array(w.item->'answer') ELSE '[]' END)
      WITH ORDINALITY o(option, ord)
    CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(o.option->'classifications') = 'array'
      THEN o.option->'classifications' ELSE '[]' END) WITH ORDINALITY c(item, ord)
    WHERE jsonb_typeof(c.item) = 'object' AND c.item ? 'answer')
  SELECT f.owner, f.position, f.key, """
    + _ANSWER_VALUE
    + " AS value FROM walk f)"
)


_MEMBER = "concat(to_json(x.key)::text, ':', x.value)"

# A shape's own classifications (one answer per path: a tool's classification names are unique), flattened once
# per distinct classification list of the page: shapes mostly repeat the same few answers.
_SHAPE_ATTRIBUTES_CTE = (
    """shape_classifications AS (SELECT DISTINCT s.walked AS classifications FROM shapes s"""  # noqa: S608 - constant SQL of this module; values are parameters
    + """
  WHERE s.walked IS NOT NULL),
"""
    + _flattened(
        "shape_answers",
        "SELECT sc.classifications AS owner, ARRAY[c.ord] AS position, c.item FROM shape_classifications sc "
        "CROSS JOIN LATERAL jsonb_array_elements(sc.classifications) WITH ORDINALITY c(item, ord)",
    )
    + """,
shape_attributes AS (SELECT x.owner, string_agg("""
    + _MEMBER
    + """, ',') AS items
  FROM (SELECT * FROM shape_answers ORDER BY owner, position) x GROUP BY x.owner)"""
)

# The image's answers: the top-level classifications of its labels in label order. Two labels may answer the same
# question: the path keeps its first place and takes the last answer, as a Python dict updated label by label.
_IMAGE_ATTRIBUTES_CTE = (
    _flattened(  # noqa: S608 - constant SQL of this module
        "image_answers",
        "SELECT i.data_row_id AS owner, ARRAY[i.rank, i.ord] AS position, i.item FROM items i WHERE i.tool IS NULL",
    )
    + """,
image_attributes AS (SELECT x.owner, string_agg("""
    + _MEMBER
    + """, ',') AS items
  FROM (SELECT * FROM (SELECT DISTINCT ON (a.owner, a.key) a.owner, a.key, a.value,
        min(a.position) OVER (PARTITION BY a.owner, a.key) AS first_position
      FROM image_answers a ORDER BY a.owner, a.key, a.position DESC) y
    ORDER BY y.owner, y.first_position) x
  GROUP BY x.owner)"""
)

_IMAGE_JSON = """concat('{"id":', im.image_id, ',"file_name":', to_json(im.global_key),
  ',"width":', coalesce(im.width, 0), ',"height":', coalesce(im.height, 0), ',"coco_url":', to_json(im.row_data),
  ',"data_row_id":"', im.id,
  '","global_key":', to_json(im.global_key), ',"external_id":', coalesce(to_json(im.external_id)::text, 'null'),
  ',"attributes":{', a.items, '}}')"""

_BOX = [("left_x", "box_left"), ("top_y", "box_top"), ("width", "box_width"), ("height", "box_height")]
_ANNOTATION_JSON = (
    """concat('{"id":', %(first_annotation)s + s.n - 1, ',"image_id":', s.image_id, ',"category_id":', s.category_id,
  ',"bbox":[', """
    + ", ',', ".join(_num(f"coalesce(s.{polygon}, s.{box})") for polygon, box in _BOX)
    + """, '],"area":', """
    + _num("coalesce(s.area, s.mask_area, s.box_width * s.box_height)")
    + """,
  ',"segmentation":', CASE WHEN s.tool = 'polygon' THEN concat('[[', s.segmentation, ']]')
    WHEN s.tool = 'mask' THEN s.mask_json ELSE '[]' END,
  ',"iscrowd":0,"schema_id":', to_json(s.schema_id), ',"label_id":"', s.label_id,
  '","attributes":{', s.attributes, '}}')"""
)


# Each shape's attributes: written in place, or walked (`walked` is NULL for the others).
_ROW_COLUMNS = ", ".join(
    f"r.{column}" for column in [*_SHAPE_COLUMNS.split(", ")[:-2], "left_x", "top_y", "width", "height", "area"]
)
_ANNOTATED = (
    f"SELECT {_ROW_COLUMNS}, r.segmentation, coalesce(r.attributes, a.items) AS attributes "  # noqa: S608 - constant SQL
    "FROM shape_rows r LEFT JOIN shape_attributes a ON a.owner = r.walked"
)


def page_query(
    *,
    project_id: Any,
    categories: Sequence[Category],
    row_filters: dict[str, Any],
    mode: str,
    first: bool,
    contiguous: bool,
) -> PageQuery:
    """One page as a single row: `(rows, last data row id, images text, annotations text, annotation count)`;
    `params` still needs `after`, `limit`, `first_image` and `first_annotation`."""
    params: dict[str, Any] = {
        "project": project_id,
        "schema_ids": [c.schema_id for c in categories],
        "category_ids": [c.id for c in categories],
    }
    label_filters = [key for key in _LABEL_FILTERS if row_filters.get(key)]
    ctes = [
        _page_cte(row_filters, params, first=first),
        _BOUNDS,
        _IMAGES_CTE,
        _chosen_cte(mode, label_filters),
        _ITEMS_CTE,
        _SHAPES_CTE,
        _SHAPE_ROWS_CTE,
        _SHAPE_ATTRIBUTES_CTE,
        _IMAGE_ATTRIBUTES_CTE,
    ]
    sql = (
        "WITH "  # noqa: S608 - CTEs and expressions are this module's constants; values are parameters
        + ",\n".join(ctes)
        + "\nSELECT (SELECT count(*) FROM page), (SELECT hi FROM bounds)::text, (SELECT string_agg("
        + _IMAGE_JSON
        + ", ',' ORDER BY im.image_id) FROM images im LEFT JOIN image_attributes a ON a.owner = im.id), "
        + "(SELECT string_agg("
        + _ANNOTATION_JSON
        + """, ',' ORDER BY s.n) FROM (SELECT u.*, row_number() OVER (ORDER BY u.data_row_id, u.rank, u.ord) AS n
  FROM ("""
        + _ANNOTATED
        + """) u) s),
  (SELECT count(*) FROM shapes)"""
    )
    return PageQuery(sql=fast_concat(_resolve_in_page(sql, contiguous=contiguous)), params=params)


# The planner's row guesses for the walked answers run high enough to compile the page query (JIT): seconds per page,
# for a query that itself takes a fraction of one.
NO_JIT = "SET LOCAL jit = off"


@dataclass(frozen=True)
class CocoPage:
    """A page's images and annotations (each the comma-separated inside of its JSON array)."""

    rows: int
    last_id: str
    images: str
    annotations: str
    annotation_count: int


def run_pages(query: PageQuery, *, first: PageQuery, after: Any, page_size: int, numbering: Any) -> Iterator[CocoPage]:
    """Pages in data row order. `numbering()` gives `(first image id, first annotation id)` of the next page: it is
    read after the previous page was recorded."""
    while True:
        current = first if after is None else query
        first_image, first_annotation = numbering()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(WORK_MEM)
            cursor.execute(NO_JIT)
            cursor.execute(
                current.sql,
                {
                    **current.params,
                    "after": after,
                    "limit": page_size,
                    "first_image": first_image,
                    "first_annotation": first_annotation,
                },
            )
            rows, last_id, images, annotations, annotation_count = cursor.fetchone()
        if not rows:
            return
        yield CocoPage(
            rows=rows, last_id=last_id, images=images, annotations=annotations or "", annotation_count=annotation_count
        )
        if rows < page_size:
            return
        after = last_id
