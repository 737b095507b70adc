/* The video editor's shapes on the overlay canvas: drawing boxes, polygons and points, hit-testing and dragging them.
 * Keyframe shapes are solid, interpolated ones dashed (points: filled vs hollow).
 * Drawing: a box is dragged; a polygon is clicked vertex by vertex and closed by a click on its first vertex, a
 * double click or Enter (Escape cancels, Backspace removes the last vertex); a point is one click.
 * Editing on a frame makes a keyframe there: drag a box (its corner handle resizes), a polygon (a vertex moves that
 * vertex) or a point. Coordinates are the video's pixels. */

const HANDLE = 8;
const r2 = (v) => Math.round(v * 100) / 100;

export function roundShape(tool, g) {
  if (tool === "bbox") return { left: r2(g.left), top: r2(g.top), width: r2(g.width), height: r2(g.height) };
  if (tool === "point") return { x: r2(g.x), y: r2(g.y) };
  return g.map((p) => ({ x: r2(p.x), y: r2(p.y) }));
}

/** Draw one shape at scale `k` (canvas px per video px). */
export function drawShape(ctx, tool, g, k, { keyframe, selected, color, label }) {
  ctx.strokeStyle = color;
  ctx.fillStyle = color;
  ctx.lineWidth = selected ? 3 : 2;
  ctx.setLineDash(keyframe ? [] : [6, 4]); // interpolated: dashed
  ctx.font = "12px sans-serif";
  const text = `${label} ${keyframe ? "◆" : "◇"}`;
  if (tool === "bbox") {
    ctx.strokeRect(g.left * k, g.top * k, g.width * k, g.height * k);
    ctx.fillText(text, g.left * k + 3, g.top * k + 13);
    if (selected) ctx.fillRect((g.left + g.width) * k - HANDLE / 2, (g.top + g.height) * k - HANDLE / 2, HANDLE, HANDLE);
  } else if (tool === "point") {
    ctx.beginPath();
    ctx.arc(g.x * k, g.y * k, selected ? 6 : 5, 0, 2 * Math.PI);
    if (keyframe) ctx.fill();
    else ctx.stroke();
    ctx.fillText(text, g.x * k + 8, g.y * k - 6);
  } else {
    ctx.beginPath();
    g.forEach((p, i) => (i ? ctx.lineTo(p.x * k, p.y * k) : ctx.moveTo(p.x * k, p.y * k)));
    ctx.closePath();
    ctx.stroke();
    ctx.fillText(text, g[0].x * k + 3, g[0].y * k - 4);
    if (selected) for (const p of g) ctx.fillRect(p.x * k - HANDLE / 2, p.y * k - HANDLE / 2, HANDLE, HANDLE);
  }
  ctx.setLineDash([]);
}

function inside(poly, p) {
  let hit = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const a = poly[i];
    const b = poly[j];
    if (a.y > p.y !== b.y > p.y && p.x < ((b.x - a.x) * (p.y - a.y)) / (b.y - a.y) + a.x) hit = !hit;
  }
  return hit;
}

/** How a pointer at `p` grabs the shape (null: it misses); `tol` is the handle size in video px. */
export function grab(tool, g, p, tol) {
  if (tool === "bbox") {
    if (Math.abs(p.x - (g.left + g.width)) < tol && Math.abs(p.y - (g.top + g.height)) < tol) return { mode: "resize" };
    if (p.x >= g.left && p.x <= g.left + g.width && p.y >= g.top && p.y <= g.top + g.height) return { mode: "move" };
    return null;
  }
  if (tool === "point") return Math.hypot(p.x - g.x, p.y - g.y) < tol ? { mode: "move" } : null;
  const vertex = g.findIndex((q) => Math.hypot(p.x - q.x, p.y - q.y) < tol);
  if (vertex >= 0) return { mode: "vertex", index: vertex };
  return inside(g, p) ? { mode: "move" } : null;
}

const clamp = (v, lo, hi) => Math.min(Math.max(v, lo), hi);

/** The shape `g` dragged by (dx, dy) in `mode`, kept inside the video (width × height). */
export function dragShape(tool, g, grip, dx, dy, width, height) {
  if (tool === "bbox") {
    if (grip.mode === "move") return { left: clamp(g.left + dx, 0, width - g.width), top: clamp(g.top + dy, 0, height - g.height), width: g.width, height: g.height };
    return { left: g.left, top: g.top, width: Math.max(1, Math.min(g.width + dx, width - g.left)), height: Math.max(1, Math.min(g.height + dy, height - g.top)) };
  }
  if (tool === "point") return { x: clamp(g.x + dx, 0, width), y: clamp(g.y + dy, 0, height) };
  if (grip.mode === "vertex") return g.map((q, i) => (i === grip.index ? { x: clamp(q.x + dx, 0, width), y: clamp(q.y + dy, 0, height) } : q));
  const xs = g.map((q) => q.x);
  const ys = g.map((q) => q.y);
  const mx = clamp(dx, -Math.min(...xs), width - Math.max(...xs));
  const my = clamp(dy, -Math.min(...ys), height - Math.max(...ys));
  return g.map((q) => ({ x: q.x + mx, y: q.y + my }));
}

/** A polygon being drawn: its vertices, closed by a click near the first one. */
export class PolygonDraft {
  constructor() {
    this.points = [];
  }

  /** Add `p`; true when that click closes the polygon (near the first vertex, 3 vertices or more). */
  add(p, tol) {
    const first = this.points[0];
    const last = this.points[this.points.length - 1];
    if (last && Math.hypot(p.x - last.x, p.y - last.y) < tol / 2) return false; // the second click of a double click
    if (first && this.points.length >= 3 && Math.hypot(p.x - first.x, p.y - first.y) < tol) return true;
    this.points.push(p);
    return false;
  }

  draw(ctx, k, hover) {
    if (!this.points.length) return;
    ctx.strokeStyle = "#fff";
    ctx.fillStyle = "#fff";
    ctx.setLineDash([4, 3]);
    ctx.beginPath();
    this.points.forEach((p, i) => (i ? ctx.lineTo(p.x * k, p.y * k) : ctx.moveTo(p.x * k, p.y * k)));
    if (hover) ctx.lineTo(hover.x * k, hover.y * k);
    ctx.stroke();
    ctx.setLineDash([]);
    for (const p of this.points) ctx.fillRect(p.x * k - 3, p.y * k - 3, 6, 6);
  }
}

export const TRACK_TOOLS = ["bbox", "polygon", "point"];
export const TOOL_NAMES = { bbox: "box track", polygon: "polygon track", point: "point track" };
export { HANDLE };
