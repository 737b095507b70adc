// The editable tree: one row per tool, classification (question) and option, nested as in the ontology.
// Names reach the DOM only through `value`/`textContent`/`setAttribute`.
import { CHILD_KEY, kindOf, nameOf } from "./model.js";

const TOOL_LABELS = { bbox: "Box", polygon: "Polygon", polyline: "Line", point: "Point", ner: "Text span" };
const TYPE_LABELS = { radio: "One choice (radio)", checklist: "Several choices (checklist)", text: "Free text" };

function el(tag, attrs = {}, text = "") {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  if (text) node.textContent = text;
  return node;
}

function button(label, action, title) {
  const b = el("button", { type: "button", class: "oe-btn", "data-action": action, title: title || label }, label);
  return b;
}

// Editor controls carry `data-field`, never `name`: they are inside the admin form and must not be posted.
function select(field, choices, labels, value, label, disabled) {
  const s = el("select", { "data-field": field, "aria-label": label });
  for (const choice of choices) {
    const option = el("option", { value: choice }, labels[choice] || choice);
    if (choice === value) option.selected = true;
    s.append(option);
  }
  if (disabled) {
    s.disabled = true;
    s.title = "Fixed once saved (labels reference it); add a new one instead";
  }
  return s;
}

function row(node, path, kind, config) {
  const div = el("div", { class: `oe-row oe-${kind}` });
  const name = nameOf(node, kind);
  const label = kind === "tool" ? "Tool name" : kind === "option" ? "Option" : "Question";
  const saved = typeof node.schema_id === "string";
  if (kind === "tool") {
    const color = el("input", { type: "color", "data-field": "color", "aria-label": `Colour of ${name}` });
    color.value = /^#[0-9a-fA-F]{6}$/.test(node.color || "") ? node.color : "#e6194b";
    div.append(color);
  } else {
    div.append(el("span", { class: "oe-kind", "aria-hidden": "true" }, kind === "option" ? "○" : "?"));
  }
  const input = el("input", { type: "text", "data-field": kind === "option" ? "value" : "name", "aria-label": label, maxlength: "200" });
  input.value = name;
  input.required = true;
  div.append(input);
  if (kind === "tool") div.append(select("tool", config.toolKinds, TOOL_LABELS, node.tool, `Kind of ${name}`, saved));
  if (kind === "classification") {
    div.append(select("type", config.classificationTypes, TYPE_LABELS, node.type, `Answer type of ${name}`, saved));
    const req = el("label", { class: "oe-check" });
    const box = el("input", { type: "checkbox", "data-field": "required" });
    box.checked = Boolean(node.required);
    req.append(box, document.createTextNode(" required"));
    div.append(req);
  }
  const actions = el("span", { class: "oe-actions" });
  if (kind === "tool" || kind === "option") actions.append(button("+ Question", "add-classification", `Add a question under ${name}`));
  if (kind === "classification" && node.type !== "text") actions.append(button("+ Option", "add-option", `Add an option to ${name}`));
  actions.append(button("↑", "up", `Move ${name} up`), button("↓", "down", `Move ${name} down`));
  actions.append(button(node.archived ? "Unarchive" : "Archive", "archive", node.archived ? `Bring ${name} back` : `Hide ${name} from new work; labels keep it`));
  actions.append(button("Remove", "remove", `Remove ${name}`));
  div.append(actions);
  if (node.archived) {
    div.classList.add("oe-archived");
    div.append(el("span", { class: "oe-badge" }, "archived"));
  }
  if (!saved) div.append(el("span", { class: "oe-badge oe-new" }, "new"));
  return div;
}

function item(node, path, kind, config) {
  const li = el("li", { class: "oe-node", "data-path": path.join(".") , "data-kind": kind });
  li.append(row(node, path, kind, config));
  const key = CHILD_KEY[kind];
  const children = Array.isArray(node[key]) ? node[key] : [];
  if (kind === "classification" && node.type === "text") return li;
  if (children.length) {
    const ul = el("ul", { class: "oe-children" });
    children.forEach((child, i) => {
      const childPath = [...path, key, i];
      ul.append(item(child, childPath, kindOf(childPath), config));
    });
    li.append(ul);
  }
  return li;
}

export function renderTree(roots, model, config) {
  for (const key of ["tools", "classifications"]) {
    const ul = roots[key];
    ul.replaceChildren();
    const list = Array.isArray(model[key]) ? model[key] : [];
    list.forEach((node, i) => ul.append(item(node, [key, i], key === "tools" ? "tool" : "classification", config)));
    if (!list.length) {
      ul.append(el("li", { class: "oe-empty" }, key === "tools" ? "No tools yet: add one with “+ Tool”." : "No whole-asset questions yet: add one with “+ Classification”."));
    }
  }
}

export function pathOf(element) {
  const li = element.closest(".oe-node");
  if (!li) return null;
  return li.dataset.path.split(".").map((step) => (/^\d+$/.test(step) ? Number(step) : step));
}
