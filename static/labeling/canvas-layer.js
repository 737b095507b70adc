/* Every object except the selected one is painted on one canvas that covers the viewer (screen space, redrawn on
 * demand: after a change, a zoom or a pan, at most once per frame). The SVG overlay keeps an element per object
 * (hit areas for handles, titles, tests) but shows only the selected object, which is what a drag repaints; so a
 * drag frame costs the same with 10 or 1,000 objects. hitTest() finds the object under a point in image pixels. */
import { bounds } from "./geometry.js";

const LABEL_FONT = "600 12px system-ui, sans-serif";

export class CanvasLayer {
  constructor(canvas, viewport) {
    this.canvas = canvas;
    this.viewport = viewport;
    this.ctx = canvas.getContext("2d");
    this.pending = null;
    this.frame = 0;
    this.showLabels = true;
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
      ctx.beginPath();
      if (kind === "bbox") ctx.rect(g.left, g.top, g.width, g.height);
      else if (kind === "point") ctx.arc(g.x, g.y, 5 * k, 0, Math.PI * 2);
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
      } else if (kind !== "polyline") {
        ctx.globalAlpha = 0.12;
        ctx.fill();
        ctx.globalAlpha = 1;
      }
      ctx.stroke();
      if (this.showLabels) labels.push([object, b]);
    }
    ctx.setLineDash([]);
    if (!labels.length) return;
    // Labels in screen space (crisp at every zoom): class name and number above the top-left corner.
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.font = LABEL_FONT;
    ctx.textBaseline = "bottom";
    ctx.lineWidth = 3;
    ctx.strokeStyle = "rgba(0, 0, 0, .75)";
    ctx.fillStyle = "#fff";
    for (const [object, b] of labels) {
      const x = v.x + b.left * v.scale;
      let y = v.y + b.top * v.scale - 3;
      if (y < 14) y = v.y + b.top * v.scale + 15;
      const text = `${object.tool.name} ${numbers.get(object.id) || ""}${model.isLocked(object) ? " (locked)" : ""}`;
      ctx.strokeText(text, x, y);
      ctx.fillText(text, x, y);
    }
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
