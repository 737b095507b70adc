/* The editor's keyboard: tool keys, Esc, Enter, Delete, Tab, undo/redo, duplicate, hide/lock, zoom, submit and
 * "?" (the overlay built by shortcuts.js). `api` is the editor (editor.js). */
import { typingTarget } from "./dom.js";

export function bindKeys(api) {
  const { form, viewer, model } = api;
  const zoomable = viewer.kind === "image";

  document.addEventListener("keydown", (event) => {
    const key = event.key;
    const mod = event.ctrlKey || event.metaKey;
    if (!api.shortcuts.node.hidden) {
      if (key === "Escape" || key === "?") {
        event.preventDefault();
        api.shortcuts.toggle(false);
      }
      return;
    }
    // Ctrl+Enter submits from anywhere on the page, text answers included.
    if (mod && key === "Enter") {
      event.preventDefault();
      if (api.submitButton && !api.submitButton.disabled) form.requestSubmit(api.submitButton);
      return;
    }
    if (typingTarget(event.target)) {
      // Enter in a text answer must not post the form by accident.
      if (key === "Enter" && form.contains(event.target)) event.preventDefault();
      return;
    }
    if (event.altKey) return;
    if (key === "?") {
      event.preventDefault();
      api.shortcuts.toggle(true);
      return;
    }
    if (zoomable && !mod && handleZoom(event, viewer)) return;
    if (api.isReadOnly()) {
      if (key === "Tab" && model.objects.length && !mod) {
        event.preventDefault();
        api.cycle(event.shiftKey ? -1 : 1);
      }
      return;
    }
    if (mod) {
      const lower = key.toLowerCase();
      if (lower === "z") {
        event.preventDefault();
        if (event.shiftKey) api.redo();
        else api.undo();
      } else if (lower === "y") {
        event.preventDefault();
        api.redo();
      } else if (lower === "d" && model.selected) {
        event.preventDefault();
        api.duplicate(model.selected);
      }
      return;
    }
    if (/^[1-9]$/.test(key) && !event.shiftKey) {
      const tool = api.tools[Number(key) - 1];
      if (tool) {
        event.preventDefault();
        api.pickTool(tool);
      }
      return;
    }
    if (key === "Escape") {
      if (api.cancelDrawing()) {
        /* drawing cancelled */
      } else if (model.selected) api.select(null);
      else api.setTool(null);
      event.preventDefault();
      return;
    }
    if (key === "Enter" && viewerDrawing(api)) {
      event.preventDefault();
      api.finishDrawing();
      return;
    }
    if (key === "Tab" && model.objects.length) {
      event.preventDefault();
      api.cycle(event.shiftKey ? -1 : 1);
      return;
    }
    if (key === "Delete" || key === "Backspace") {
      if (api.popPoint()) {
        event.preventDefault();
        return;
      }
      if (model.selected) {
        event.preventDefault();
        api.remove(model.selected);
      }
      return;
    }
    if ((key === "h" || key === "l") && model.selected) {
      event.preventDefault();
      api.toggleFlag(model.selected, key === "h" ? "hidden" : "locked");
    }
  });
}

function viewerDrawing(api) {
  const tools = api.imageTools();
  return !!(tools && tools.drawing && tools.drawing.points);
}

/** +, −, 0, Shift+1 on the image viewer. Returns true when the key was a zoom key. */
function handleZoom(event, viewer) {
  const key = event.key;
  if (key === "+" || key === "=") viewer.zoomIn();
  else if (key === "-" || key === "_") viewer.zoomOut();
  else if (key === "0" && !event.shiftKey) viewer.fit();
  else if (event.shiftKey && event.code === "Digit1") viewer.actualSize();
  else return false;
  event.preventDefault();
  return true;
}
