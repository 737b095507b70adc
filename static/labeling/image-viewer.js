/* The image media viewer. Interface shared by every media viewer (see text-viewer.js):
 *   mount() → Promise (resolves when the media is ready), toMedia(event) → media coordinates,
 *   unit() → media units per screen px, render(model, numbers, drawing, only) → draw layer,
 *   kind ("image"), element (the node tools listen on).
 * Zoom and pan: wheel zooms around the pointer, space-drag or middle-drag pans, and zoomIn/zoomOut/fit/actualSize
 * for the keys and the zoom bar. Brightness and contrast are CSS filters on the image only. */
import { clamp, h, round2, s } from "./dom.js";
import { CanvasLayer } from "./canvas-layer.js";
import { DrawLayer } from "./draw-layer.js";
import { Viewport } from "./geometry.js";

const STEP = 1.25;

export class ImageViewer {
  constructor(asset, { onView } = {}) {
    this.kind = "image";
    this.asset = asset;
    this.onView = onView || (() => {});
    this.viewport = new Viewport();
    this.brightness = 100;
    this.contrast = 100;
    this.spaceDown = false;
    this.pan = null;
  }

  get imageW() {
    return this.viewport.imageW;
  }

  get imageH() {
    return this.viewport.imageH;
  }

  mount() {
    const asset = this.asset;
    asset.classList.add("image-asset");
    this.stage = h("div", { class: "stage", id: "stage" });
    this.image = h("img", { alt: "", draggable: "false", class: "asset-image" });
    this.svg = s("svg", { class: "overlay", id: "overlay", preserveAspectRatio: "none", tabindex: "-1" });
    this.element = this.svg;
    // Inside the stage, between the image and the SVG; counter-translated so it always covers the viewer.
    this.canvas = h("canvas", { class: "draw-canvas", id: "draw-canvas", "aria-hidden": "true" });
    this.stage.append(this.image, this.canvas, this.svg);
    this.layer = new DrawLayer(this.svg);
    this.canvasLayer = new CanvasLayer(this.canvas, this.viewport);
    const status = h("p", { class: "muted asset-status" }, "Loading image…");
    asset.append(this.stage, status, this.buildBar());
    asset.addEventListener("wheel", (e) => this.onWheel(e), { passive: false });
    asset.addEventListener("pointerdown", (e) => this.onPanStart(e), true);
    asset.addEventListener("pointermove", (e) => this.onPanMove(e), true);
    asset.addEventListener("pointerup", (e) => this.onPanEnd(e), true);
    asset.addEventListener("auxclick", (e) => e.button === 1 && e.preventDefault());
    window.addEventListener("keydown", (e) => {
      if (e.code === "Space" && !isTyping(e.target)) {
        if (!this.spaceDown) this.stage.classList.add("pan-ready");
        this.spaceDown = true;
        e.preventDefault();
      }
    });
    window.addEventListener("keyup", (e) => {
      if (e.code === "Space") {
        this.spaceDown = false;
        this.stage.classList.remove("pan-ready");
      }
    });
    window.addEventListener("resize", () => this.fit());
    return new Promise((resolve) => {
      this.image.addEventListener("load", () => {
        if (this.loaded) return; // a later source (another slice of a DICOM series) keeps the view as it is
        this.loaded = true;
        const rowW = Number(asset.dataset.width);
        const rowH = Number(asset.dataset.height);
        const sized = rowW > 0 && rowH > 0;
        this.viewport.imageW = sized ? rowW : this.image.naturalWidth;
        this.viewport.imageH = sized ? rowH : this.image.naturalHeight;
        this.svg.setAttribute("viewBox", `0 0 ${this.imageW} ${this.imageH}`);
        status.remove();
        this.fit();
        // A subclass hook (tiles.js: the row's imaging details, the tile pyramid). The stage shows, and is `.ready`,
        // once that is done too: the editor sets up its tools in the same turn, so a `.ready` stage takes input.
        const hooked = Promise.resolve(this.onLoaded ? this.onLoaded() : undefined);
        const show = () => this.stage.classList.add("ready");
        hooked.then(show, show);
        resolve(hooked);
      });
      this.image.addEventListener("error", () => {
        status.textContent = "The image could not be loaded. Skip this task with a reason, or try again later.";
        status.className = "error asset-status";
      });
      this.image.src = asset.dataset.contentUrl;
    });
  }

  buildBar() {
    const button = (label, title, onClick, cls) => {
      const node = h("button", { type: "button", class: `zoom-button ${cls || ""}`, title, "aria-label": title }, label);
      node.addEventListener("click", onClick);
      node.addEventListener("mousedown", (e) => e.preventDefault()); // keep the keyboard focus on the page
      return node;
    };
    this.zoomLabel = button("100 %", "Zoom to 100 % (Shift+1)", () => this.actualSize(), "zoom-level");
    this.zoomLabel.id = "zoom-level";
    const slider = (label, id, onInput) => {
      const input = h("input", { type: "range", min: "20", max: "300", value: "100", id, "aria-label": label });
      input.addEventListener("input", () => onInput(Number(input.value)));
      input.addEventListener("dblclick", () => {
        input.value = "100";
        onInput(100);
      });
      return h("label", { class: "filter", title: `${label} (double-click resets)` }, h("span", null, label), input);
    };
    return h(
      "div",
      { class: "zoom-bar", id: "zoom-bar", role: "toolbar", "aria-label": "View" },
      button("−", "Zoom out (−)", () => this.zoomOut()),
      this.zoomLabel,
      button("+", "Zoom in (+)", () => this.zoomIn()),
      button("Fit", "Fit the image (0)", () => this.fit(), "zoom-fit"),
      slider("Brightness", "brightness", (v) => this.setFilter(v, this.contrast)),
      slider("Contrast", "contrast", (v) => this.setFilter(this.brightness, v)),
    );
  }

  setFilter(brightness, contrast) {
    this.brightness = brightness;
    this.contrast = contrast;
    this.image.style.filter =
      brightness === 100 && contrast === 100 ? "" : `brightness(${brightness}%) contrast(${contrast}%)`;
  }

  /** Viewer size and the screen position of its top-left corner (inside the border). */
  frame() {
    const rect = this.asset.getBoundingClientRect();
    return {
      left: rect.left + this.asset.clientLeft,
      top: rect.top + this.asset.clientTop,
      width: this.asset.clientWidth,
      height: this.asset.clientHeight,
    };
  }

  apply() {
    const v = this.viewport;
    const f = this.frame();
    this.canvasLayer.resize(f.width, f.height);
    this.stage.style.width = `${v.imageW * v.scale}px`;
    this.stage.style.height = `${v.imageH * v.scale}px`;
    this.stage.style.transform = `translate(${v.x}px, ${v.y}px)`;
    this.canvas.style.transform = `translate(${-v.x}px, ${-v.y}px)`;
    this.svg.style.setProperty("--k", String(1 / v.scale));
    this.zoomLabel.textContent = `${Math.round(v.scale * 100)} %`;
    this.asset.dataset.zoom = String(v.scale);
    this.viewChanging = true; // wheel and pan events come many per frame: paint the canvas once per frame
    try {
      this.onView();
    } finally {
      this.viewChanging = false;
    }
  }

  fit() {
    if (!this.imageW) return;
    const f = this.frame();
    this.viewport.fit(f.width, f.height);
    this.apply();
  }

  zoomAt(scale, clientX, clientY) {
    if (!this.imageW) return;
    const f = this.frame();
    const sx = clientX === undefined ? f.width / 2 : clientX - f.left;
    const sy = clientY === undefined ? f.height / 2 : clientY - f.top;
    this.viewport.zoomTo(scale, sx, sy);
    this.apply();
  }

  zoomIn() {
    this.zoomAt(this.viewport.scale * STEP);
  }

  zoomOut() {
    this.zoomAt(this.viewport.scale / STEP);
  }

  actualSize() {
    this.zoomAt(1);
  }

  onWheel(event) {
    if (!this.imageW) return;
    event.preventDefault();
    const delta = event.deltaMode === 1 ? event.deltaY * 16 : event.deltaY;
    this.zoomAt(this.viewport.scale * Math.exp(-clamp(delta, -300, 300) * 0.002), event.clientX, event.clientY);
  }

  onPanStart(event) {
    if (!this.imageW || !(event.button === 1 || (event.button === 0 && this.spaceDown))) return;
    if (event.target.closest(".zoom-bar")) return;
    event.preventDefault();
    event.stopPropagation();
    this.pan = { x: event.clientX, y: event.clientY, id: event.pointerId };
    this.stage.classList.add("panning");
    try {
      this.asset.setPointerCapture(event.pointerId);
    } catch (err) {
      /* synthetic pointer */
    }
  }

  onPanMove(event) {
    if (!this.pan) return;
    event.stopPropagation();
    const f = this.frame();
    this.viewport.panBy(event.clientX - this.pan.x, event.clientY - this.pan.y, f.width, f.height);
    this.pan.x = event.clientX;
    this.pan.y = event.clientY;
    this.apply();
  }

  onPanEnd(event) {
    if (!this.pan) return;
    event.stopPropagation();
    this.pan = null;
    this.stage.classList.remove("panning");
  }

  /** Image px per screen px. */
  unit() {
    return this.viewport.scale ? 1 / this.viewport.scale : 1;
  }

  /** The image point under a pointer event, rounded to 0.01 px and (by default) kept inside the image. */
  toMedia(event, keepInside = true) {
    const f = this.frame();
    const p = this.viewport.toImage(event.clientX - f.left, event.clientY - f.top);
    let { x, y } = p;
    if (keepInside) {
      x = clamp(x, 0, this.imageW);
      y = clamp(y, 0, this.imageH);
    }
    return { x: round2(x), y: round2(y) };
  }

  /** Only the shape being drawn changed (a drawing frame: the canvas and the other objects stay). */
  renderDrawing(drawing) {
    if (this.imageW) this.layer.renderDrawing(drawing, this.unit());
  }

  render(model, numbers, drawing, only) {
    if (!this.imageW) return;
    this.layer.render(model, this.unit(), numbers, drawing, only);
    // A drag frame of the selected object repaints only its SVG group; anything else repaints the canvas too: at
    // once for a discrete change, at the next frame for zoom and pan.
    if (only && only.id === model.selected) return;
    if (this.viewChanging) this.canvasLayer.schedule(model, numbers);
    else this.canvasLayer.paintNow(model, numbers);
  }
}

function isTyping(target) {
  if (!target || !target.tagName) return false;
  return target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName);
}
