"""Geometry: points, polylines, polygons and NER spans one by one; boxes and polygon validity in bulk."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import shapely

from apps.ontologies.domain.validation.base import _EPS, ValidatorBase, _is_number


class GeometryChecks(ValidatorBase):
    def points(self, raw: Any, index: int, path: str, minimum: int) -> list[tuple[float, float]] | None:
        if type(raw) is not list:
            self.fail(index, path, 'Must be a list of {"x", "y"} points.')
            return None
        if len(raw) < minimum:
            self.fail(index, path, f"Needs at least {minimum} points, got {len(raw)}.")
            return None
        out = []
        for k, p in enumerate(raw):
            xy = self.point(p, index, f"{path}[{k}]")
            if xy is None:
                return None
            out.append(xy)
        return out

    def point(self, raw: Any, index: int, path: str) -> tuple[float, float] | None:
        if type(raw) is not dict or len(raw) != 2:
            self.fail(index, path, 'A point is an object {"x", "y"}.')
            return None
        x: Any = raw.get("x")
        y: Any = raw.get("y")
        value: Any
        for key, value in (("x", x), ("y", y)):
            if not _is_number(value):
                self.fail(index, f"{path}.{key}", "Must be a number.")
                return None
            if type(value) is float and not math.isfinite(value):
                self.fail(index, f"{path}.{key}", "Must be a finite number (not NaN or Infinity).")
                return None
            if value < 0:
                self.fail(index, f"{path}.{key}", "Is outside the image (negative).")
                return None
        if self.image_size is not None:
            width, height = self.image_size
            if x > width + _EPS:  # type: ignore[operator]
                self.fail(index, f"{path}.x", f"Is outside the image: {x} > width {width}.")
                return None
            if y > height + _EPS:  # type: ignore[operator]
                self.fail(index, f"{path}.y", f"Is outside the image: {y} > height {height}.")
                return None
        return (x, y)  # type: ignore[return-value]

    def location(self, raw: Any, index: int, path: str) -> dict[str, int] | None:
        if type(raw) is not dict or not raw.keys() <= {"start", "end"}:
            self.fail(index, path, 'A location is an object {"start", "end"}.')
            return None
        start = raw.get("start")
        end = raw.get("end")
        for key, value in (("start", start), ("end", end)):
            if type(value) is not int:
                self.fail(index, f"{path}.{key}", "Must be an integer character offset.")
                return None
        if start < 0:  # type: ignore[operator]
            self.fail(index, f"{path}.start", "Must not be negative.")
            return None
        if end <= start:  # type: ignore[operator]
            self.fail(index, f"{path}.end", f"Must be greater than start ({start}).")
            return None
        if self.text_length is not None and end > self.text_length:  # type: ignore[operator]
            self.fail(index, f"{path}.end", f"Is past the end of the text ({self.text_length} characters).")
            return None
        return {"start": start, "end": end}  # type: ignore[dict-item]

    def check_boxes(self) -> None:
        if not self.box_values:
            return
        try:
            boxes = np.array(self.box_values, dtype=np.float64)
        except OverflowError:  # an integer too large for a float: treat it as infinite
            boxes = np.array([[_as_float(v) for v in row] for row in self.box_values], dtype=np.float64)
        finite, bad_rows, negative_size, negative_origin, outside = box_checks(boxes, self.image_size)
        problem = bad_rows | negative_size | negative_origin | outside
        if not problem.any():
            return
        names = ("top", "left", "height", "width")
        for row in np.flatnonzero(problem).tolist():
            index = self.box_index[row]
            path = f"annotations[{index}].bbox"
            top, left, height, width = boxes[row].tolist()
            if bad_rows[row]:
                column = int(np.flatnonzero(~finite[row])[0])
                self.fail(index, f"{path}.{names[column]}", "Must be a finite number (not NaN or Infinity).")
            elif negative_size[row]:
                column = 2 if height <= 0 else 3
                self.fail(index, f"{path}.{names[column]}", f"Must be positive, got {boxes[row, column]:g}.")
            elif negative_origin[row]:
                column = 0 if top < 0 else 1
                self.fail(index, f"{path}.{names[column]}", "Is outside the image (negative).")
            else:
                assert self.image_size is not None
                img_w, img_h = self.image_size
                if left + width > img_w + _EPS:
                    self.fail(index, f"{path}.width", f"The box ends outside the image: left + width > {img_w:g}.")
                else:
                    self.fail(index, f"{path}.height", f"The box ends outside the image: top + height > {img_h:g}.")

    def check_polygons(self) -> None:
        if not self.polygons:
            return
        coords = np.array([xy for _, _, points in self.polygons for xy in points], dtype=np.float64)
        indices = np.repeat(np.arange(len(self.polygons)), [len(points) for _, _, points in self.polygons])
        try:
            rings = shapely.linearrings(coords, indices=indices)
            valid = shapely.is_valid(shapely.polygons(rings))
        except Exception:  # a degenerate ring (e.g. all points equal) fails to build: check one by one
            valid = np.array([_polygon_valid(points) for _, _, points in self.polygons])
        for k in np.flatnonzero(~valid).tolist():
            index, path, points = self.polygons[k]
            self.fail(index, path, f"The polygon is not valid: {_polygon_reason(points)}.")


def box_checks(boxes: np.ndarray[Any, Any], image_size: tuple[Any, Any] | None) -> tuple[np.ndarray[Any, Any], ...]:
    """The bulk checks of boxes `(top, left, height, width)` rows: `(finite, not_finite, non_positive_size,
    negative_origin, outside)` masks. `image_size` is `(width, height)`: two numbers, two arrays of one per box (NaN
    where unknown), or None. A box is valid when no mask but `finite` is set; the validator explains the others."""
    finite = np.isfinite(boxes)
    not_finite: np.ndarray[Any, Any] = np.asarray(~finite.all(axis=1))
    with np.errstate(invalid="ignore"):
        negative_size: np.ndarray[Any, Any] = (boxes[:, 2] <= 0) | (boxes[:, 3] <= 0)
        negative_origin: np.ndarray[Any, Any] = (boxes[:, 0] < 0) | (boxes[:, 1] < 0)
        outside = np.zeros(len(boxes), dtype=bool)
        if image_size is not None:
            width, height = image_size
            outside = (boxes[:, 1] + boxes[:, 3] > width + _EPS) | (boxes[:, 0] + boxes[:, 2] > height + _EPS)
    return finite, not_finite, negative_size, negative_origin, outside


def _as_float(value: float) -> float:
    try:
        return float(value)
    except OverflowError:
        return math.inf


def _polygon_valid(points: list[tuple[float, float]]) -> bool:
    try:
        return bool(shapely.Polygon(points).is_valid)
    except Exception:
        return False


def _polygon_reason(points: list[tuple[float, float]]) -> str:
    try:
        reason = str(shapely.is_valid_reason(shapely.Polygon(points)))
    except Exception:
        return "degenerate ring"
    return reason.replace("Self-intersection", "it intersects itself at").replace("[", "(").replace("]", ")")
