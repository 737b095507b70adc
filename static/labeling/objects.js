/* The object list in the side panel: one row per object (class, number, model badge, flags, hide and lock),
 * the selected one expanded with its nested questions, Duplicate and Delete. In read-only mode every object shows
 * its answers as text. */
import { missingRequired } from "./answers.js";
import { h } from "./dom.js";
import { icon } from "./icons.js";
import { renderAnswerSummary, renderQuestions } from "./questions.js";

/** id → number of the object within its class ("vehicle 2"), in document order. */
export function numberObjects(objects) {
  const perTool = new Map();
  const numbers = new Map();
  for (const object of objects) {
    const n = (perTool.get(object.tool) || 0) + 1;
    perTool.set(object.tool, n);
    numbers.set(object.id, n);
  }
  return numbers;
}

/** "model 87%" for an object that came from a model pre-label. */
export function modelLabel(object) {
  if (!object.prelabel) return "";
  return object.confidence === null ? "model" : `model ${Math.round(object.confidence * 100)}%`;
}

// A list longer than this is windowed: only the rows near the scrolled view (and the selected one) are rendered;
// the others keep their place as empty boxes (`content-visibility: hidden`, label.css), so the browser does not
// style, lay out, paint or layerize a thousand rows on every frame of a drag.
const WINDOW_MIN = 120;
const WINDOW_MARGIN = 6; // rows rendered above and below the view

export class ObjectList {
  /** options: {list, count, model, isText, snippet(geom), readOnly(), actions: {select, remove, duplicate,
   * toggleHidden, toggleLocked, answered(coalesceKey)}} */
  constructor(options) {
    Object.assign(this, options);
    this.order = []; // row nodes in document order
    this.near = new Set(); // rows rendered by the window
    this.scroller = this.list.closest(".panel-scroll");
    if (this.scroller) this.scroller.addEventListener("scroll", () => this.updateWindow(), { passive: true });
  }

  /** Mark the rows inside the scrolled view (plus a margin) as rendered; the rest stay unrendered boxes. */
  updateWindow() {
    const { list, order, scroller } = this;
    const windowed = !!scroller && order.length >= WINDOW_MIN;
    list.classList.toggle("windowed", windowed);
    if (!windowed) {
      for (const node of this.near) node.classList.remove("near");
      this.near.clear();
      return;
    }
    const view = scroller.getBoundingClientRect();
    // The first row whose bottom is below the top of the view (rows are in order, so a binary search).
    let lo = 0;
    let hi = order.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (order[mid].getBoundingClientRect().bottom < view.top) lo = mid + 1;
      else hi = mid;
    }
    let last = lo;
    while (last + 1 < order.length && order[last + 1].getBoundingClientRect().top <= view.bottom) last += 1;
    const next = new Set(order.slice(Math.max(0, lo - WINDOW_MARGIN), last + WINDOW_MARGIN + 1));
    for (const node of this.near) if (!next.has(node)) node.classList.remove("near");
    for (const node of next) if (!this.near.has(node)) node.classList.add("near");
    this.near = next;
  }

  /** Bring the list up to date; a row is rebuilt only when what it shows changed (1,000 objects stay cheap). */
  render() {
    const { list, model } = this;
    const readOnly = this.readOnly();
    if (!this.rows) this.rows = new Map(); // id → {node, sig}
    list.classList.toggle("read-only", readOnly);
    const total = String(model.objects.length);
    if (this.count.textContent !== total) this.count.textContent = total;
    const empty = list.querySelector("li.empty");
    if (!model.objects.length && !empty) {
      list.append(h("li", { class: "muted small empty" }, this.isText ? "No spans yet." : "Nothing drawn yet."));
    } else if (model.objects.length && empty) empty.remove();
    const numbers = numberObjects(model.objects);
    const seen = new Set();
    let selectedItem = null;
    let previous = null;
    const order = [];
    let changed = this.order.length !== model.objects.length;
    for (const object of model.objects) {
      seen.add(object.id);
      const n = numbers.get(object.id);
      const selected = object.id === model.selected;
      const sig = [
        n,
        selected,
        readOnly,
        object.hidden,
        object.locked,
        object.errors.join("\n"),
        object.tool.name,
        object.prelabel,
        object.confidence,
        object.slice,
        selected || readOnly ? JSON.stringify(object.answers) : "",
        this.isText ? JSON.stringify(object.geom) : "",
      ].join("|");
      let entry = this.rows.get(object.id);
      if (!entry || entry.sig !== sig) {
        changed = true;
        const node = this.row(object, n, readOnly);
        if (entry) entry.node.replaceWith(node);
        entry = { node, sig };
        this.rows.set(object.id, entry);
      }
      const expected = previous ? previous.nextSibling : list.firstChild;
      if (expected !== entry.node) {
        list.insertBefore(entry.node, expected);
        changed = true;
      }
      previous = entry.node;
      order.push(entry.node);
      if (selected) selectedItem = entry.node;
    }
    for (const [id, entry] of this.rows) {
      if (!seen.has(id)) {
        entry.node.remove();
        this.rows.delete(id);
        changed = true;
      }
    }
    this.order = order;
    if (selectedItem && selectedItem !== this.lastSelected) selectedItem.scrollIntoView({ block: "nearest" });
    this.lastSelected = selectedItem;
    if (changed) this.updateWindow(); // rows kept their places otherwise: the window stays
    this.updateFlags();
  }

  row(object, n, readOnly) {
    const { model, actions } = this;
    const selected = object.id === model.selected;
    const swatch = h("span", { class: "swatch" });
    swatch.style.backgroundColor = object.tool.color;
    const head = h(
      "button",
      { type: "button", class: "object-head", "aria-expanded": selected || readOnly ? "true" : "false" },
      swatch,
      h("span", { class: "object-name" }, `${object.tool.name} ${n}`),
      object.prelabel
        ? h("span", { class: "model-badge", title: "Pre-label from a model: accept, fix or delete it" }, modelLabel(object))
        : null,
      this.isText ? h("span", { class: "muted small snippet" }, this.snippet(object.geom)) : null,
      object.slice != null ? h("span", { class: "muted small object-slice" }, `slice ${object.slice}`) : null,
      h("span", { class: "flag" }),
    );
    head.addEventListener("click", () => actions.select(selected ? null : object.id));
    const item = h("li", { class: "object", "data-id": object.id }, head);
    item.classList.toggle("selected", selected);
    item.classList.toggle("has-error", object.errors.length > 0);
    item.classList.toggle("is-hidden", !!object.hidden);
    if (!this.isText) {
      const hide = h(
        "button",
        {
          type: "button",
          class: "icon-button toggle-hidden",
          "aria-pressed": object.hidden ? "true" : "false",
          "aria-label": `${object.hidden ? "Show" : "Hide"} ${object.tool.name} ${n}`,
          title: object.hidden ? "Show (H)" : "Hide (H)",
        },
        icon(object.hidden ? "eye-off" : "eye"),
      );
      hide.addEventListener("click", () => actions.toggleHidden(object.id));
      const lock = h(
        "button",
        {
          type: "button",
          class: "icon-button toggle-locked",
          "aria-pressed": object.locked ? "true" : "false",
          "aria-label": `${object.locked ? "Unlock" : "Lock"} ${object.tool.name} ${n}`,
          title: object.locked ? "Unlock (L)" : "Lock: no moving or reshaping (L)",
        },
        icon(object.locked ? "lock" : "unlock"),
      );
      lock.addEventListener("click", () => actions.toggleLocked(object.id));
      // Read-only (review): hiding helps to see what is under an object; locking is for editing.
      item.append(h("span", { class: "object-toggles" }, hide, readOnly ? null : lock));
    }
    const nested = object.tool.classifications || [];
    if (readOnly) {
      const body = h("div", { class: "object-body" });
      for (const message of object.errors) body.append(h("p", { class: "error small" }, message));
      if (nested.length) body.append(renderAnswerSummary(nested, object.answers));
      item.append(body);
    } else if (selected) {
      const body = h("div", { class: "object-body" });
      for (const message of object.errors) body.append(h("p", { class: "error small" }, message));
      if (nested.length) {
        const box = h("div", { class: "object-questions" });
        renderQuestions(box, nested, object.answers, object.id, (key) => actions.answered(key), null);
        body.append(box);
      }
      const duplicate = h("button", { type: "button", class: "secondary small-button duplicate-object" }, "Duplicate");
      duplicate.title = "Duplicate (Ctrl+D)";
      duplicate.addEventListener("click", () => actions.duplicate(object.id));
      const remove = h("button", { type: "button", class: "secondary small-button delete-object" }, "Delete");
      remove.title = "Delete (Del)";
      remove.addEventListener("click", () => actions.remove(object.id));
      body.append(h("div", { class: "object-actions" }, duplicate, remove));
      item.append(body);
    }
    return item;
  }

  /** The "n to answer" / "error" flag of every row; written only where it changed (no restyle of 1,000 rows, and
   * no DOM read: the flag node and what it shows are kept with the row). */
  updateFlags() {
    if (!this.rows) return;
    for (const object of this.model.objects) {
      const entry = this.rows.get(object.id);
      if (!entry) continue;
      const missing = missingRequired(object.tool.classifications || [], object.answers);
      const text = object.errors.length ? "error" : missing ? `${missing} to answer` : "";
      const cls = `flag${object.errors.length ? " flag-error" : missing ? " flag-missing" : ""}`;
      if (!entry.flag) entry.flag = entry.node.querySelector(".flag");
      if (entry.flagText !== text) entry.flag.textContent = entry.flagText = text;
      if (entry.flagClass !== cls) entry.flag.className = entry.flagClass = cls;
    }
  }
}
