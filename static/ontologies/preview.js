// "What a labeler will see": the tool palette and the questions as the labeling page lists them, live from the
// tree being edited. Archived features are hidden, as they are from new work. The inputs belong to no form.
const KIND_NAMES = { bbox: "box", polygon: "polygon", polyline: "line", point: "point", ner: "text span" };
let serial = 0;

function el(tag, attrs = {}, text = "") {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  if (text) node.textContent = text;
  return node;
}

function live(list) {
  return (Array.isArray(list) ? list : []).filter((n) => n && typeof n === "object" && !n.archived);
}

function question(c) {
  const fieldset = el("fieldset", { class: "oe-q" });
  fieldset.append(el("legend", {}, `${c.name || "(unnamed)"}${c.required ? " *" : ""}`));
  if (c.type === "text") {
    fieldset.append(el("input", { type: "text", form: "oe-preview-none", "aria-label": c.name || "answer" }));
    return fieldset;
  }
  const group = `oe-preview-${(serial += 1)}`;
  for (const option of live(c.options)) {
    const wrap = el("div", { class: "oe-opt" });
    const label = el("label");
    const input = el("input", { type: c.type === "checklist" ? "checkbox" : "radio", name: group, form: "oe-preview-none" });
    label.append(input, document.createTextNode(` ${option.value || "(unnamed)"}`));
    wrap.append(label);
    const nested = live(option.classifications);
    if (nested.length) {
      const inner = el("div", { class: "oe-nested" });
      inner.hidden = true;
      nested.forEach((n) => inner.append(question(n)));
      wrap.append(inner);
    }
    wrap.dataset.option = "1";
    fieldset.append(wrap);
  }
  fieldset.addEventListener("change", () => {
    for (const wrap of fieldset.querySelectorAll(":scope > [data-option]")) {
      const inner = wrap.querySelector(":scope > .oe-nested");
      if (inner) inner.hidden = !wrap.querySelector(":scope > label > input").checked;
    }
  });
  return fieldset;
}

export function renderPreview(container, model) {
  container.replaceChildren();
  const tools = live(model.tools);
  const questions = live(model.classifications);
  const palette = el("div", { class: "oe-palette" });
  palette.append(el("h4", {}, "Tools"));
  if (!tools.length) palette.append(el("p", { class: "help" }, "No tools: the labeler only answers questions."));
  tools.forEach((tool, i) => {
    const entry = el("div", { class: "oe-tool" });
    const swatch = el("span", { class: "oe-swatch", "aria-hidden": "true" });
    swatch.style.background = tool.color || "#888";
    entry.append(swatch, el("strong", {}, tool.name || "(unnamed)"), el("span", { class: "help" }, ` ${KIND_NAMES[tool.tool] || tool.tool}`));
    if (i < 9) entry.append(el("kbd", {}, String(i + 1)));
    const nested = live(tool.classifications);
    if (nested.length) {
      const inner = el("div", { class: "oe-nested" });
      inner.append(el("p", { class: "help" }, `Asked for each ${tool.name || "object"}:`));
      nested.forEach((c) => inner.append(question(c)));
      entry.append(inner);
    }
    palette.append(entry);
  });
  container.append(palette);
  const asked = el("div", { class: "oe-questions" });
  asked.append(el("h4", {}, "Questions about the whole asset"));
  if (!questions.length) asked.append(el("p", { class: "help" }, "None."));
  questions.forEach((c) => asked.append(question(c)));
  container.append(asked);
}
