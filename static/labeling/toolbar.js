/* The tool list: Select, then one button per visible tool with its colour, kind and number key; per class an eye
 * (hide every object of the class) and a lock (no moving or reshaping them). */
import { keyOf } from "./answers.js";
import { h } from "./dom.js";
import { icon } from "./icons.js";

export class Toolbar {
  /** options: {node, tools, isText, model, onPick(tool), onClassToggle()} */
  constructor(options) {
    Object.assign(this, options);
    this.buttons = new Map();
  }

  render() {
    const { node } = this;
    node.replaceChildren();
    this.buttons.clear();
    const select = h(
      "button",
      { type: "button", class: "tool", "data-tool": "", title: "Select and move (Esc)" },
      h("span", { class: "swatch swatch-select" }),
      h("span", { class: "tool-name" }, "Select"),
      h("kbd", null, "Esc"),
    );
    node.append(h("div", { class: "tool-row" }, select));
    this.buttons.set(null, select);
    select.addEventListener("mousedown", (e) => e.preventDefault()); // keep a text selection
    select.addEventListener("click", () => this.onPick(null));
    this.tools.forEach((tool, index) => {
      const swatch = h("span", { class: "swatch" });
      swatch.style.backgroundColor = tool.color;
      const button = h(
        "button",
        { type: "button", class: "tool", "data-tool": tool.name, title: `${tool.name} (${tool.tool})` },
        swatch,
        h("span", { class: "tool-name" }, tool.name),
        h("span", { class: "tool-kind" }, tool.tool),
        index < 9 ? h("kbd", null, String(index + 1)) : null,
      );
      button.addEventListener("mousedown", (e) => e.preventDefault());
      button.addEventListener("click", () => this.onPick(tool));
      const row = h("div", { class: "tool-row" }, button);
      if (!this.isText) row.append(this.classToggle(tool, "hiddenClasses", "Hide", "Show", "eye", "eye-off"));
      if (!this.isText) row.append(this.classToggle(tool, "lockedClasses", "Lock", "Unlock", "unlock", "lock"));
      node.append(row);
      this.buttons.set(tool, button);
    });
    if (!this.tools.length) {
      const none = this.isText ? "No text tools in this ontology." : "No drawing tools in this ontology.";
      node.append(h("p", { class: "muted small" }, none));
    }
  }

  classToggle(tool, setName, onVerb, offVerb, onGlyph, offGlyph) {
    const set = this.model[setName];
    const key = keyOf(tool);
    const on = set.has(key);
    const label = `${on ? offVerb : onVerb} all ${tool.name}`;
    const button = h(
      "button",
      { type: "button", class: `icon-button class-${setName}`, "aria-pressed": on ? "true" : "false", "aria-label": label, title: label },
      icon(on ? offGlyph : onGlyph),
    );
    button.addEventListener("mousedown", (e) => e.preventDefault());
    button.addEventListener("click", () => {
      if (set.has(key)) set.delete(key);
      else set.add(key);
      this.render();
      this.update(this.active);
      this.onClassToggle();
    });
    return button;
  }

  update(activeTool) {
    this.active = activeTool;
    for (const [tool, button] of this.buttons) {
      const active = tool === activeTool;
      button.classList.toggle("active", active);
      button.setAttribute("aria-pressed", active ? "true" : "false");
    }
  }
}
