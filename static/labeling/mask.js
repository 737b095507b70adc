/* Pixel masks: the `mask` tool's brush and eraser, painted at image resolution, stored as COCO RLE.
 *
 * - Geometry of a mask object: {size: [height, width], counts: "<COCO compressed RLE>"} (column-major, exactly as
 *   pycocotools writes it); decoded masks are cached by their counts string.
 * - Painting: a stroke sets (brush) or clears (eraser) every pixel whose centre lies within the brush radius of the
 *   pointer's path (capsules between successive pointer positions, in image px, so zoom does not change the
 *   result). One stroke = one undo step. The brush adds to the selected mask of the active class, or starts a new
 *   object (one object per mask in the object list; N or "New mask" starts another). Erasing a mask to nothing
 *   deletes it.
 * - Display: one canvas of the image's size inside the viewer's stage (zoom and pan come with the stage), every
 *   visible mask in its class colour at `opacity`, the selected one brighter.
 * - Polygon fill (P): click the corners (mask-polygon.js), close on the first corner, by a double click or Enter;
 *   the polygon's pixels (pycocotools' rasteriser, as a polygon mask imported on the server) are added to the
 *   selected mask of the active class, or make a new object. One polygon = one undo step.
 * "Fill holes" sets every pixel of the selected mask that the image border cannot reach through unset pixels.
 * Keys while a mask tool is active: B brush, X eraser, P polygon fill, [ ] brush size, N new mask, F fill holes. */
import { clamp, h, typingTarget } from "./dom.js";
import { encodeMask, fillHoles, fillPolygon, pixelsOf, remember, stampSegment } from "./mask-rle.js";
import { PolygonDraft } from "./mask-polygon.js";

export {
  compressCounts,
  decodeMask,
  decodeRuns,
  decompressCounts,
  encodeMask,
  fillHoles,
  fillPolygon,
  maskBounds,
  parseMask,
  polygonCounts,
  stampSegment,
} from "./mask-rle.js";

// ----------------------------------------------------------------------------------------------- editor side

export const MASK_SHORTCUTS = [
  { group: "Masks", keys: ["B"], text: "brush (paint the mask)" },
  { group: "Masks", keys: ["X"], text: "eraser" },
  { group: "Masks", keys: ["P"], text: "polygon fill: click the corners, then the first one (or Enter, double-click)" },
  { group: "Masks", keys: ["Backspace"], text: "polygon fill: remove the last corner (Esc drops the polygon)" },
  { group: "Masks", keys: ["[", "]"], text: "smaller, larger brush" },
  { group: "Masks", keys: ["N"], text: "start a new mask object" },
  { group: "Masks", keys: ["F"], text: "fill the holes of the selected mask" },
];

function rgb(color) {
  const m = /^#?([0-9a-f]{6})$/i.exec(color || "");
  const n = m ? parseInt(m[1], 16) : 0xff0000;
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

export class MaskTool {
  /** ctx: {model, viewer, readOnly(), currentTool(), commit(label), redraw(), showMessage(text, kind), panel} */
  constructor(ctx) {
    this.ctx = ctx;
    this.mode = "brush";
    this.size = 20; // brush diameter in image px
    this.opacity = 0.5;
    this.stroke = null;
    this.signature = null;
    const { viewer } = ctx;
    this.canvas = h("canvas", { class: "mask-canvas", id: "mask-canvas", "aria-hidden": "true" });
    this.canvas.width = viewer.imageW;
    this.canvas.height = viewer.imageH;
    viewer.image.after(this.canvas);
    this.cursor = h("div", { class: "brush-cursor", id: "brush-cursor", hidden: true });
    viewer.stage.append(this.cursor);
    const link = h("link", { rel: "stylesheet", href: new URL("./mask.css", import.meta.url).href });
    document.head.append(link);
    this.polygon = new PolygonDraft(viewer);
    this.buildPanel(ctx.panel);
    const el = viewer.element;
    el.addEventListener("pointerdown", (e) => this.onDown(e), true);
    el.addEventListener("pointermove", (e) => this.onMove(e), true);
    el.addEventListener("pointerup", (e) => this.onUp(e), true);
    el.addEventListener("pointerleave", () => (this.cursor.hidden = true));
    el.addEventListener("dblclick", (e) => this.polygonMode() && this.onDoubleClick(e), true);
    document.addEventListener("keydown", (e) => this.onKey(e));
    document.addEventListener("keydown", (e) => this.onPolygonKey(e), true); // before the editor's Enter/Esc/Delete
    this.toolChanged();
  }

  active() {
    const tool = this.ctx.currentTool();
    return tool && tool.tool === "mask" && !this.ctx.readOnly() ? tool : null;
  }

  buildPanel(after) {
    const button = (label, title, onClick, id) => {
      const node = h("button", { type: "button", class: "mask-button", id, title, "aria-pressed": "false" }, label);
      node.addEventListener("click", onClick);
      return node;
    };
    this.brushButton = button("Brush", "Paint (B)", () => this.setMode("brush"), "mask-brush");
    this.eraserButton = button("Eraser", "Erase (X)", () => this.setMode("eraser"), "mask-eraser");
    const polygonTitle = "Polygon fill (P): click the corners, then the first one again, Enter or double-click";
    this.polygonButton = button("Polygon", polygonTitle, () => this.setMode("polygon"), "mask-polygon-mode");
    this.sizeInput = h("input", { type: "range", min: "1", max: "200", value: String(this.size), id: "mask-size" });
    this.sizeInput.addEventListener("input", () => this.setSize(Number(this.sizeInput.value)));
    this.sizeLabel = h("span", { class: "mask-size-value", id: "mask-size-value" }, `${this.size} px`);
    this.opacityInput = h("input", { type: "range", min: "10", max: "90", value: "50", id: "mask-opacity" });
    this.opacityLabel = h("span", { class: "mask-size-value", id: "mask-opacity-value" }, "50 %");
    this.opacityInput.addEventListener("input", () => {
      this.opacity = Number(this.opacityInput.value) / 100;
      this.opacityLabel.textContent = `${this.opacityInput.value} %`;
      this.signature = null;
      this.render();
    });
    const fresh = button("New mask", "Start another mask object of this class (N)", () => this.newObject(), "mask-new");
    const fill = button("Fill holes", "Fill the holes of the selected mask (F)", () => this.fill(), "mask-fill");
    this.panel = h(
      "div",
      { class: "mask-panel", id: "mask-panel", role: "group", "aria-label": "Mask brush", hidden: true },
      h("div", { class: "mask-modes" }, this.brushButton, this.eraserButton, this.polygonButton, fresh, fill),
      h("label", { class: "mask-slider" }, h("span", null, "Size"), this.sizeInput, this.sizeLabel),
      h("label", { class: "mask-slider" }, h("span", null, "Opacity"), this.opacityInput, this.opacityLabel),
    );
    after.after(this.panel);
    this.setMode("brush");
  }

  setMode(mode) {
    this.mode = mode;
    this.brushButton.setAttribute("aria-pressed", String(mode === "brush"));
    this.eraserButton.setAttribute("aria-pressed", String(mode === "eraser"));
    this.polygonButton.setAttribute("aria-pressed", String(mode === "polygon"));
    this.cursor.classList.toggle("erasing", mode === "eraser");
    this.ctx.viewer.stage.classList.toggle("mask-polygon-mode", mode === "polygon");
    if (mode === "polygon") this.cursor.hidden = true;
    else this.polygon.cancel();
  }

  polygonMode() {
    return !!this.active() && this.mode === "polygon";
  }

  /** Enter closes the polygon being drawn, Backspace/Delete removes its last corner, Esc drops it. */
  onPolygonKey(event) {
    if (!this.polygonMode() || !this.polygon.active || typingTarget(event.target)) return;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "Enter") this.closePolygon(event);
    else if (event.key === "Escape") this.polygon.cancel();
    else if (event.key === "Backspace" || event.key === "Delete") this.polygon.pop();
    else return;
    event.preventDefault();
    event.stopImmediatePropagation();
  }

  /** A double click closes the polygon; right after a click on the first corner closed it, the second press left a
   * lone corner: that one is dropped without a word. */
  onDoubleClick(event) {
    if (this.polygon.points.length <= 1) {
      event.preventDefault();
      event.stopImmediatePropagation();
      this.polygon.cancel();
      return;
    }
    this.closePolygon(event);
  }

  /** Rasterise the polygon into the selected mask of the active class (or a new one): one undo step. */
  closePolygon(event) {
    if (event) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
    const tool = this.active();
    const points = this.polygon.take();
    if (!tool || !points.length) return;
    const { model, viewer, commit, redraw, showMessage } = this.ctx;
    if (points.length < 3) {
      showMessage("A polygon needs at least 3 corners.", "warning");
      return;
    }
    let object = model.selectedObject();
    if (!object || object.tool !== tool || model.isLocked(object)) object = null;
    const [w, hgt] = [viewer.imageW, viewer.imageH];
    const pixels = object ? pixelsOf(object.geom).slice() : new Uint8Array(w * hgt);
    fillPolygon(pixels, w, hgt, points);
    if (!pixels.some((v) => v)) {
      showMessage("The polygon covers no pixel centre: nothing to fill.", "warning");
      return;
    }
    const geom = encodeMask(pixels, hgt, w);
    remember(geom.counts, pixels);
    if (object && object.geom.counts === geom.counts) return redraw(); // already set: no undo step
    if (object) object.geom = geom;
    else model.add(tool, geom);
    redraw();
    commit("polygon fill");
  }

  setSize(size) {
    this.size = clamp(Math.round(size), 1, 200);
    this.sizeInput.value = String(this.size);
    this.sizeLabel.textContent = `${this.size} px`;
    if (this.last && !this.cursor.hidden) this.moveCursor(this.last);
  }

  newObject() {
    this.ctx.model.selected = null;
    this.ctx.redraw();
    this.ctx.showMessage("The next stroke starts a new mask.", "info");
  }

  /** Fill the holes of the selected mask (one undo step). */
  fill() {
    const { model, viewer, commit, redraw, showMessage } = this.ctx;
    const object = model.selectedObject();
    if (!object || object.tool.tool !== "mask" || model.isLocked(object)) {
      showMessage("Select a mask to fill its holes.", "warning");
      return;
    }
    const pixels = fillHoles(pixelsOf(object.geom), viewer.imageW, viewer.imageH);
    const geom = encodeMask(pixels, viewer.imageH, viewer.imageW);
    if (geom.counts === object.geom.counts) {
      showMessage("This mask has no holes.", "info");
      return;
    }
    remember(geom.counts, pixels);
    object.geom = geom;
    redraw();
    commit("fill holes");
  }

  /** Called when the active tool changes: the panel shows only for mask tools. */
  toolChanged() {
    this.panel.hidden = !this.active();
    this.ctx.viewer.stage.classList.toggle("mask-active", !this.panel.hidden);
    if (this.panel.hidden) {
      this.cursor.hidden = true;
      this.polygon.cancel();
    }
  }

  onKey(event) {
    if (!this.active() || typingTarget(event.target) || event.ctrlKey || event.metaKey || event.altKey) return;
    const key = event.key.toLowerCase();
    if (key === "b") this.setMode("brush");
    else if (key === "x") this.setMode("eraser");
    else if (key === "p") this.setMode("polygon");
    else if (key === "[") this.setSize(this.size / 1.25);
    else if (key === "]") this.setSize(this.size * 1.25 + 1);
    else if (key === "n") this.newObject();
    else if (key === "f") this.fill();
    else return;
    event.preventDefault();
  }

  /** The brush outline at image point p, in % of the stage: it follows zoom, pan and resizes by itself. */
  moveCursor(p) {
    const { imageW: w, imageH: hgt } = this.ctx.viewer;
    const r = this.size / 2;
    Object.assign(this.cursor.style, {
      left: `${((p.x - r) / w) * 100}%`,
      top: `${((p.y - r) / hgt) * 100}%`,
      width: `${(this.size / w) * 100}%`,
      height: `${(this.size / hgt) * 100}%`,
    });
    this.cursor.hidden = false;
  }

  onDown(event) {
    const tool = this.active();
    if (!tool || event.button !== 0 || !this.ctx.viewer.imageW) return;
    event.preventDefault();
    event.stopImmediatePropagation();
    const { model, viewer } = this.ctx;
    if (this.mode === "polygon") {
      if (this.polygon.click(viewer.toMedia(event)) === "close") this.closePolygon();
      return;
    }
    const w = viewer.imageW;
    const hgt = viewer.imageH;
    let object = model.selectedObject();
    if (!object || object.tool !== tool || model.isLocked(object)) object = null;
    if (!object && this.mode === "eraser") {
      this.ctx.showMessage("Select a mask of this class to erase from.", "warning");
      return;
    }
    const pixels = object ? pixelsOf(object.geom).slice() : new Uint8Array(w * hgt);
    const p = viewer.toMedia(event);
    this.stroke = { tool, object, pixels, last: p, value: this.mode === "brush" ? 1 : 0 };
    try {
      viewer.element.setPointerCapture(event.pointerId);
    } catch (err) {
      /* synthetic pointer */
    }
    this.paintTo(p);
  }

  onMove(event) {
    if (!this.active()) return;
    const p = this.ctx.viewer.toMedia(event);
    this.last = p;
    if (this.mode === "polygon") {
      this.polygon.move(p);
      return;
    }
    this.moveCursor(p);
    if (!this.stroke) return;
    event.stopImmediatePropagation();
    this.paintTo(p);
  }

  onUp(event) {
    if (!this.stroke) return;
    event.stopImmediatePropagation();
    const { model, commit, redraw } = this.ctx;
    const { tool, object, pixels, value } = this.stroke;
    this.stroke = null;
    const [w, hgt] = [this.ctx.viewer.imageW, this.ctx.viewer.imageH];
    const empty = !pixels.some((v) => v);
    if (object && empty) {
      model.remove(object.id);
      redraw();
      commit("erase");
      return;
    }
    if (empty) return redraw();
    const geom = encodeMask(pixels, hgt, w);
    remember(geom.counts, pixels);
    if (object && object.geom.counts === geom.counts) return redraw(); // nothing changed: no undo step
    if (object) object.geom = geom;
    else model.add(tool, geom);
    redraw();
    commit(value ? "paint" : "erase");
  }

  /** Stamp the brush from the last point to p, and show the stroke at once (only the touched rectangle). */
  paintTo(p) {
    const s = this.stroke;
    const { imageW: w, imageH: hgt } = this.ctx.viewer;
    const rect = stampSegment(s.pixels, w, hgt, s.last, p, this.size / 2, s.value);
    s.last = p;
    if (rect.x1 <= rect.x0 || rect.y1 <= rect.y0) return;
    const ctx = this.canvas.getContext("2d");
    const image = ctx.getImageData(rect.x0, rect.y0, rect.x1 - rect.x0, rect.y1 - rect.y0);
    const [r, g, b] = rgb(s.tool.color);
    const alpha = Math.round(255 * Math.min(this.opacity + 0.2, 1));
    for (let y = rect.y0, k = 0; y < rect.y1; y += 1) {
      for (let x = rect.x0; x < rect.x1; x += 1, k += 4) {
        if (s.pixels[y * w + x]) image.data.set([r, g, b, alpha], k);
        else if (s.value === 0) image.data[k + 3] = 0;
      }
    }
    ctx.putImageData(image, rect.x0, rect.y0);
    this.signature = null; // the next render repaints from the document
  }

  /** Paint every visible mask (skipped when nothing a mask shows has changed). */
  render() {
    const { model, viewer } = this.ctx;
    if (this.stroke || !viewer.imageW) return;
    const masks = model.objects.filter((o) => o.tool.tool === "mask" && o.geom && !model.isHidden(o));
    const sig = JSON.stringify([model.selected, this.opacity, masks.map((o) => [o.id, o.tool.color, o.geom.counts])]);
    if (sig === this.signature) return;
    this.signature = sig;
    const w = viewer.imageW;
    const hgt = viewer.imageH;
    if (this.canvas.width !== w || this.canvas.height !== hgt) [this.canvas.width, this.canvas.height] = [w, hgt];
    const ctx = this.canvas.getContext("2d");
    const image = ctx.createImageData(w, hgt);
    const data = image.data;
    for (const object of masks) {
      if (object.geom.size[0] !== hgt || object.geom.size[1] !== w) continue;
      const pixels = pixelsOf(object.geom);
      const [r, g, b] = rgb(object.tool.color);
      const alpha = Math.round(255 * Math.min(this.opacity + (object.id === model.selected ? 0.2 : 0), 1));
      for (let i = 0; i < pixels.length; i += 1) {
        if (!pixels[i]) continue;
        const k = i * 4;
        data[k] = r;
        data[k + 1] = g;
        data[k + 2] = b;
        data[k + 3] = alpha;
      }
    }
    ctx.putImageData(image, 0, 0);
  }
}
