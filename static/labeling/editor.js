/* TDP labeling editor: draw objects from the ontology's tools on an image (or mark spans of a text), answer the
 * classification questions, and post everything as the API.md annotation JSON in an ordinary form (the no-JS
 * fallback keeps working: the form posts `annotations` as a hidden field).
 *
 * This module wires the others: model.js (the document), history.js (undo/redo), image-viewer.js / text-viewer.js
 * (one media viewer per kind, one interface), tools.js, toolbar.js, objects.js, questions.js, shortcuts.js and
 * timer.js. Other modules (drafts, submit) use the small API exported as `editor` (also `window.tdpEditor`):
 *   getDocument() → the annotation list exactly as the form posts it; setDocument(list) (undoable);
 *   onChange(cb) → cb(document) after every change, undo and redo included; showMessage(text, kind);
 *   markError(path, message) → show a server validation message next to the object or question it names;
 *   setReadOnly(on), isReadOnly(), form, submitButton, elapsedSeconds(), finishDrawing().
 * The page's data comes from json_script nodes (templates/labeling/_canvas_data.html). */
import { h, readJson, typingTarget } from "./dom.js";
import { History } from "./history.js";
import { LabelModel } from "./model.js";
import { numberObjects, ObjectList } from "./objects.js";
import { renderQuestions } from "./questions.js";
import { shortcutOverlay } from "./shortcuts.js";
import { TextViewer } from "./text-viewer.js";
import { TiledImageViewer } from "./tiles.js";
import { startTimer } from "./timer.js";
import { Toolbar } from "./toolbar.js";
import { HINTS, ImageTools } from "./tools.js";
import { bindKeys } from "./keys.js";
import { startDrafts } from "./drafts.js";
import { startSubmit } from "./submit.js";
import { MASK_SHORTCUTS, MaskTool } from "./mask.js";
import { startDicomStack } from "./dicom-stack.js";

const $ = (id) => document.getElementById(id);

export function createEditor() {
  const asset = $("asset");
  const form = $("label-form");
  const hintNode = $("tool-hint");
  const submitButton = $("submit-label");
  const isText = asset.dataset.mediaType === "text";
  const model = new LabelModel(readJson("ontology-data", {}));
  model.load(readJson("annotations-data", []), readJson("errors-data", []));
  const tools = model.tools.filter((t) => !t.archived && (isText ? t.tool === "ner" : t.tool !== "ner"));
  const listeners = [];
  let activeTool = tools[0] || null; // drawing is what a labeler does first on a fresh task
  let numbers = numberObjects(model.objects);
  let messageTimer = null;

  const readOnly = () => form.dataset.readonly === "true";
  const hint = (text) => {
    hintNode.textContent = text;
  };
  const defaultHint = () => hint(readOnly() ? "Read-only: press E or Edit to change the label." : HINTS[activeTool ? activeTool.tool : "select"] || "");

  // ------------------------------------------------------------------------------------------- rendering
  const viewer = isText
    ? new TextViewer(asset, { onText: () => redraw(null, false), onMouseUp: onTextMouseUp })
    : new TiledImageViewer(asset, { onView: () => redraw(null, true) }); // an ImageViewer that can show tiles
  let imageTools = null;
  let maskTool = null; // mask.js: brush and eraser of the `mask` tools

  /** Bring the views up to date. `only`: just that object moved (a drag frame); `light`: skip the side panel. */
  function redraw(only, light) {
    if (!only) numbers = numberObjects(model.objects);
    viewer.render(model, numbers, imageTools ? imageTools.drawing : null, only);
    if (maskTool && !only) maskTool.render();
    if (light) return;
    // While the pointer is down on the image (pressing a box to drag it) the side panel waits for pointerup: a row
    // expanding and scrolling into view must not cost the first frames of the drag.
    if (imageTools && imageTools.pressed) listStale = true;
    else flushList();
  }
  let listStale = false;
  function flushList() {
    listStale = false;
    objectList.render();
  }

  const objectList = new ObjectList({
    list: $("objects"),
    count: $("object-count"),
    model,
    isText,
    readOnly,
    snippet: (geom) => (viewer.snippet ? viewer.snippet(geom) : ""),
    actions: {
      select: (id) => select(id),
      remove: (id) => remove(id),
      duplicate: (id) => duplicate(id),
      toggleHidden: (id) => toggleFlag(id, "hidden"),
      toggleLocked: (id) => toggleFlag(id, "locked"),
      answered: (key) => {
        objectList.updateFlags();
        commit("answer", key);
      },
    },
  });

  const toolbar = new Toolbar({
    node: $("tools"),
    tools,
    isText,
    model,
    onPick: (tool) => pickTool(tool),
    onClassToggle: () => redraw(null, true),
  });

  let globalSig = null;
  function renderGlobalQuestions() {
    const node = $("questions");
    // Undo, redo and a document load call this every time; the form is rebuilt only when its answers changed.
    const sig = JSON.stringify([model.global, model.globalErrors, readOnly()]);
    if (sig === globalSig) return;
    globalSig = sig;
    if (!model.questions.length) {
      node.replaceChildren(h("p", { class: "muted small" }, "No classification questions."));
      return;
    }
    const answered = (key) => {
      globalSig = null; // the form changed the answers itself: the next undo must rebuild it
      commit("answer", key);
    };
    renderQuestions(node, model.questions, model.global, "global", answered, model.globalErrors);
  }

  // ------------------------------------------------------------------------------------------- changes
  const history = new History(
    () => model.snapshot(),
    (snap) => model.restore(snap),
  );

  function notify() {
    if (!listeners.length) return;
    const doc = model.serialize();
    for (const callback of listeners) {
      try {
        callback(doc);
      } catch (err) {
        console.error(err); // one listener's bug must not stop the others (or the editor)
      }
    }
  }

  /** A finished change: record it for undo and tell the listeners. */
  function commit(label, coalesce) {
    history.commit(label, coalesce);
    notify();
  }

  function step(direction) {
    if (imageTools) imageTools.cancel();
    const label = direction < 0 ? history.undo() : history.redo();
    if (label === null) {
      showMessage(direction < 0 ? "Nothing to undo." : "Nothing to redo.", "info");
      return;
    }
    redraw(null, false);
    renderGlobalQuestions();
    showMessage(`${direction < 0 ? "Undone" : "Redone"}: ${label}`, "info");
    notify();
  }

  function add(tool, geom) {
    model.add(tool, geom);
    redraw(null, false);
    commit("draw");
  }

  function select(id, force) {
    if (model.selected === id && !force) return;
    const object = model.get(id);
    // an object of another slice of a DICOM series: show that slice first (dicom-stack.js)
    if (object && api.stack && object.slice != null && object.slice !== model.slice) api.stack.goTo(object.slice);
    model.selected = object ? id : null;
    redraw(null, false);
  }

  function remove(id) {
    if (!model.get(id)) return;
    model.remove(id);
    redraw(null, false);
    commit("delete");
  }

  function duplicate(id) {
    const k = viewer.unit();
    if (!model.duplicate(id, isText ? 0 : Math.round(12 * k), viewer.imageW || 0, viewer.imageH || 0)) return;
    redraw(null, false);
    commit("duplicate");
  }

  function toggleFlag(id, flag) {
    const object = model.get(id);
    if (!object) return;
    object[flag] = !object[flag];
    redraw(null, false);
    commit(flag === "hidden" ? (object.hidden ? "hide" : "show") : object.locked ? "lock" : "unlock");
  }

  /** Tab / Shift+Tab: the next or previous visible object. */
  function cycle(direction) {
    const visible = model.objects.filter((o) => !model.isHidden(o));
    if (!visible.length) return;
    const at = visible.findIndex((o) => o.id === model.selected);
    const next = at < 0 ? (direction > 0 ? 0 : visible.length - 1) : (at + direction + visible.length) % visible.length;
    select(visible[next].id);
  }

  function pickTool(tool) {
    if (isText && tool && tool.tool === "ner") {
      const span = viewer.selectionOffsets();
      if (span && !readOnly()) {
        add(tool, span);
        window.getSelection().removeAllRanges();
      }
    }
    setTool(tool);
  }

  function setTool(tool) {
    if (imageTools) imageTools.cancel();
    activeTool = tool;
    toolbar.update(tool);
    defaultHint();
    asset.classList.toggle("drawing-tool", !!tool && !readOnly());
    if (maskTool) maskTool.toolChanged();
  }

  function onTextMouseUp() {
    const span = viewer.selectionOffsets();
    if (span && !readOnly() && activeTool && activeTool.tool === "ner") {
      add(activeTool, span);
      window.getSelection().removeAllRanges();
      return;
    }
    if (!span) select(viewer.markUnderSelection());
  }

  // ------------------------------------------------------------------------------------------- messages
  const messageNode = h("div", { class: "editor-message", id: "editor-message", role: "status", "aria-live": "polite", hidden: true });
  asset.parentElement.insertBefore(messageNode, asset);

  function showMessage(text, kind = "info") {
    messageNode.textContent = text;
    messageNode.className = `editor-message ${kind}`;
    messageNode.hidden = !text;
    window.clearTimeout(messageTimer);
    if (kind === "info" && text) messageTimer = window.setTimeout(() => (messageNode.hidden = true), 2500);
  }

  // ------------------------------------------------------------------------------------------- api
  const api = {
    model,
    viewer,
    history,
    form,
    submitButton,
    getDocument: () => model.serialize(),
    setDocument(list, options = {}) {
      if (imageTools) imageTools.cancel();
      model.load(list, []);
      redraw(null, false);
      renderGlobalQuestions();
      if (options.resetHistory) history.reset();
      else commit(options.label || "load");
    },
    onChange(callback) {
      listeners.push(callback);
      return () => listeners.splice(listeners.indexOf(callback), 1);
    },
    showMessage,
    markError(path, message) {
      const target = model.markError(path, message);
      if (target && target.object) model.selected = target.object.id;
      redraw(null, false);
      renderGlobalQuestions();
      return !!target;
    },
    clearErrors() {
      model.clearErrors();
      redraw(null, false);
      renderGlobalQuestions();
    },
    isReadOnly: readOnly,
    setReadOnly(on) {
      form.dataset.readonly = on ? "true" : "false";
      if (on && imageTools) imageTools.cancel();
      asset.classList.toggle("read-only", on);
      setTool(activeTool);
      redraw(null, false);
    },
    undo: () => step(-1),
    redo: () => step(1),
    select,
    duplicate,
    cycle,
    elapsedSeconds: () => timer.seconds(),
    finishDrawing: () => imageTools && imageTools.finish(true),
    cancelDrawing: () => (imageTools ? imageTools.cancel() : false),
    popPoint: () => (imageTools ? imageTools.popPoint() : false),
    toggleFlag,
    refresh: () => redraw(null, false),
    imageTools: () => imageTools,
    remove,
    pickTool,
    setTool,
    activeTool: () => activeTool,
    tools,
  };

  // ------------------------------------------------------------------------------------------- start
  const timer = startTimer($("timer"), form.dataset.taskId);
  const layout = $("label-layout");
  const placeLayout = () => {
    const top = layout.getBoundingClientRect().top + window.scrollY;
    document.documentElement.style.setProperty("--layout-top", `${Math.round(top)}px`);
  };
  placeLayout();
  window.addEventListener("resize", placeLayout);
  toolbar.render();
  asset.classList.toggle("read-only", readOnly());
  setTool(activeTool);
  objectList.render();
  renderGlobalQuestions();
  api.ready = viewer.mount().then(() => {
    if (!isText) {
      imageTools = new ImageTools({
        model,
        viewer,
        readOnly,
        currentTool: () => activeTool,
        select,
        add,
        commit,
        redraw,
        flushList: () => listStale && flushList(),
        preview: () => viewer.renderDrawing(imageTools.drawing),
        hint,
      });
      if (tools.some((t) => t.tool === "mask")) {
        const panel = $("tools");
        maskTool = new MaskTool({ model, viewer, readOnly, currentTool: () => activeTool, commit, redraw: () => redraw(null, false), showMessage, panel });
      }
    }
    const info = viewer.info;
    if (info && info.kind === "dicom" && info.dicom) api.stack = startDicomStack(api, info, viewer.rowId());
    redraw(null, false);
    document.documentElement.dataset.editorReady = "true";
  });
  api.shortcuts = shortcutOverlay(tools.some((t) => t.tool === "mask") ? MASK_SHORTCUTS : []);
  bindKeys(api);

  // The form post (the no-JS path, and the one other modules may take over): serialise at the last moment.
  const buttonText = submitButton ? submitButton.textContent : "";
  form.addEventListener("submit", (event) => {
    api.finishDrawing();
    $("annotations-input").value = JSON.stringify(model.serialize());
    $("seconds-input").value = String(Math.round(timer.seconds() * 10) / 10);
    // A second click while the post is on its way must not send it twice (unless a module took the submit over).
    window.setTimeout(() => {
      if (event.defaultPrevented || !submitButton) return;
      submitButton.disabled = true;
      submitButton.textContent = "Submitting…";
    }, 0);
  });
  window.addEventListener("pageshow", () => {
    if (!submitButton) return;
    submitButton.disabled = false;
    submitButton.textContent = buttonText; // the page's own wording ("Submit", "Approve"), back from the cache
  });
  return api;
}

export const editor = createEditor();
editor.drafts = startDrafts(editor); // never lose work: local copy at once, server draft within seconds
startSubmit(editor, editor.drafts); // fetch + Idempotency-Key, retry on failure, errors next to their object
window.tdpEditor = editor;
document.dispatchEvent(new CustomEvent("tdp-editor-ready", { detail: editor }));
