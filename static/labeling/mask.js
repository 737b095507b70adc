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
 * "Fill holes" sets every pixel of the selected mask that the image border cannot reach through unset pixels.
 * Keys while a mask tool is active: B brush, X eraser, [ ] brush size, N new mask, F fill holes. */
import { clamp, h, typingTarget } from "./dom.js";

// ----------------------------------------------------------------------------------------------- COCO RLE codec

/** counts (numbers) → the compressed string (pycocotools' rleToString). */
export function compressCounts(counts) {
  let out = "";
  for (let i = 0; i < counts.length; i += 1) {
    let x = counts[i] - (i > 2 ? counts[i - 2] : 0);
    let more = true;
    while (more) {
      let c = x & 0x1f;
      x >>= 5;
      more = c & 0x10 ? x !== -1 : x !== 0;
      if (more) c |= 0x20;
      out += String.fromCharCode(c + 48);
    }
  }
  return out;
}

/** The compressed string → counts (rleFrString). */
export function decompressCounts(s) {
  const counts = [];
  let p = 0;
  while (p < s.length) {
    let x = 0;
    let k = 0;
    let more = true;
    while (more && p < s.length) {
      const c = s.charCodeAt(p) - 48;
      x += (c & 0x1f) * 2 ** (5 * k);
      more = (c & 0x20) !== 0;
      p += 1;
      k += 1;
      if (!more && c & 0x10) x -= 2 ** (5 * k);
    }
    if (counts.length > 2) x += counts[counts.length - 2];
    counts.push(x);
  }
  return counts;
}

/** A row-major h × w array of 0/1 → {size, counts}. */
export function encodeMask(pixels, h, w) {
  const counts = [];
  let run = 0;
  let value = 0;
  for (let x = 0; x < w; x += 1) {
    for (let y = 0, i = x; y < h; y += 1, i += w) {
      const v = pixels[i] ? 1 : 0;
      if (v !== value) {
        counts.push(run);
        run = 0;
        value = v;
      }
      run += 1;
    }
  }
  counts.push(run);
  return { size: [h, w], counts: compressCounts(counts) };
}

/** {size, counts} → a row-major Uint8Array of 0/1. */
export function decodeMask(geom) {
  const [h, w] = geom.size;
  const pixels = new Uint8Array(h * w);
  const counts = decompressCounts(geom.counts);
  let at = 0;
  for (let r = 0; r < counts.length; r += 1) {
    const end = at + counts[r];
    if (r % 2 === 1) for (let j = at; j < end; j += 1) pixels[(j % h) * w + Math.floor(j / h)] = 1;
    at = end;
  }
  return pixels;
}

const decoded = new Map(); // counts string → pixels (a few recent masks)
function pixelsOf(geom) {
  let pixels = decoded.get(geom.counts);
  if (!pixels) {
    pixels = decodeMask(geom);
    if (decoded.size > 64) decoded.delete(decoded.keys().next().value);
    decoded.set(geom.counts, pixels);
  }
  return pixels;
}

const boxes = new Map();
/** {left, top, right, bottom} of the set pixels (for labels, hit lists and "zoom to"), or null when empty. */
export function maskBounds(geom) {
  if (!geom || !Array.isArray(geom.size) || typeof geom.counts !== "string") return null;
  if (boxes.has(geom.counts)) return boxes.get(geom.counts);
  const h = geom.size[0];
  const counts = decompressCounts(geom.counts);
  let box = null;
  let at = 0;
  for (let r = 0; r < counts.length; r += 1) {
    const end = at + counts[r];
    if (r % 2 === 1 && end > at) {
      const x0 = Math.floor(at / h);
      const x1 = Math.floor((end - 1) / h);
      const y0 = x1 > x0 ? 0 : at % h;
      const y1 = x1 > x0 ? h - 1 : (end - 1) % h;
      box = box || { left: x0, top: y0, right: x1 + 1, bottom: y1 + 1 };
      box = {
        left: Math.min(box.left, x0),
        top: Math.min(box.top, y0),
        right: Math.max(box.right, x1 + 1),
        bottom: Math.max(box.bottom, y1 + 1),
      };
    }
    at = end;
  }
  if (boxes.size > 256) boxes.delete(boxes.keys().next().value);
  boxes.set(geom.counts, box);
  return box;
}

export function parseMask(raw) {
  const ok = raw && Array.isArray(raw.size) && raw.size.length === 2 && typeof raw.counts === "string";
  return ok ? { size: [raw.size[0], raw.size[1]], counts: raw.counts } : null;
}

/** Set (value 1) or clear (0) every pixel whose centre is within r of the segment a–b; returns the touched rect. */
export function stampSegment(pixels, w, h, a, b, r, value) {
  const x0 = clamp(Math.floor(Math.min(a.x, b.x) - r), 0, w);
  const x1 = clamp(Math.ceil(Math.max(a.x, b.x) + r), 0, w);
  const y0 = clamp(Math.floor(Math.min(a.y, b.y) - r), 0, h);
  const y1 = clamp(Math.ceil(Math.max(a.y, b.y) + r), 0, h);
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const len = dx * dx + dy * dy;
  const r2 = r * r;
  for (let y = y0; y < y1; y += 1) {
    const cy = y + 0.5;
    for (let x = x0; x < x1; x += 1) {
      const cx = x + 0.5;
      const t = len ? clamp(((cx - a.x) * dx + (cy - a.y) * dy) / len, 0, 1) : 0;
      const ex = cx - (a.x + t * dx);
      const ey = cy - (a.y + t * dy);
      if (ex * ex + ey * ey <= r2) pixels[y * w + x] = value;
    }
  }
  return { x0, y0, x1, y1 };
}

/** Set every unset pixel that the image border cannot reach through unset pixels (4-connected): the holes. */
export function fillHoles(pixels, w, h) {
  const out = pixels.slice();
  const seen = new Uint8Array(w * h);
  const queue = new Int32Array(w * h);
  let head = 0;
  let tail = 0;
  const push = (i) => {
    if (!out[i] && !seen[i]) {
      seen[i] = 1;
      queue[tail++] = i;
    }
  };
  for (let x = 0; x < w; x += 1) [push(x), push((h - 1) * w + x)];
  for (let y = 0; y < h; y += 1) [push(y * w), push(y * w + w - 1)];
  while (head < tail) {
    const i = queue[head++];
    const x = i % w;
    if (x > 0) push(i - 1);
    if (x < w - 1) push(i + 1);
    if (i >= w) push(i - w);
    if (i < w * (h - 1)) push(i + w);
  }
  for (let i = 0; i < out.length; i += 1) if (!out[i] && !seen[i]) out[i] = 1;
  return out;
}

// ----------------------------------------------------------------------------------------------- editor side

export const MASK_SHORTCUTS = [
  { group: "Masks", keys: ["B"], text: "brush (paint the mask)" },
  { group: "Masks", keys: ["X"], text: "eraser" },
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
    this.buildPanel(ctx.panel);
    const el = viewer.element;
    el.addEventListener("pointerdown", (e) => this.onDown(e), true);
    el.addEventListener("pointermove", (e) => this.onMove(e), true);
    el.addEventListener("pointerup", (e) => this.onUp(e), true);
    el.addEventListener("pointerleave", () => (this.cursor.hidden = true));
    document.addEventListener("keydown", (e) => this.onKey(e));
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
      h("div", { class: "mask-modes" }, this.brushButton, this.eraserButton, fresh, fill),
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
    this.cursor.classList.toggle("erasing", mode === "eraser");
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
    decoded.set(geom.counts, pixels);
    object.geom = geom;
    redraw();
    commit("fill holes");
  }

  /** Called when the active tool changes: the panel shows only for mask tools. */
  toolChanged() {
    this.panel.hidden = !this.active();
    this.ctx.viewer.stage.classList.toggle("mask-active", !this.panel.hidden);
    if (this.panel.hidden) this.cursor.hidden = true;
  }

  onKey(event) {
    if (!this.active() || typingTarget(event.target) || event.ctrlKey || event.metaKey || event.altKey) return;
    const key = event.key.toLowerCase();
    if (key === "b") this.setMode("brush");
    else if (key === "x") this.setMode("eraser");
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
    decoded.set(geom.counts, pixels);
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
