"""Flat, numpy-friendly inputs of an evaluation and the vectorised IoU.

A `Boxes` holds every box of one side (ground truth or predictions) of an evaluation, for all images at once:
parallel arrays `image` (image index, 0..num_images-1), `category` (class index), `xywh` (left, top, width, height)
and `score` (prediction confidence; 1.0 for ground truth). An `Answers` holds radio classification answers the same
way: `image`, `question` (classification index), `option` (option index) and `score`.

Indexes are positions: the caller keeps the vocabularies (`ClassRef` lists) that say which schema_id an index means.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from apps.ontologies.domain import rle as R

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class ClassRef:
    """One entry of a vocabulary: a class (tool), a classification question or an option."""

    key: str  # the feature's schema_id
    name: str


def _int_array(values: npt.ArrayLike, name: str) -> IntArray:
    array = np.asarray(values)
    if array.size == 0:
        return np.zeros(0, dtype=np.int64)
    if array.ndim != 1 or not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"`{name}` must be a 1-d array of integers.")
    out = array.astype(np.int64, copy=False)
    if out.min() < 0:
        raise ValueError(f"`{name}` must not be negative.")
    return out


def _float_array(values: npt.ArrayLike, name: str) -> FloatArray:
    array = np.asarray(values, dtype=np.float64)
    if not np.isfinite(array).all():
        raise ValueError(f"`{name}` must be finite numbers.")
    return array


@dataclass(frozen=True, eq=False)
class Boxes:
    """Axis-aligned boxes of many images: `xywh[i] = (left, top, width, height)` of box `i` in `image[i]`."""

    image: IntArray
    category: IntArray
    xywh: FloatArray
    score: FloatArray
    # Segmentation (COCO "segm"): each object's mask as an RLE, `xywh` its tight box; IoU is then the masks' IoU.
    masks: tuple[Any, ...] | None = None

    def __post_init__(self) -> None:
        if self.masks is not None and len(self.masks) != len(self.image):
            raise ValueError("`masks` must have one entry per box.")
        image = _int_array(self.image, "image")
        category = _int_array(self.category, "category")
        xywh = _float_array(self.xywh, "xywh").reshape(-1, 4)
        score = _float_array(self.score, "score").reshape(-1)
        n = len(image)
        if not (len(category) == len(xywh) == len(score) == n):
            raise ValueError("`image`, `category`, `xywh` and `score` must have the same length.")
        if (xywh[:, 2:] < 0).any():
            raise ValueError("Box width and height must not be negative.")
        object.__setattr__(self, "image", image)
        object.__setattr__(self, "category", category)
        object.__setattr__(self, "xywh", xywh)
        object.__setattr__(self, "score", score)

    @classmethod
    def build(
        cls,
        image: npt.ArrayLike,
        category: npt.ArrayLike,
        xywh: npt.ArrayLike,
        score: npt.ArrayLike | None = None,
        masks: tuple[Any, ...] | None = None,
    ) -> Boxes:
        """Boxes from array-likes; `score` defaults to 1.0 (ground truth)."""
        xy = np.asarray(xywh, dtype=np.float64).reshape(-1, 4)
        scores = np.ones(len(xy)) if score is None else np.asarray(score, dtype=np.float64)
        return cls(np.asarray(image), np.asarray(category), xy, scores, masks)

    @classmethod
    def empty(cls) -> Boxes:
        return cls(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros((0, 4)), np.zeros(0))

    def __len__(self) -> int:
        return len(self.image)

    def take(self, index: npt.NDArray[np.int64] | BoolArray) -> Boxes:
        """The boxes selected by an index array or boolean mask."""
        masks = None if self.masks is None else tuple(self.masks[i] for i in np.arange(len(self.image))[index])
        return Boxes(self.image[index], self.category[index], self.xywh[index], self.score[index], masks)

    @property
    def area(self) -> FloatArray:
        return self.xywh[:, 2] * self.xywh[:, 3]


@dataclass(frozen=True, eq=False)
class Answers:
    """Radio answers of many images: image `image[i]` answers question `question[i]` with option `option[i]`."""

    image: IntArray
    question: IntArray
    option: IntArray
    score: FloatArray

    def __post_init__(self) -> None:
        image = _int_array(self.image, "image")
        question = _int_array(self.question, "question")
        option = _int_array(self.option, "option")
        score = _float_array(self.score, "score").reshape(-1)
        if not (len(question) == len(option) == len(score) == len(image)):
            raise ValueError("`image`, `question`, `option` and `score` must have the same length.")
        object.__setattr__(self, "image", image)
        object.__setattr__(self, "question", question)
        object.__setattr__(self, "option", option)
        object.__setattr__(self, "score", score)

    @classmethod
    def build(
        cls,
        image: npt.ArrayLike,
        question: npt.ArrayLike,
        option: npt.ArrayLike,
        score: npt.ArrayLike | None = None,
    ) -> Answers:
        images = np.asarray(image)
        scores = np.ones(len(images)) if score is None else np.asarray(score, dtype=np.float64)
        return cls(images, np.asarray(question), np.asarray(option), scores)

    @classmethod
    def empty(cls) -> Answers:
        return cls.build(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64))

    def __len__(self) -> int:
        return len(self.image)


def _iou_parts(
    ax: FloatArray,
    ay: FloatArray,
    aw: FloatArray,
    ah: FloatArray,
    bx: FloatArray,
    by: FloatArray,
    bw: FloatArray,
    bh: FloatArray,
) -> FloatArray:
    # The same floating-point operations, in the same order, as pycocotools' bbIou (maskApi.c), so that a pair's
    # IoU is bit-identical to the reference's and threshold comparisons (IoU >= 0.5) agree even at the edge.
    w = np.minimum(ax + aw, bx + bw) - np.maximum(ax, bx)
    h = np.minimum(ay + ah, by + bh) - np.maximum(ay, by)
    overlap = (w > 0) & (h > 0)
    inter = np.where(overlap, w * h, 0.0)
    union = aw * ah + bw * bh - inter
    out = np.zeros(np.broadcast(inter, union).shape)
    np.divide(inter, union, out=out, where=overlap)
    return out


def box_iou(a: FloatArray, b: FloatArray) -> FloatArray:
    """IoU of every box of `a` (nA×4, xywh) with every box of `b` (nB×4): an nA×nB matrix, in one go.

    Boxes that only touch (or have zero width/height) have IoU 0. No "+1" pixel convention (as COCO).
    """
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    ax, ay, aw, ah = (a[:, i, None] for i in range(4))
    bx, by, bw, bh = (b[None, :, i] for i in range(4))
    return _iou_parts(ax, ay, aw, ah, bx, by, bw, bh)


def pair_iou(pred: Boxes, pa: IntArray, gt: Boxes, pb: IntArray) -> FloatArray:
    """IoU of `pred[pa[i]]` with `gt[pb[i]]`: of their masks when both sides are masks (COCO "segm", the same
    division as pycocotools' rleIou), else of their boxes."""
    if pred.masks is None or gt.masks is None:
        return paired_iou(pred.xywh[pa], gt.xywh[pb])
    out = np.zeros(len(pa), dtype=np.float64)
    for k, (i, j) in enumerate(zip(pa.tolist(), pb.tolist(), strict=True)):
        a, b = pred.masks[i], gt.masks[j]
        if a is not None and b is not None and (a.height, a.width) == (b.height, b.width):
            out[k] = R.iou(a, b)
    return out


def paired_iou(a: FloatArray, b: FloatArray) -> FloatArray:
    """IoU of `a[i]` with `b[i]` for each i (both n×4, xywh)."""
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    return _iou_parts(a[:, 0], a[:, 1], a[:, 2], a[:, 3], b[:, 0], b[:, 1], b[:, 2], b[:, 3])
