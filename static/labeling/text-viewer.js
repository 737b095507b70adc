/* The text media viewer (NER spans). Same interface as image-viewer.js: mount() → Promise, render(model, …),
 * unit(); its media coordinates are code point offsets into the text (what the server stores), converted from
 * and to the DOM's UTF-16 offsets only here. */
import { clamp, h, readJson } from "./dom.js";

const URL_LIKE = /^[a-z][a-z0-9+.-]*:\/\//i; // same rule as the server's asset_bounds()

export class TextViewer {
  constructor(asset, { onText, onMouseUp } = {}) {
    this.kind = "text";
    this.asset = asset;
    this.onText = onText || (() => {});
    this.onMouseUp = onMouseUp || (() => {});
    this.text = "";
    this.cpToUnit = null; // code point offset → UTF-16 offset (only when the text has astral characters)
    this.model = null;
  }

  mount() {
    this.pre = document.getElementById("text-asset");
    this.element = this.pre;
    this.pre.addEventListener("mouseup", () => this.onMouseUp());
    const raw = readJson("text-data", "");
    if (typeof raw === "string" && URL_LIKE.test(raw)) {
      this.pre.textContent = "Loading text…";
      return fetch(this.asset.dataset.contentUrl, { credentials: "same-origin" })
        .then((response) => {
          if (!response.ok) throw new Error(String(response.status));
          return response.text();
        })
        .then((value) => this.setText(value))
        .catch(() => {
          this.pre.textContent = "The text could not be loaded. Skip this task with a reason, or try again later.";
          this.pre.classList.add("error");
        });
    }
    this.setText(typeof raw === "string" ? raw : "");
    return Promise.resolve();
  }

  setText(value) {
    this.text = value;
    this.cpToUnit = null;
    if (/[\uD800-\uDFFF]/.test(value)) {
      this.cpToUnit = [];
      let unitIndex = 0;
      for (const ch of value) {
        this.cpToUnit.push(unitIndex);
        unitIndex += ch.length;
      }
      this.cpToUnit.push(unitIndex);
    }
    this.pre.textContent = value;
    this.onText();
  }

  toUnits(cp) {
    return this.cpToUnit ? this.cpToUnit[clamp(cp, 0, this.cpToUnit.length - 1)] : clamp(cp, 0, this.text.length);
  }

  toCodePoints(u) {
    return this.cpToUnit ? Array.from(this.text.slice(0, u)).length : u;
  }

  unit() {
    return 1;
  }

  /** The current text selection as {start, end} code points (trimmed of white space), or null. */
  selectionOffsets() {
    const pre = this.pre;
    const sel = window.getSelection();
    if (!pre || !sel || !sel.rangeCount || sel.isCollapsed) return null;
    const range = sel.getRangeAt(0);
    if (!pre.contains(range.startContainer) || !pre.contains(range.endContainer)) return null;
    const measure = document.createRange();
    measure.selectNodeContents(pre);
    measure.setEnd(range.startContainer, range.startOffset);
    let start = measure.toString().length;
    measure.setEnd(range.endContainer, range.endOffset);
    let end = measure.toString().length;
    while (start < end && /\s/.test(this.text[start])) start += 1;
    while (end > start && /\s/.test(this.text[end - 1])) end -= 1;
    if (start >= end) return null;
    return { start: this.toCodePoints(start), end: this.toCodePoints(end) };
  }

  /** The id of the span under the (collapsed) selection, for click-to-select. */
  markUnderSelection() {
    const sel = window.getSelection();
    const parent = sel && sel.anchorNode && sel.anchorNode.parentElement;
    const mark = parent ? parent.closest("mark[data-id]") : null;
    return mark ? mark.getAttribute("data-id") : null;
  }

  snippet(geom) {
    if (!this.text) return "";
    const part = this.text.slice(this.toUnits(geom.start), this.toUnits(geom.end)).replace(/\s+/g, " ");
    return `“${part.length > 40 ? `${part.slice(0, 39)}…` : part}”`;
  }

  render(model) {
    if (!this.pre || !this.text) return;
    const text = this.text;
    const spans = model.objects
      .filter((o) => o.tool.tool === "ner")
      .map((o) => ({ object: o, a: this.toUnits(o.geom.start), b: this.toUnits(o.geom.end) }))
      .filter((sp) => sp.b > sp.a);
    const cuts = new Set([0, text.length]);
    for (const sp of spans) {
      cuts.add(sp.a);
      cuts.add(sp.b);
    }
    const sorted = Array.from(cuts).sort((x, y) => x - y);
    const parts = [];
    for (let i = 0; i + 1 < sorted.length; i += 1) {
      const a = sorted[i];
      const b = sorted[i + 1];
      const covering = spans.filter((sp) => sp.a <= a && sp.b >= b);
      if (!covering.length) {
        parts.push(document.createTextNode(text.slice(a, b)));
        continue;
      }
      const top = covering.find((sp) => sp.object.id === model.selected) || covering[covering.length - 1];
      const mark = h("mark", { "data-id": top.object.id, title: covering.map((sp) => sp.object.tool.name).join(", ") });
      mark.style.setProperty("--c", top.object.tool.color);
      mark.classList.toggle("selected", top.object.id === model.selected);
      mark.classList.toggle("multi", covering.length > 1);
      mark.classList.toggle("has-error", covering.some((sp) => sp.object.errors.length));
      mark.textContent = text.slice(a, b);
      parts.push(mark);
    }
    this.pre.replaceChildren(...parts);
  }
}
