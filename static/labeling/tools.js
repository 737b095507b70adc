/* Drawing and editing tools on the image viewer: box, polygon, polyline, point; in select mode (or on the selected
 * object) move, resize by the corner handles, drag polygon/line points. Every position comes from the viewer's
 * toMedia(), so drawing is exact in image pixels at any zoom. Text spans (NER) are made in editor.js. */
import { hitTest } from "./canvas-layer.js";
import { boxFrom, cloneGeom, fixedCorner, movedGeom } from "./geometry.js";

export const HINTS = {
  select: "Click an object to select it, drag to move it; drag a box corner or a polygon point to reshape.",
  bbox: "Drag to draw a box; click a box to select it, then drag it or its corners. Esc: select mode.",
  polygon: "Click the corners; Enter, double-click or click the first point to close. Backspace removes a point.",
  polyline: "Click the points of the line; Enter or double-click to finish. Backspace removes a point.",
  point: "Click on the image to place a point. Esc: select mode.",
  ner: "Select text with the mouse to mark it (or select first, then pick the tool).",
  mask: "Brush B, eraser X, polygon fill P (click the corners, then the first one); [ ] size; N new mask, F fill holes.",
};

export class ImageTools {
  /** ctx: {model, viewer, readOnly(), currentTool(), select(id), add(tool, geom), commit(label), redraw(only),
   * preview() (only the shape being drawn changed), flushList() (the side panel deferred while pressed), hint(text)} */
  constructor(ctx) {
    this.ctx = ctx;
    this.drawing = null; // in-progress bbox/polygon/polyline
    this.gesture = null;
    const el = ctx.viewer.element;
    el.addEventListener("pointerdown", (e) => this.onDown(e));
    el.addEventListener("pointermove", (e) => this.onMove(e));
    el.addEventListener("pointerup", (e) => this.onUp(e));
    // A press that started no gesture has no pointer capture: its release may land outside the image.
    window.addEventListener("pointerup", () => {
      if (!this.pressed) return;
      this.pressed = false;
      ctx.flushList();
    });
    el.addEventListener("pointercancel", () => {
      this.pressed = false;
      this.ctx.flushList();
      this.gesture = null;
      this.cancel();
    });
    el.addEventListener("dblclick", (e) => {
      e.preventDefault();
      if (this.drawing && this.drawing.points) this.finish();
    });
  }

  capture(event) {
    try {
      this.ctx.viewer.element.setPointerCapture(event.pointerId);
    } catch (err) {
      /* a synthetic event (tests, benchmark) has no active pointer */
    }
  }

  onDown(event) {
    const { ctx } = this;
    const { model, viewer } = ctx;
    if (event.button !== 0 || !viewer.imageW || ctx.readOnly()) return;
    event.preventDefault();
    this.pressed = true; // the side panel waits for pointerup (editor.js redraw)
    viewer.element.focus({ preventScroll: true });
    const p = viewer.toMedia(event);
    const start = { x: event.clientX, y: event.clientY };
    if (this.drawing && this.drawing.points) {
      this.gesture = { type: "add-point", start };
      this.capture(event);
      return;
    }
    const tool = ctx.currentTool();
    const handle = event.target.closest("[data-handle]");
    const selected = model.selectedObject();
    const editable = selected && !model.isLocked(selected);
    if (handle && editable) {
      const fixed = fixedCorner(selected.geom, handle.getAttribute("data-handle"));
      this.gesture = { type: "resize", fixed, object: selected, before: cloneGeom(selected.geom) };
      this.capture(event);
      return;
    }
    const vertex = event.target.closest("[data-vertex]");
    if (vertex && editable && selected.geom.points) {
      const index = Number(vertex.getAttribute("data-vertex"));
      this.gesture = { type: "vertex", index, object: selected, before: cloneGeom(selected.geom) };
      this.capture(event);
      return;
    }
    // Only the selected object is an SVG element on screen; the others are painted on a canvas: hit-test them.
    const hit = hitTest(model, p, viewer.unit());
    // Select mode: press an object to select and drag it. With a tool in hand, only the selected object moves
    // (Shift draws over it anyway); anywhere else the tool draws, so a roof or wheel can go inside a vehicle box.
    if (hit && (!tool || (hit.id === model.selected && !event.shiftKey))) {
      ctx.select(hit.id);
      if (!model.isLocked(hit)) {
        this.gesture = { type: "move", from: p, orig: cloneGeom(hit.geom), object: hit };
        this.capture(event);
      }
      return;
    }
    if (!tool) {
      ctx.select(null);
      return;
    }
    const kind = tool.tool;
    if (kind === "bbox") {
      this.drawing = { kind, tool, from: p, to: p };
      this.gesture = { type: "draw-box", start, hit }; // a click without a drag selects `hit`
    } else if (kind === "point") {
      this.gesture = { type: "point", start, tool };
    } else if (kind === "polygon" || kind === "polyline") {
      this.drawing = { kind, tool, points: [], cursor: p };
      this.gesture = { type: "add-point", start };
    }
    this.capture(event);
  }

  onMove(event) {
    const { ctx } = this;
    const { viewer } = ctx;
    if (!viewer.imageW) return;
    const g = this.gesture;
    if (!g) {
      if (this.drawing && this.drawing.points) {
        this.drawing.cursor = viewer.toMedia(event);
        ctx.preview();
      }
      return;
    }
    const p = viewer.toMedia(event);
    if (g.type === "draw-box") {
      this.drawing.to = p;
      ctx.preview();
    } else if (g.type === "move") {
      g.moved = true;
      g.object.geom = movedGeom(
        g.object.tool.tool,
        g.orig,
        p.x - g.from.x,
        p.y - g.from.y,
        viewer.imageW,
        viewer.imageH,
      );
      ctx.redraw(g.object, true);
    } else if (g.type === "resize") {
      const box = boxFrom(g.fixed, p);
      if (box.width > 0 && box.height > 0) g.object.geom = box;
      ctx.redraw(g.object, true);
    } else if (g.type === "vertex") {
      g.object.geom.points[g.index] = p;
      ctx.redraw(g.object, true);
    } else if (g.type === "add-point" && this.drawing) {
      this.drawing.cursor = p;
      ctx.preview();
    }
  }

  onUp(event) {
    const { ctx } = this;
    this.pressed = false;
    const g = this.gesture;
    const p = g ? ctx.viewer.toMedia(event) : null; // read the layout before the side panel changes it
    ctx.flushList();
    if (!g) return;
    this.gesture = null;
    const el = ctx.viewer.element;
    if (el.hasPointerCapture && el.hasPointerCapture(event.pointerId)) el.releasePointerCapture(event.pointerId);
    const moved = Math.hypot(event.clientX - (g.start ? g.start.x : 0), event.clientY - (g.start ? g.start.y : 0));
    if (g.type === "draw-box") {
      const drawing = this.drawing;
      this.drawing = null;
      const box = boxFrom(drawing.from, p);
      const k = ctx.viewer.unit();
      if (box.width / k >= 3 && box.height / k >= 3) ctx.add(drawing.tool, box);
      else ctx.select(g.hit ? g.hit.id : null, true);
    } else if (g.type === "point") {
      if (moved < 6) ctx.add(g.tool, { x: p.x, y: p.y });
    } else if (g.type === "add-point") {
      this.addPoint(p);
    } else if (g.type === "move") {
      if (g.moved && JSON.stringify(g.orig) !== JSON.stringify(g.object.geom)) ctx.commit("move");
      ctx.redraw(g.object, false);
    } else if (g.type === "resize" || g.type === "vertex") {
      if (JSON.stringify(g.before) !== JSON.stringify(g.object.geom)) ctx.commit(g.type === "resize" ? "resize" : "point edit");
      ctx.redraw(g.object, false);
    }
  }

  addPoint(p) {
    const drawing = this.drawing;
    if (!drawing || !drawing.points) return;
    const k = this.ctx.viewer.unit();
    const points = drawing.points;
    const last = points[points.length - 1];
    if (last && Math.hypot(p.x - last.x, p.y - last.y) / k < 3) return; // the 2nd click of a double-click
    if (drawing.kind === "polygon" && points.length >= 3) {
      if (Math.hypot(p.x - points[0].x, p.y - points[0].y) / k <= 8) {
        this.finish();
        return;
      }
    }
    points.push(p);
    drawing.cursor = p;
    this.ctx.preview();
  }

  /** Close the polygon or line being drawn (if it has enough points). */
  finish(quiet) {
    const drawing = this.drawing;
    if (!drawing) return;
    this.drawing = null;
    if (drawing.points) {
      const needed = drawing.kind === "polygon" ? 3 : 2;
      if (drawing.points.length >= needed) {
        this.ctx.add(drawing.tool, { points: drawing.points.slice() });
        return;
      }
      if (!quiet) this.ctx.hint(`A ${drawing.kind} needs at least ${needed} points.`);
    }
    this.ctx.preview();
  }

  cancel() {
    if (!this.drawing) return false;
    this.drawing = null;
    this.gesture = null;
    this.ctx.preview();
    return true;
  }

  /** Backspace while drawing: remove the last point. */
  popPoint() {
    if (!this.drawing || !this.drawing.points) return false;
    this.drawing.points.pop();
    this.ctx.preview();
    return true;
  }
}
