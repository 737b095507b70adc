/* Keyboard shortcuts of the editor and the "?" overlay that lists them. The list below is the single source: the
 * overlay is rendered from it, and editor.js dispatches with matchShortcut(). */
import { h } from "./dom.js";

export const SHORTCUTS = [
  { group: "Tools", keys: ["1", "…", "9"], text: "pick a tool" },
  { group: "Tools", keys: ["Esc"], text: "cancel drawing, then deselect, then select mode" },
  { group: "Tools", keys: ["Enter"], text: "finish a polygon or line (or double-click)" },
  { group: "Tools", keys: ["Shift", "drag"], text: "draw a box on top of the selected one" },
  { group: "Objects", keys: ["Tab"], text: "select the next object (Shift+Tab: previous)" },
  { group: "Objects", keys: ["Del"], text: "delete the selected object (while drawing: remove the last point)" },
  { group: "Objects", keys: ["Ctrl", "D"], text: "duplicate the selected object" },
  { group: "Objects", keys: ["H"], text: "hide or show the selected object" },
  { group: "Objects", keys: ["L"], text: "lock or unlock the selected object" },
  { group: "Objects", keys: ["Ctrl", "Z"], text: "undo" },
  { group: "Objects", keys: ["Ctrl", "Shift", "Z"], text: "redo (or Ctrl+Y)" },
  { group: "View", keys: ["wheel"], text: "zoom around the pointer" },
  { group: "View", keys: ["+", "−"], text: "zoom in, zoom out" },
  { group: "View", keys: ["0"], text: "fit the image" },
  { group: "View", keys: ["Shift", "1"], text: "zoom to 100 % (1 picks the first tool)" },
  { group: "View", keys: ["Space", "drag"], text: "pan (or drag with the middle button)" },
  { group: "Task", keys: ["Ctrl", "Enter"], text: "submit" },
  { group: "Task", keys: ["?"], text: "show or hide this list" },
];

/** Build the overlay (hidden); returns {node, toggle(on?)}. */
export function shortcutOverlay(extra) {
  const rows = SHORTCUTS.concat(extra || []);
  const groups = new Map();
  for (const row of rows) {
    if (!groups.has(row.group)) groups.set(row.group, []);
    groups.get(row.group).push(row);
  }
  const close = h("button", { type: "button", class: "secondary shortcut-close", "aria-label": "Close" }, "Close");
  const body = h("div", { class: "shortcut-groups" });
  for (const [group, list] of groups) {
    const table = h("dl", { class: "shortcut-list" });
    for (const row of list) {
      const keys = h("dt", null);
      row.keys.forEach((key, i) => {
        if (i) keys.append(key === "…" || row.keys[i - 1] === "…" ? " " : "+");
        keys.append(key === "…" ? "…" : h("kbd", null, key));
      });
      table.append(h("div", { class: "shortcut-row" }, keys, h("dd", null, row.text)));
    }
    body.append(h("section", null, h("h3", null, group), table));
  }
  const dialog = h(
    "div",
    { class: "shortcut-overlay", id: "shortcut-overlay", role: "dialog", "aria-modal": "true", "aria-label": "Keyboard shortcuts", hidden: true },
    h("div", { class: "shortcut-card" }, h("div", { class: "shortcut-head" }, h("h2", null, "Keyboard shortcuts"), close), body),
  );
  const toggle = (on) => {
    const show = on === undefined ? dialog.hidden : on;
    dialog.hidden = !show;
    if (show) close.focus();
  };
  close.addEventListener("click", () => toggle(false));
  dialog.addEventListener("click", (e) => e.target === dialog && toggle(false));
  document.body.append(dialog);
  return { node: dialog, toggle };
}
