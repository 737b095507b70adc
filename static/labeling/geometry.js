/* Geometry in media coordinates (image pixels, text code points) and the screen ↔ image mapping with zoom and pan.
 * Pure functions and one small class: no DOM, so they are unit-tested directly. */
import { clamp, isNum, round2 } from "./dom.js";
import { maskBounds, parseMask } from "./mask.js";

/** Tool kind → the key its geometry has in an annotation (API.md). */
export const GEOMETRY_KEY = { bbox: "bbox", polygon: "polygon", polyline: "line", point: "point", ner: "location", mask: "mask" };

export function parseGeometry(kind, raw) {
  if (kind === "bbox") {
    if (!raw || ![raw.top, raw.left, raw.width, raw.height].every(isNum)) return null;
    return { left: raw.left, top: raw.top, width: raw.width, height: raw.height };
  }
  if (kind === "polygon" || kind === "polyline") {
    if (!Array.isArray(raw) || !raw.every((p) => p && isNum(p.x) && isNum(p.y))) return null;
    return { points: raw.map((p) => ({ x: p.x, y: p.y })) };
  }
  if (kind === "point") return raw && isNum(raw.x) && isNum(raw.y) ? { x: raw.x, y: raw.y } : null;
  if (kind === "ner") {
    const ok = raw && Number.isInteger(raw.start) && Number.isInteger(raw.end);
    return ok ? { start: raw.start, end: raw.end } : null;
  }
  if (kind === "mask") return parseMask(raw);
  return null;
}

/** The annotation fields for a geometry: {bbox: {...}} etc. */
export function serializeGeometry(kind, g) {
  switch (kind) {
    case "bbox":
      return { bbox: { top: g.top, left: g.left, height: g.height, width: g.width } };
    case "polygon":
      return { polygon: g.points.map((p) => ({ x: p.x, y: p.y })) };
    case "polyline":
      return { line: g.points.map((p) => ({ x: p.x, y: p.y })) };
    case "point":
      return { point: { x: g.x, y: g.y } };
    case "ner":
      return { location: { start: g.start, end: g.end } };
    case "mask":
      return { mask: { size: g.size.slice(), counts: g.counts } };
  }
  return {};
}

export function boxFrom(a, b) {
  const x0 = Math.min(a.x, b.x);
  const y0 = Math.min(a.y, b.y);
  return { left: x0, top: y0, width: round2(Math.max(a.x, b.x) - x0), height: round2(Math.max(a.y, b.y) - y0) };
}

export const cloneGeom = (geom) => JSON.parse(JSON.stringify(geom));

/** `orig` moved by (dx, dy) image px, kept inside a w × h image. */
export function movedGeom(kind, orig, dx, dy, w, h) {
  if (kind === "bbox") {
    return {
      left: round2(clamp(orig.left + dx, 0, w - orig.width)),
      top: round2(clamp(orig.top + dy, 0, h - orig.height)),
      width: orig.width,
      height: orig.height,
    };
  }
  if (kind === "point") return { x: round2(clamp(orig.x + dx, 0, w)), y: round2(clamp(orig.y + dy, 0, h)) };
  if (orig.points) {
    const xs = orig.points.map((q) => q.x);
    const ys = orig.points.map((q) => q.y);
    const cx = clamp(dx, -Math.min(...xs), w - Math.max(...xs));
    const cy = clamp(dy, -Math.min(...ys), h - Math.max(...ys));
    return { points: orig.points.map((q) => ({ x: round2(q.x + cx), y: round2(q.y + cy) })) };
  }
  return cloneGeom(orig);
}

/** The corner of a box opposite to handle `corner` ("nw", "ne", "sw", "se"): it stays put while resizing. */
export function fixedCorner(g, corner) {
  return { x: corner.includes("w") ? g.left + g.width : g.left, y: corner.includes("n") ? g.top + g.height : g.top };
}

/** Bounding box {left, top, right, bottom} of any image geometry (for labels and "zoom to object"). */
export function bounds(kind, g) {
  if (kind === "bbox") return { left: g.left, top: g.top, right: g.left + g.width, bottom: g.top + g.height };
  if (kind === "point") return { left: g.x, top: g.y, right: g.x, bottom: g.y };
  if (kind === "mask") return maskBounds(g);
  if (g.points && g.points.length) {
    const xs = g.points.map((q) => q.x);
    const ys = g.points.map((q) => q.y);
    return { left: Math.min(...xs), top: Math.min(...ys), right: Math.max(...xs), bottom: Math.max(...ys) };
  }
  return null;
}

/** Screen ↔ image mapping. `scale` is screen px per image px; (x, y) is where the image's origin sits, in px from
 * the viewer's top-left corner. Every conversion goes through here, so drawing is exact at any zoom. */
export class Viewport {
  constructor(imageW = 0, imageH = 0) {
    this.imageW = imageW;
    this.imageH = imageH;
    this.scale = 1;
    this.x = 0;
    this.y = 0;
    this.fitScale = 1;
    this.minScale = 0.02;
    this.maxScale = 32;
  }

  toImage(sx, sy) {
    return { x: (sx - this.x) / this.scale, y: (sy - this.y) / this.scale };
  }

  toScreen(ix, iy) {
    return { x: this.x + ix * this.scale, y: this.y + iy * this.scale };
  }

  /** Whole image centred in a viewW × viewH viewer with `margin` px around it. */
  fit(viewW, viewH, margin = 8) {
    if (!this.imageW || !this.imageH) return;
    const availW = Math.max(viewW - 2 * margin, 1);
    const availH = Math.max(viewH - 2 * margin, 1);
    this.fitScale = Math.max(Math.min(availW / this.imageW, availH / this.imageH), 0.001);
    this.minScale = Math.min(this.fitScale / 4, 1);
    this.scale = this.fitScale;
    this.x = (viewW - this.imageW * this.scale) / 2;
    this.y = (viewH - this.imageH * this.scale) / 2;
  }

  /** Zoom to `scale` keeping the image point under screen (sx, sy) where it is. */
  zoomTo(scale, sx, sy) {
    const next = clamp(scale, this.minScale, this.maxScale);
    const anchor = this.toImage(sx, sy);
    this.scale = next;
    this.x = sx - anchor.x * next;
    this.y = sy - anchor.y * next;
  }

  zoomBy(factor, sx, sy) {
    this.zoomTo(this.scale * factor, sx, sy);
  }

  /** Pan by (dx, dy) screen px, keeping at least `keep` px of the image inside the viewW × viewH viewer. */
  panBy(dx, dy, viewW, viewH, keep = 40) {
    const w = this.imageW * this.scale;
    const h = this.imageH * this.scale;
    this.x = clamp(this.x + dx, keep - w, viewW - keep);
    this.y = clamp(this.y + dy, keep - h, viewH - keep);
  }
}
