"""A small reference reader of COCO instances files, following the format description at cocodataset.org
(#format-data): it checks the structure the way pycocotools' `COCO.createIndex` and `loadRes` rely on it and
builds the same indexes (image → annotations, category → images)."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any


class CocoFormatError(AssertionError):
    pass


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise CocoFormatError(message)


class Coco:
    def __init__(self, text: str | bytes) -> None:
        data = json.loads(text)
        _check(isinstance(data, dict), "top level must be an object")
        for key in ("images", "annotations", "categories"):
            _check(isinstance(data.get(key), list), f"{key} must be a list")
        self.dataset = data
        self.imgs: dict[int, dict[str, Any]] = {}
        self.cats: dict[int, dict[str, Any]] = {}
        self.anns: dict[int, dict[str, Any]] = {}
        self.img_to_anns: dict[int, list[dict[str, Any]]] = defaultdict(list)
        self.cat_to_imgs: dict[int, list[int]] = defaultdict(list)
        for cat in data["categories"]:
            _check(isinstance(cat.get("id"), int) and isinstance(cat.get("name"), str), f"bad category {cat}")
            _check(cat["id"] not in self.cats, f"duplicate category id {cat['id']}")
            self.cats[cat["id"]] = cat
        for img in data["images"]:
            _check(isinstance(img.get("id"), int), f"bad image id {img.get('id')}")
            _check(img["id"] not in self.imgs, f"duplicate image id {img['id']}")
            for key in ("width", "height"):
                _check(isinstance(img.get(key), int) and img[key] >= 0, f"image {img['id']}: bad {key}")
            _check(isinstance(img.get("file_name"), str), f"image {img['id']}: file_name")
            self.imgs[img["id"]] = img
        for ann in data["annotations"]:
            _check(isinstance(ann.get("id"), int), f"bad annotation id {ann.get('id')}")
            _check(ann["id"] not in self.anns, f"duplicate annotation id {ann['id']}")
            _check(ann.get("image_id") in self.imgs, f"annotation {ann['id']}: unknown image")
            _check(ann.get("category_id") in self.cats, f"annotation {ann['id']}: unknown category")
            bbox = ann.get("bbox")
            _check(
                isinstance(bbox, list) and len(bbox) == 4 and all(isinstance(v, int | float) for v in bbox),
                f"annotation {ann['id']}: bbox is [x, y, width, height]",
            )
            _check(bbox[2] >= 0 and bbox[3] >= 0, f"annotation {ann['id']}: negative box size")
            _check(ann.get("iscrowd") in (0, 1), f"annotation {ann['id']}: iscrowd is 0 or 1")
            _check(isinstance(ann.get("area"), int | float) and ann["area"] >= 0, f"annotation {ann['id']}: area")
            segmentation = ann.get("segmentation")
            if isinstance(segmentation, dict):  # COCO RLE: {"size": [height, width], "counts": "<compressed>"}
                size = segmentation.get("size")
                _check(
                    set(segmentation) == {"size", "counts"}
                    and isinstance(size, list)
                    and len(size) == 2
                    and all(isinstance(v, int) and v > 0 for v in size)
                    and isinstance(segmentation["counts"], str),
                    f"annotation {ann['id']}: an RLE segmentation is {{size, counts}}",
                )
                segmentation = []
            _check(isinstance(segmentation, list), f"annotation {ann['id']}: polygon segmentation is a list")
            for polygon in segmentation:
                _check(
                    isinstance(polygon, list) and len(polygon) >= 6 and len(polygon) % 2 == 0,
                    f"annotation {ann['id']}: a polygon is [x1, y1, x2, y2, ...] with at least 3 points",
                )
            self.anns[ann["id"]] = ann
            self.img_to_anns[ann["image_id"]].append(ann)
            self.cat_to_imgs[ann["category_id"]].append(ann["image_id"])

    def get_img_ids(self, cat_ids: list[int] | None = None) -> list[int]:
        if not cat_ids:
            return list(self.imgs)
        found = set(self.cat_to_imgs[cat_ids[0]])
        for cat in cat_ids[1:]:
            found &= set(self.cat_to_imgs[cat])
        return sorted(found)

    def load_anns(self, image_id: int) -> list[dict[str, Any]]:
        return self.img_to_anns.get(image_id, [])
