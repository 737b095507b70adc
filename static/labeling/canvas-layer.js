/* Every object except the selected one is painted on one canvas that covers the viewer (screen space, redrawn on
 * demand: after a change, a zoom or a pan, at most once per frame). The SVG overlay keeps an element per object
 * (hit areas for handles, titles, tests) but shows only the selected object, which is what a drag repaints; so a
 * drag frame costs the same with 10 or 1,000 objects. hitTest() finds the object under a point in image pixels. */
import { bounds } from "./geometry.js";

const LABEL_FONT = "600 12px system-ui, sans-serif";
const LABEL_PAD = 3; // halo room around a label's text, CSS px
const LABEL_ASCENT = 16; // text baseline ("bottom") inside a label sprite
const LABEL_HEIGHT = 20;
const ATLAS = 1024; // label atlas size, CSS px

export class CanvasLayer {
  constructor(canvas, viewport) {
    this.canvas = canvas;
    this.viewport = viewport;
    this.ctx = canvas.getContext("2d");
    this.pending = null;
    this.frame = 0;
    this.showLabels = true;
    this.sprites = new Map(); // label text → its place in an atlas
    this.atlas = null; // the atlas being filled
  }

  /** Match the canvas to the viewer's size (device pixels). */
  resize(width, height) {
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(width * dpr));
    const h = Math.max(1, Math.round(height * dpr));
    if (this.canvas.width !== w || this.canvas.height !== h) {
      this.canvas.width = w;
      this.canvas.height = h;
      this.canvas.style.width = `${width}px`;
      this.canvas.style.height = `${height}px`;
    }
  }

  /** Paint at the next animation frame (several calls in one frame paint once). */
  schedule(model, numbers) {
    this.pending = { model, numbers };
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      const { model: m, numbers: n } = this.pending;
      this.paint(m, n);
    });
  }

  /** Paint now (a discrete change: select, undo, draw, delete), so the canvas and the SVG change in one frame. */
  paintNow(model, numbers) {
    if (this.frame) cancelAnimationFrame(this.frame);
    this.frame = 0;
    this.paint(model, numbers);
  }

  paint(model, numbers) {
    const { ctx, canvas, viewport: v } = this;
    const dpr = window.devicePixelRatio || 1;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    if (!v.imageW) return;
    const k = 1 / v.scale;
    // Visible part of the image, in image px (objects outside are skipped).
    const view = {
      left: -v.x * k,
      top: -v.y * k,
      right: (canvas.width / dpr - v.x) * k,
      bottom: (canvas.height / dpr - v.y) * k,
    };
    const labels = [];
    ctx.setTransform(v.scale * dpr, 0, 0, v.scale * dpr, v.x * dpr, v.y * dpr);
    ctx.lineJoin = "round";
    for (const object of model.objects) {
      if (object.id === model.selected || model.isHidden(object)) continue;
      const kind = object.tool.tool;
      const b = bounds(kind, object.geom);
      if (!b || b.right < view.left || b.left > view.right || b.bottom < view.top || b.top > view.bottom) continue;
      const color = object.tool.color || "#ff0000";
      const error = object.errors.length > 0;
      ctx.strokeStyle = error ? "#ff3b30" : color;
      ctx.fillStyle = color;
      ctx.lineWidth = (kind === "polyline" ? 3 : 2) * k;
      ctx.setLineDash(error ? [6 * k, 4 * k] : object.prelabel ? [8 * k, 4 * k] : []);
      const g = object.geom;
      if (kind === "bbox") {
        // Rectangles take the canvas's rect fast paths (no path to rasterise).
        ctx.globalAlpha = 0.12;
        ctx.fillRect(g.left, g.top, g.width, g.height);
        ctx.globalAlpha = 1;
        ctx.strokeRect(g.left, g.top, g.width, g.height);
        if (this.showLabels) labels.push([object, b]);
        continue;
      }
      ctx.beginPath();
      if (kind === "point") ctx.arc(g.x, g.y, 5 * k, 0, Math.PI * 2);
      else if (g.points && g.points.length) {
        ctx.moveTo(g.points[0].x, g.points[0].y);
        for (let i = 1; i < g.points.length; i += 1) ctx.lineTo(g.points[i].x, g.points[i].y);
        if (kind === "polygon") ctx.closePath();
      }
      if (kind === "point") {
        ctx.globalAlpha = 0.9;
        ctx.fill();
        ctx.globalAlpha = 1;
        ctx.strokeStyle = "#fff";
        ctx.lineWidth = 1.5 * k;
      } else if (kind === "polygon") {
        ctx.globalAlpha = 0.12;
        ctx.fill();
        ctx.globalAlpha = 1;
      }
      ctx.stroke();
      if (this.showLabels) labels.push([object, b]);
    }
    ctx.setLineDash([]);
    if (!labels.length) return;
    // Labels in screen space (crisp at every zoom): class name and number above the top-left corner, each drawn
    // from a small bitmap made once per text (outlined text is the slowest thing a software canvas draws).
    // Every sprite is made before the first copy: drawing into an atlas after copying from it would snapshot the
    // whole atlas once per label.
    const sprites = labels.map(([object]) => {
      const text = `${object.tool.name} ${numbers.get(object.id) || ""}${model.isLocked(object) ? " (locked)" : ""}`;
      return this.sprite(text, dpr);
    });
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    for (let i = 0; i < labels.length; i += 1) {
      const b = labels[i][1];
      const sp = sprites[i];
      const x = v.x + b.left * v.scale;
      let y = v.y + b.top * v.scale - 3;
      if (y < 14) y = v.y + b.top * v.scale + 15;
      // The sprite's text baseline is LABEL_ASCENT px below its top, its text starts LABEL_PAD px from the left.
      const dx = Math.round((x - LABEL_PAD) * dpr);
      const dy = Math.round((y - LABEL_ASCENT) * dpr);
      ctx.drawImage(sp.atlas, sp.x, sp.y, sp.w, sp.h, dx, dy, sp.w, sp.h);
    }
  }

  /** Where the bitmap of one label (white text, dark halo) is, in an atlas canvas: made once per text and pixel
   * ratio, so a repaint copies pixels from one image instead of outlining 1,000 texts. */
  sprite(text, dpr) {
    const key = `${dpr}|${text}`;
    const found = this.sprites.get(key);
    if (found) return found;
    const measure = this.ctx;
    measure.font = LABEL_FONT;
    const w = Math.ceil((Math.ceil(measure.measureText(text).width) + 2 * LABEL_PAD) * dpr);
    const h = Math.ceil(LABEL_HEIGHT * dpr);
    const size = Math.ceil(ATLAS * dpr);
    let a = this.atlas;
    if (a && a.x + w > size) {
      a.x = 0;
      a.y += h;
    }
    if (!a || a.y + h > size || a.dpr !== dpr) {
      if (this.sprites.size > 20000) this.sprites.clear();
      const canvas = document.createElement("canvas");
      canvas.width = size;
      canvas.height = size;
      const c = canvas.getContext("2d");
      c.font = LABEL_FONT;
      c.textBaseline = "bottom";
      c.lineJoin = "round";
      c.lineWidth = 3;
      c.strokeStyle = "rgba(0, 0, 0, .75)";
      c.fillStyle = "#fff";
      a = this.atlas = { canvas, c, x: 0, y: 0, dpr };
    }
    const { c } = a;
    c.setTransform(dpr, 0, 0, dpr, a.x, a.y);
    c.strokeText(text, LABEL_PAD, LABEL_ASCENT);
    c.fillText(text, LABEL_PAD, LABEL_ASCENT);
    const sprite = { atlas: a.canvas, x: a.x, y: a.y, w: Math.min(w, size), h };
    a.x += w;
    this.sprites.set(key, sprite);
    return sprite;
  }
}

/** The topmost visible object at image point p (k: image px per screen px, for tolerances), or null. */
export function hitTest(model, p, k) {
  for (let i = model.objects.length - 1; i >= 0; i -= 1) {
    const object = model.objects[i];
    if (model.isHidden(object)) continue;
    if (hits(object.tool.tool, object.geom, p, k)) return object;
  }
  return null;
}

function hits(kind, g, p, k) {
  const tol = 4 * k;
  if (kind === "bbox") {
    return p.x >= g.left - tol && p.x <= g.left + g.width + tol && p.y >= g.top - tol && p.y <= g.top + g.height + tol;
  }
  if (kind === "point") return Math.hypot(p.x - g.x, p.y - g.y) <= 7 * k;
  if (!g.points || !g.points.length) return false;
  const pts = g.points;
  const closed = kind === "polygon";
  for (let i = 0; i + 1 < pts.length + (closed ? 1 : 0); i += 1) {
    if (segmentDistance(p, pts[i], pts[(i + 1) % pts.length]) <= (closed ? tol : 5 * k)) return true;
  }
  return closed && inside(p, pts);
}

function segmentDistance(p, a, b) {
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const len = dx * dx + dy * dy;
  const t = len ? Math.max(0, Math.min(1, ((p.x - a.x) * dx + (p.y - a.y) * dy) / len)) : 0;
  return Math.hypot(p.x - (a.x + t * dx), p.y - (a.y + t * dy));
}

function inside(p, pts) {
  let result = false;
  for (let i = 0, j = pts.length - 1; i < pts.length; j = i, i += 1) {
    const a = pts[i];
    const b = pts[j];
    if (a.y > p.y !== b.y > p.y && p.x < ((b.x - a.x) * (p.y - a.y)) / (b.y - a.y) + a.x) result = !result;
  }
  return result;
}
