"""COCO pages built whole by PostgreSQL: one query per page of data rows returns the page's `images` and
`annotations` array items as two finished JSON texts (the same text as `apps.exports.domain.coco`, which stays the
writer on other databases and the reference of the tests).

Why: the Python writer parsed every stored label document, walked it and encoded every annotation again (about 300
microseconds per image of five boxes). The documents are already in the database; reading the few fields COCO needs
out of them there and writing the text directly costs a fraction of that and no Python work per row.

How the query is built (same page and label selection as the NDJSON query, `apps.exports.sql`):

- `page`/`bounds`: the next `limit` project rows after the keyset id; `images` numbers them from `first_image`.
- `chosen`: the exported labels of the page's rows (label mode and label filters), ranked per row by task slot as
  the Python path reads them; `items`: their annotation documents' top-level items with their position.
- `shapes`: the boxes and polygons whose feature is a category of the project's ontology version (categories are
  parameters: `[schema_id]` and `[category id]`), numbered in row, label and item order from `first_annotation`;
  `points`/`polygons`: each polygon's vertices, bounding box, segmentation and shoelace area.
- `answers`: the classification answers, flattened recursively into `"kind"`, `"kind.lights_on"` paths (top-level
  classifications of the labels for the image, a shape's own classifications for the annotation). A path answered
  twice keeps its first position and its last value, as a Python dict updated in order does.
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
            """chosen AS MATERIALIZED (SELECT l.id, l.data_row_id, l.annotations,
    row_number() OVER (PARTITION BY l.data_row_id ORDER BY t.slot, l.id) AS rank
  FROM {label} l JOIN {task} t ON t.id = l.task_id """
        )
        + winner_join
        + " WHERE l.project_id = %(project)s AND l.is_current AND "
        + _in_page("l.data_row_id")
        + " AND "
        + " AND ".join(f"({c})" for c in conditions)
        + ")"
    )


_IMAGES_CTE = "images AS MATERIALIZED (SELECT p.id, %(first_image)s + row_number() OVER (ORDER BY p.id) - 1 AS image_id FROM page p)"

_ITEMS_CTE = """items AS MATERIALIZED (SELECT c.data_row_id, c.id AS label_id, c.rank, e.ord, e.item,
    e.item->>'tool' AS tool
  FROM chosen c CROSS JOIN LATERAL jsonb_array_elements(c.annotations) WITH ORDINALITY e(item, ord)
  WHERE jsonb_typeof(c.annotations) = 'array')"""

_SHAPES_CTE = """shapes AS MATERIALIZED (SELECT i.data_row_id, i.label_id, i.item, i.tool, k.category_id,
    row_number() OVER (ORDER BY i.data_row_id, i.rank, i.ord) AS n
  FROM items i JOIN unnest(%(schema_ids)s::text[], %(category_ids)s::int[]) k(schema_id, category_id)
    ON k.schema_id = i.item->>'schema_id'
  WHERE i.tool IN ('bbox', 'polygon'))"""

_POLYGONS_CTE = (
    """points AS (SELECT s.n, q.ord, (q.point->>'x')::float8 AS x, (q.point->>'y')::float8 AS y
  FROM shapes s CROSS JOIN LATERAL jsonb_array_elements(s.item->'polygon') WITH ORDINALITY q(point, ord)
  WHERE s.tool = 'polygon'),
polygons AS (SELECT z.n, string_agg(concat("""
    + _num("z.x")
    + ", ',', "
    + _num("z.y")
    + """), ',' ORDER BY z.ord) AS segmentation,
    min(z.x) AS left_x, min(z.y) AS top_y, max(z.x) - min(z.x) AS width, max(z.y) - min(z.y) AS height,
    abs(sum(z.x * z.next_y - z.next_x * z.y ORDER BY z.ord)) / 2 AS area
  FROM (SELECT pt.n, pt.ord, pt.x, pt.y,
      coalesce(lead(pt.x) OVER w, first_value(pt.x) OVER w) AS next_x,
      coalesce(lead(pt.y) OVER w, first_value(pt.y) OVER w) AS next_y
    FROM points pt WINDOW w AS (PARTITION BY pt.n ORDER BY pt.ord)) z
  GROUP BY z.n)"""
)

# The classification answers, flattened: `owner_shape` (a shape's `n`) or `owner_row` (an image's data row) and the
# answer's path (`position`: its place in document order, for first-position / last-value).
_ANSWER_VALUE = """CASE jsonb_typeof(f.item->'answer')
    WHEN 'array' THEN (SELECT concat('[', string_agg(coalesce((o.option->'name')::text, 'null'), ',' ORDER BY o.ord),
      ']') FROM jsonb_array_elements(f.item->'answer') WITH ORDINALITY o(option, ord)
      WHERE jsonb_typeof(o.option) = 'object')
    WHEN 'object' THEN coalesce((f.item->'answer'->'name')::text, 'null')
    ELSE (f.item->'answer')::text END"""

_ANSWERS_CTE = (
    """roots AS (
  SELECT s.n AS owner_shape, NULL::uuid AS owner_row, ARRAY[c.ord] AS position, c.item
  FROM shapes s CROSS JOIN LATERAL jsonb_array_elements(s.item->'classifications') WITH ORDINALITY c(item, ord)
  WHERE jsonb_typeof(s.item->'classifications') = 'array'
  UNION ALL
  SELECT NULL::bigint, i.data_row_id, ARRAY[i.rank, i.ord], i.item
  FROM items i WHERE i.tool IS NULL),
flat AS (WITH RECURSIVE walk(owner_shape, owner_row, position, key, item) AS (
    SELECT r.owner_shape, r.owner_row, r.position, coalesce(r.item->>'name', ''), r.item
    FROM roots r WHERE jsonb_typeof(r.item) = 'object' AND r.item ? 'answer'
    UNION ALL
    SELECT w.owner_shape, w.owner_row, w.position || o.ord || c.ord, w.key || '.' || coalesce(c.item->>'name', ''), c.item
    FROM walk w
    CROSS JOIN LATERAL jsonb_array_elements(CASE jsonb_typeof(w.item->'answer')
      WHEN 'array' THEN w.item->'answer' WHEN 'object' THEN jsonb_build_array(w.item->'answer') ELSE '[]' END)
      WITH ORDINALITY o(option, ord)
    CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(o.option->'classifications') = 'array'
      THEN o.option->'classifications' ELSE '[]' END) WITH ORDINALITY c(item, ord)
    WHERE jsonb_typeof(c.item) = 'object' AND c.item ? 'answer')
  SELECT f.owner_shape, f.owner_row, f.position, f.key, """
    + _ANSWER_VALUE
    + """ AS value FROM walk f),
answers AS (SELECT d.owner_shape, d.owner_row,
    string_agg(concat(to_json(d.key)::text, ':', d.value), ',' ORDER BY d.first_position) AS items
  FROM (SELECT owner_shape, owner_row, key, min(position) AS first_position,
      (array_agg(value ORDER BY position DESC))[1] AS value
    FROM flat GROUP BY owner_shape, owner_row, key) d
  GROUP BY d.owner_shape, d.owner_row)"""
)

_IMAGE_JSON = _sql(
    """concat('{"id":', im.image_id, ',"file_name":', to_json(d.global_key), ',"width":', coalesce(d.width, 0),
  ',"height":', coalesce(d.height, 0), ',"coco_url":', to_json(d.row_data), ',"data_row_id":"', d.id,
  '","global_key":', to_json(d.global_key), ',"external_id":', coalesce(to_json(d.external_id)::text, 'null'),
  ',"attributes":{', a.items, '}}')"""
)

_BOX = {side: f"(s.item->'bbox'->>'{side}')::float8" for side in ("left", "top", "width", "height")}
_ANNOTATION_JSON = (
    """concat('{"id":', %(first_annotation)s + s.n - 1, ',"image_id":', im.image_id, ',"category_id":', s.category_id,
  ',"bbox":[', CASE WHEN s.tool = 'polygon' THEN concat_ws(',', """
    + ", ".join(_num(f"pg.{column}") for column in ("left_x", "top_y", "width", "height"))
    + ") ELSE concat_ws(',', "
    + ", ".join(_num(_BOX[side]) for side in ("left", "top", "width", "height"))
    + """) END,
  '],"area":', CASE WHEN s.tool = 'polygon' THEN """
    + _num("pg.area")
    + " ELSE "
    + _num(f"{_BOX['width']} * {_BOX['height']}")
    + """ END,
  ',"segmentation":', CASE WHEN s.tool = 'polygon' THEN concat('[[', pg.segmentation, ']]') ELSE '[]' END,
  ',"iscrowd":0,"schema_id":', to_json(s.item->>'schema_id'), ',"label_id":"', s.label_id,
  '","attributes":{', a.items, '}}')"""
)


def page_query(
    *, project_id: Any, categories: Sequence[Category], row_filters: dict[str, Any], mode: str, first: bool, contiguous: bool
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
        _POLYGONS_CTE,
        _ANSWERS_CTE,
    ]
    sql = (
        "WITH "  # noqa: S608 - CTEs and expressions are this module's constants; values are parameters
        + ",\n".join(ctes)
        + "\nSELECT (SELECT count(*) FROM page), (SELECT hi FROM bounds)::text, "
        + _sql("(SELECT string_agg(")
        + _IMAGE_JSON
        + _sql(
            ", ',' ORDER BY im.image_id) FROM images im JOIN {row} d ON d.id = im.id "
            "LEFT JOIN answers a ON a.owner_row = im.id AND a.owner_shape IS NULL), "
        )
        + "(SELECT string_agg("
        + _ANNOTATION_JSON
        + """, ',' ORDER BY s.n) FROM shapes s JOIN images im ON im.id = s.data_row_id
  LEFT JOIN polygons pg ON pg.n = s.n LEFT JOIN answers a ON a.owner_shape = s.n), (SELECT count(*) FROM shapes)"""
    )
    return PageQuery(sql=_resolve_in_page(sql, contiguous=contiguous), params=params)


@dataclass(frozen=True)
class CocoPage:
    """A page's images and annotations (each the comma-separated inside of its JSON array)."""

    rows: int
    last_id: str
    images: str
    annotations: str
    annotation_count: int


def run_pages(
    query: PageQuery, *, first: PageQuery, after: Any, page_size: int, numbering: Any
) -> Iterator[CocoPage]:
    """Pages in data row order. `numbering()` gives `(first image id, first annotation id)` of the next page: it is
    read after the previous page was recorded."""
    while True:
        current = first if after is None else query
        first_image, first_annotation = numbering()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(WORK_MEM)
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
