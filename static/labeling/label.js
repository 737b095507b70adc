/* TDP label page: draw objects from the ontology's tools on an image (or mark spans of a text), answer the
 * classification questions, and post everything as the API.md annotation JSON in an ordinary form.
 *
 * Geometry is kept in IMAGE pixels: the SVG overlay's viewBox is the image size (the row's width/height when the
 * row has them, else the image's natural size), so screen ↔ image mapping is one scale per axis.
 * Anything that comes from users (names, option values, the text asset) is inserted with textContent or
 * setAttribute, never as HTML. No dependencies, no build step.
 */
(function () {
  "use strict";

  const SVG_NS = "http://www.w3.org/2000/svg";
  const URL_LIKE = /^[a-z][a-z0-9+.-]*:\/\//i; // same rule as the server's asset_bounds()
  const GEOMETRY_KEY = { bbox: "bbox", polygon: "polygon", polyline: "line", point: "point", ner: "location" };
  const HINTS = {
    select: "Click an object to select it, drag to move it; drag a box corner or a polygon point to reshape.",
    bbox: "Drag to draw a box; click a box to select it, then drag it or its corners. Esc: select mode.",
    polygon: "Click the corners; Enter, double-click or click the first point to close. Backspace removes a point.",
    polyline: "Click the points of the line; Enter or double-click to finish. Backspace removes a point.",
    point: "Click on the image to place a point. Esc: select mode.",
    ner: "Select text with the mouse to mark it (or select first, then pick the tool).",
  };

  // ---------------------------------------------------------------------------------------------- helpers
  function readJson(id, fallback) {
    const node = document.getElementById(id);
    if (!node) return fallback;
    try {
      const value = JSON.parse(node.textContent);
      return value === null || value === undefined ? fallback : value;
    } catch (err) {
      return fallback;
    }
  }

  /** Build an element; attributes go through setAttribute and children strings become text nodes. */
  function h(tag, attrs, ...children) {
    const node = document.createElement(tag);
    setAttrs(node, attrs);
    for (const child of children) {
      if (child === null || child === undefined || child === false) continue;
      node.append(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  function s(tag, attrs) {
    const node = document.createElementNS(SVG_NS, tag);
    setAttrs(node, attrs);
    return node;
  }

  function setAttrs(node, attrs) {
    if (!attrs) return;
    for (const [key, value] of Object.entries(attrs)) {
      if (value === null || value === undefined || value === false) continue;
      node.setAttribute(key, value === true ? "" : String(value));
    }
  }

  let counter = 0;
  const uid = (prefix) => `${prefix}-${++counter}`;
  const keyOf = (node) => node.schema_id || node.name || node.value;
  const clamp = (v, lo, hi) => Math.min(Math.max(v, lo), hi);
  const round2 = (v) => Math.round(v * 100) / 100;
  const isNum = (v) => typeof v === "number" && Number.isFinite(v);

  function findBy(list, ref, nameKey) {
    if (!ref || typeof ref !== "object") return null;
    if (typeof ref.schema_id === "string") {
      const found = list.find((n) => n.schema_id === ref.schema_id);
      if (found) return found;
    }
    if (typeof ref.name === "string") return list.find((n) => n[nameKey] === ref.name) || null;
    return null;
  }

  /** Features are posted by name (unique within their scope in a version): the form of API.md, and the one the
   * server's fast validation path takes. Restoring accepts names or schema_ids. */
  function ref(node, nameKey) {
    return { name: node[nameKey] };
  }

  // ---------------------------------------------------------------------------------------------- data
  const ontology = readJson("ontology-data", {});
  const allTools = Array.isArray(ontology.tools) ? ontology.tools : [];
  const topQuestions = Array.isArray(ontology.classifications) ? ontology.classifications : [];
  const initial = readJson("annotations-data", []);
  const serverErrors = readJson("errors-data", []);

  const asset = document.getElementById("asset");
  const form = document.getElementById("label-form");
  const toolbar = document.getElementById("tools");
  const objectList = document.getElementById("objects");
  const objectCount = document.getElementById("object-count");
  const questions = document.getElementById("questions");
  const hint = document.getElementById("tool-hint");
  const annotationsInput = document.getElementById("annotations-input");
  const secondsInput = document.getElementById("seconds-input");
  const submitButton = document.getElementById("submit-label");
  const isText = asset.dataset.mediaType === "text";

  const visibleTools = allTools.filter((t) => !t.archived && (isText ? t.tool === "ner" : t.tool !== "ner"));

  const state = {
    objects: [], // {id, tool, geom, answers, src, errors: []}
    selected: null, // object id
    tool: null, // active tool node, null = select mode
    drawing: null, // in-progress polygon/polyline/bbox
    global: {}, // answers of the top-level questions
    globalPrelabels: {}, // question key → id of the model pre-label its answer came from
    globalErrors: {}, // question key → [messages]
  };

  // ---------------------------------------------------------------------------------------------- answers
  // answers = {questionKey: value}; radio → {option, children}; checklist → {selected: {optionKey: children}};
  // text → string.
  function parseAnswers(classifications, list) {
    const answers = {};
    if (!Array.isArray(list)) return answers;
    for (const item of list) {
      const question = findBy(classifications, item, "name");
      if (!question) continue;
      const answer = parseAnswer(question, item.answer);
      if (answer !== undefined) answers[keyOf(question)] = answer;
    }
    return answers;
  }

  function parseAnswer(question, raw) {
    const options = question.options || [];
    if (question.type === "text") return typeof raw === "string" ? raw : undefined;
    if (question.type === "radio") {
      const one = Array.isArray(raw) ? raw[0] : raw;
      const option = findBy(options, one, "value");
      if (!option) return undefined;
      return { option: keyOf(option), children: parseAnswers(option.classifications || [], one.classifications) };
    }
    if (question.type === "checklist") {
      const list = Array.isArray(raw) ? raw : raw && typeof raw === "object" ? [raw] : [];
      const selected = {};
      for (const one of list) {
        const option = findBy(options, one, "value");
        if (option) selected[keyOf(option)] = parseAnswers(option.classifications || [], one.classifications);
      }
      return { selected };
    }
    return undefined;
  }

  function serializeAnswers(classifications, answers) {
    const out = [];
    for (const question of classifications) {
      const value = answers[keyOf(question)];
      if (value === undefined) continue;
      const answer = serializeAnswer(question, value);
      if (answer === undefined) continue;
      const item = ref(question, "name");
      item.answer = answer;
      out.push(item);
    }
    return out;
  }

  function serializeOption(option, children) {
    const out = ref(option, "value");
    const nested = serializeAnswers(option.classifications || [], children || {});
    if (nested.length) out.classifications = nested;
    return out;
  }

  function serializeAnswer(question, value) {
    const options = question.options || [];
    if (question.type === "text") return typeof value === "string" && value.trim() !== "" ? value : undefined;
    if (question.type === "radio") {
      const option = options.find((o) => keyOf(o) === value.option);
      return option ? serializeOption(option, value.children) : undefined;
    }
    if (question.type === "checklist") {
      const chosen = value.selected || {};
      const list = options.filter((o) => keyOf(o) in chosen).map((o) => serializeOption(o, chosen[keyOf(o)]));
      return list.length ? list : undefined;
    }
    return undefined;
  }

  /** Required questions left unanswered (recursively through the chosen options). */
  function missingRequired(classifications, answers) {
    let missing = 0;
    for (const question of classifications) {
      if (question.archived) continue;
      const value = answers[keyOf(question)];
      const answered = value !== undefined && serializeAnswer(question, value) !== undefined;
      if (question.required && !answered) missing += 1;
      if (!answered) continue;
      const options = question.options || [];
      if (question.type === "radio") {
        const option = options.find((o) => keyOf(o) === value.option);
        if (option) missing += missingRequired(option.classifications || [], value.children || {});
      } else if (question.type === "checklist") {
        for (const option of options) {
          if (keyOf(option) in value.selected) {
            missing += missingRequired(option.classifications || [], value.selected[keyOf(option)]);
          }
        }
      }
    }
    return missing;
  }

  // ---------------------------------------------------------------------------------------------- question forms
  /** Render `classifications` as form fields into `container`, reading and writing `answers` in place. */
  function renderQuestions(container, classifications, answers, scope, onChange, errors) {
    container.replaceChildren();
    for (const question of classifications) {
      const key = keyOf(question);
      if (question.archived && answers[key] === undefined) continue;
      container.append(renderQuestion(question, answers, `${scope}.${key}`, onChange, errors && errors[key]));
    }
  }

  function renderQuestion(question, answers, scope, onChange, errors) {
    const key = keyOf(question);
    const box = h("fieldset", { class: "question", "data-question": question.name });
    const legend = h("legend", null, question.name);
    if (question.required) {
      box.classList.add("required");
      legend.append(h("span", { class: "req", title: "Required" }, " *"));
    }
    box.append(legend);
    if (question.description) box.append(h("p", { class: "muted small" }, question.description));
    if (errors && errors.length) {
      box.classList.add("has-error");
      for (const message of errors) box.append(h("p", { class: "error small" }, message));
    }

    if (question.type === "text") {
      const input = h("input", {
        type: "text",
        name: scope,
        "aria-label": question.name,
        maxlength: question.max_length || null,
      });
      input.value = typeof answers[key] === "string" ? answers[key] : "";
      input.addEventListener("input", () => {
        if (input.value === "") delete answers[key];
        else answers[key] = input.value;
        onChange();
      });
      box.append(input);
      return box;
    }

    const isRadio = question.type === "radio";
    const nestedBoxes = new Map();
    const fill = (option, target, children) => {
      target.replaceChildren();
      const nested = option.classifications || [];
      if (nested.length) renderQuestions(target, nested, children, `${scope}.${keyOf(option)}`, onChange, null);
    };
    for (const option of question.options || []) {
      const optionKey = keyOf(option);
      const current = answers[key];
      const chosen = isRadio
        ? !!current && current.option === optionKey
        : !!current && !!current.selected && optionKey in current.selected;
      if (option.archived && !chosen) continue;
      const id = uid("q");
      const input = h("input", { type: isRadio ? "radio" : "checkbox", id, name: scope, value: optionKey });
      input.checked = chosen;
      const nested = h("div", { class: "nested" });
      nestedBoxes.set(optionKey, nested);
      box.append(h("div", { class: "option" }, input, h("label", { for: id }, option.value)), nested);
      if (chosen) fill(option, nested, isRadio ? current.children : current.selected[optionKey]);
      input.addEventListener("change", () => {
        if (isRadio) {
          const children = {};
          answers[key] = { option: optionKey, children };
          for (const other of nestedBoxes.values()) other.replaceChildren();
          fill(option, nested, children);
        } else {
          const value = answers[key] || { selected: {} };
          if (input.checked) {
            value.selected[optionKey] = {};
            fill(option, nested, value.selected[optionKey]);
          } else {
            delete value.selected[optionKey];
            nested.replaceChildren();
          }
          answers[key] = value;
          if (!Object.keys(value.selected).length) delete answers[key];
        }
        onChange();
      });
    }
    if (isRadio && !question.required) {
      const clear = h("button", { type: "button", class: "link clear-answer" }, "Clear");
      clear.addEventListener("click", () => {
        delete answers[key];
        for (const input of box.querySelectorAll(`input[name="${CSS.escape(scope)}"]`)) input.checked = false;
        for (const other of nestedBoxes.values()) other.replaceChildren();
        onChange();
      });
      box.append(clear);
    }
    return box;
  }

  // ---------------------------------------------------------------------------------------------- restore + errors
  function parseGeometry(kind, raw) {
    if (kind === "bbox") {
      if (!raw || ![raw.top, raw.left, raw.width, raw.height].every(isNum)) return null;
      return { left: raw.left, top: raw.top, width: raw.width, height: raw.height };
    }
    if (kind === "polygon" || kind === "polyline") {
      if (!Array.isArray(raw) || !raw.every((p) => p && isNum(p.x) && isNum(p.y))) return null;
      return { points: raw.map((p) => ({ x: p.x, y: p.y })) };
    }
    if (kind === "point") return raw && isNum(raw.x) && isNum(raw.y) ? { x: raw.x, y: raw.y } : null;
    if (kind === "ner") {
      const ok = raw && Number.isInteger(raw.start) && Number.isInteger(raw.end);
      return ok ? { start: raw.start, end: raw.end } : null;
    }
    return null;
  }

  function restore() {
    const bySource = new Map();
    const questionBySource = new Map();
    (Array.isArray(initial) ? initial : []).forEach((item, index) => {
      if (!item || typeof item !== "object") return;
      const geometryKey = Object.values(GEOMETRY_KEY).find((k) => k in item);
      if (geometryKey) {
        const tool = findBy(allTools, item, "name");
        if (!tool || GEOMETRY_KEY[tool.tool] !== geometryKey) return;
        const geom = parseGeometry(tool.tool, item[geometryKey]);
        if (!geom) return;
        const object = {
          id: uid("obj"),
          tool,
          geom,
          answers: parseAnswers(tool.classifications || [], item.classifications),
          src: index,
          errors: [],
          // A model pre-label: its id goes back with the annotation (the server decides accepted vs modified).
          prelabel: typeof item.prelabel === "string" ? item.prelabel : null,
          confidence: isNum(item.confidence) ? item.confidence : null,
        };
        state.objects.push(object);
        bySource.set(index, object);
        return;
      }
      const question = findBy(topQuestions, item, "name");
      if (!question) return;
      const answer = parseAnswer(question, item.answer);
      if (answer !== undefined) state.global[keyOf(question)] = answer;
      if (answer !== undefined && typeof item.prelabel === "string") {
        state.globalPrelabels[keyOf(question)] = item.prelabel;
      }
      questionBySource.set(index, keyOf(question));
    });
    for (const error of Array.isArray(serverErrors) ? serverErrors : []) {
      const match = /^annotations\[(\d+)\](.*)$/.exec(String(error.path || ""));
      if (!match) continue;
      const index = Number(match[1]);
      const detail = match[2].replace(/^\./, "");
      const message = detail ? `${detail}: ${error.message}` : String(error.message);
      if (bySource.has(index)) bySource.get(index).errors.push(message);
      else if (questionBySource.has(index)) {
        const key = questionBySource.get(index);
        (state.globalErrors[key] = state.globalErrors[key] || []).push(String(error.message));
      }
    }
    const firstBad = state.objects.find((o) => o.errors.length);
    if (firstBad) state.selected = firstBad.id;
  }

  // ---------------------------------------------------------------------------------------------- serialise
  function serializeObject(object) {
    const out = ref(object.tool, "name");
    const g = object.geom;
    switch (object.tool.tool) {
      case "bbox":
        out.bbox = { top: g.top, left: g.left, height: g.height, width: g.width };
        break;
      case "polygon":
        out.polygon = g.points.map((p) => ({ x: p.x, y: p.y }));
        break;
      case "polyline":
        out.line = g.points.map((p) => ({ x: p.x, y: p.y }));
        break;
      case "point":
        out.point = { x: g.x, y: g.y };
        break;
      case "ner":
        out.location = { start: g.start, end: g.end };
        break;
    }
    const nested = serializeAnswers(object.tool.classifications || [], object.answers);
    if (nested.length) out.classifications = nested;
    if (object.prelabel) out.prelabel = object.prelabel;
    return out;
  }

  function serializeAll() {
    const globals = serializeAnswers(topQuestions, state.global).map((item) => {
      const question = topQuestions.find((q) => q.name === item.name);
      const prelabel = question ? state.globalPrelabels[keyOf(question)] : null;
      return prelabel ? Object.assign(item, { prelabel }) : item;
    });
    return state.objects.map(serializeObject).concat(globals);
  }

  /** "model 87%" for an object that came from a model pre-label. */
  function modelLabel(object) {
    if (!object.prelabel) return "";
    return object.confidence === null ? "model" : `model ${Math.round(object.confidence * 100)}%`;
  }

  // ---------------------------------------------------------------------------------------------- timer
  const timerNode = document.getElementById("timer");
  const timerKey = `tdp-label-timer:${form.dataset.taskId || ""}`;
  // Active time, the figure analytics trusts: the clock runs while the labeler works and stops after IDLE_MS
  // without input (pointer, keys, wheel, typing); a longer pause is not counted. A rejected submit (the 400
  // re-render) or a reload of the same task resumes from the time already spent on this label. The server also
  // bounds it by how long the lease was open.
  const IDLE_MS = 60 * 1000;
  let activeMs = 0;
  let lastActivity = Date.now();
  let lastTick = lastActivity;
  try {
    const navigation = window.performance.getEntriesByType("navigation")[0];
    const resumed = !!document.getElementById("server-errors") || (navigation && navigation.type === "reload");
    const stored = Number(window.sessionStorage.getItem(timerKey));
    if (resumed && Number.isFinite(stored) && stored > 0 && stored < 12 * 3600 * 1000) activeMs = stored;
    for (let i = window.sessionStorage.length - 1; i >= 0; i -= 1) {
      const key = window.sessionStorage.key(i);
      if (key && key.startsWith("tdp-label-timer:") && key !== timerKey) window.sessionStorage.removeItem(key);
    }
  } catch (err) {
    /* storage disabled: count from page load */
  }
  for (const type of ["pointerdown", "pointermove", "keydown", "wheel", "input", "touchstart"]) {
    document.addEventListener(type, () => { lastActivity = Date.now(); }, { capture: true, passive: true });
  }
  function accumulate() {
    const now = Date.now();
    const activeUntil = Math.min(now, lastActivity + IDLE_MS);
    if (activeUntil > lastTick) activeMs += activeUntil - lastTick;
    lastTick = now;
    try {
      window.sessionStorage.setItem(timerKey, String(activeMs));
    } catch (err) {
      /* storage disabled */
    }
  }
  const elapsedSeconds = () => {
    accumulate();
    return activeMs / 1000;
  };
  function tick() {
    const total = Math.floor(elapsedSeconds());
    const hours = Math.floor(total / 3600);
    const minutes = Math.floor((total % 3600) / 60);
    const seconds = String(total % 60).padStart(2, "0");
    timerNode.textContent = hours
      ? `${hours}:${String(minutes).padStart(2, "0")}:${seconds}`
      : `${String(minutes).padStart(2, "0")}:${seconds}`;
  }
  tick();
  window.setInterval(tick, 1000);

  // ---------------------------------------------------------------------------------------------- toolbar
  const toolButtons = new Map();

  function renderToolbar() {
    toolbar.replaceChildren();
    const select = h(
      "button",
      { type: "button", class: "tool", "data-tool": "", title: "Select and move (Esc)" },
      h("span", { class: "swatch swatch-select" }),
      h("span", { class: "tool-name" }, "Select"),
      h("kbd", null, "Esc"),
    );
    toolbar.append(select);
    toolButtons.set(null, select);
    select.addEventListener("mousedown", (e) => e.preventDefault()); // keep a text selection
    select.addEventListener("click", () => setTool(null));
    visibleTools.forEach((tool, index) => {
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
      button.addEventListener("click", () => pickTool(tool));
      toolbar.append(button);
      toolButtons.set(tool, button);
    });
    if (!visibleTools.length) {
      const none = isText ? "No text tools in this ontology." : "No drawing tools in this ontology.";
      toolbar.append(h("p", { class: "muted small" }, none));
    }
    updateToolbar();
  }

  function updateToolbar() {
    for (const [tool, button] of toolButtons) {
      const active = tool === state.tool;
      button.classList.toggle("active", active);
      button.setAttribute("aria-pressed", active ? "true" : "false");
    }
    hint.textContent = HINTS[state.tool ? state.tool.tool : "select"] || "";
    if (stage) stage.classList.toggle("drawing-tool", !!state.tool);
  }

  function pickTool(tool) {
    if (isText && tool && tool.tool === "ner") {
      const span = selectionOffsets();
      if (span) {
        addObject(tool, span);
        window.getSelection().removeAllRanges();
      }
    }
    setTool(tool);
  }

  function setTool(tool) {
    cancelDrawing();
    state.tool = tool;
    updateToolbar();
  }

  // ---------------------------------------------------------------------------------------------- objects
  function addObject(tool, geom) {
    const object = { id: uid("obj"), tool, geom, answers: {}, src: null, errors: [] };
    state.objects.push(object);
    state.selected = object.id;
    changed(true);
    return object;
  }

  function selectedObject() {
    return state.objects.find((o) => o.id === state.selected) || null;
  }

  function select(id) {
    if (state.selected === id) return;
    state.selected = id;
    changed(true);
  }

  function removeObject(id) {
    state.objects = state.objects.filter((o) => o.id !== id);
    if (state.selected === id) state.selected = null;
    changed(true);
  }

  /** Redraw; `list` also rebuilds the object panel (not done while dragging, to keep it cheap). */
  function changed(list) {
    if (isText) renderText();
    else renderShapes();
    if (list) renderObjectList();
  }

  function renderObjectList() {
    objectList.replaceChildren();
    objectCount.textContent = String(state.objects.length);
    if (!state.objects.length) {
      objectList.append(h("li", { class: "muted small empty" }, isText ? "No spans yet." : "Nothing drawn yet."));
    }
    const numbers = new Map();
    state.objects.forEach((object) => {
      const n = (numbers.get(object.tool) || 0) + 1;
      numbers.set(object.tool, n);
      const selected = object.id === state.selected;
      const swatch = h("span", { class: "swatch" });
      swatch.style.backgroundColor = object.tool.color;
      const flag = h("span", { class: "flag" });
      const head = h(
        "button",
        { type: "button", class: "object-head", "aria-expanded": selected ? "true" : "false" },
        swatch,
        h("span", { class: "object-name" }, `${object.tool.name} ${n}`),
        object.prelabel
          ? h("span", { class: "model-badge", title: "Pre-label from a model: accept, fix or delete it" }, modelLabel(object))
          : null,
        isText ? h("span", { class: "muted small snippet" }, snippet(object.geom)) : null,
        flag,
      );
      head.addEventListener("click", () => select(selected ? null : object.id));
      const item = h("li", { class: "object", "data-id": object.id }, head);
      item.classList.toggle("selected", selected);
      item.classList.toggle("has-error", object.errors.length > 0);
      if (selected) {
        const body = h("div", { class: "object-body" });
        for (const message of object.errors) body.append(h("p", { class: "error small" }, message));
        const nested = object.tool.classifications || [];
        if (nested.length) {
          const box = h("div", { class: "object-questions" });
          renderQuestions(box, nested, object.answers, object.id, () => updateFlags(), null);
          body.append(box);
        }
        const remove = h("button", { type: "button", class: "secondary small-button delete-object" }, "Delete");
        remove.addEventListener("click", () => removeObject(object.id));
        body.append(remove);
        item.append(body);
      }
      objectList.append(item);
      if (selected) item.scrollIntoView({ block: "nearest" });
    });
    updateFlags();
  }

  function updateFlags() {
    for (const item of objectList.querySelectorAll("li.object")) {
      const object = state.objects.find((o) => o.id === item.dataset.id);
      if (!object) continue;
      const missing = missingRequired(object.tool.classifications || [], object.answers);
      const flag = item.querySelector(".flag");
      flag.textContent = object.errors.length ? "error" : missing ? `${missing} to answer` : "";
      flag.className = `flag${object.errors.length ? " flag-error" : missing ? " flag-missing" : ""}`;
    }
  }

  // ---------------------------------------------------------------------------------------------- image stage
  let stage = null;
  let overlay = null;
  let image = null;
  let imageW = 0;
  let imageH = 0;
  let gesture = null;

  function setupImage() {
    stage = h("div", { class: "stage", id: "stage" });
    image = h("img", { alt: "", draggable: "false", class: "asset-image" });
    overlay = s("svg", { class: "overlay", id: "overlay", preserveAspectRatio: "none", tabindex: "-1" });
    stage.append(image, overlay);
    asset.append(stage);
    const status = h("p", { class: "muted asset-status" }, "Loading image…");
    asset.append(status);
    image.addEventListener("load", () => {
      const rowW = Number(asset.dataset.width);
      const rowH = Number(asset.dataset.height);
      imageW = rowW > 0 && rowH > 0 ? rowW : image.naturalWidth;
      imageH = rowW > 0 && rowH > 0 ? rowH : image.naturalHeight;
      overlay.setAttribute("viewBox", `0 0 ${imageW} ${imageH}`);
      status.remove();
      stage.classList.add("ready");
      fit();
      renderShapes();
    });
    image.addEventListener("error", () => {
      status.textContent = "The image could not be loaded. Skip this task with a reason, or try again later.";
      status.className = "error asset-status";
    });
    image.src = asset.dataset.contentUrl;
    overlay.addEventListener("pointerdown", onPointerDown);
    overlay.addEventListener("pointermove", onPointerMove);
    overlay.addEventListener("pointerup", onPointerUp);
    overlay.addEventListener("pointercancel", () => {
      gesture = null;
      cancelDrawing();
    });
    overlay.addEventListener("dblclick", (e) => {
      e.preventDefault();
      if (state.drawing && state.drawing.points) finishDrawing();
    });
    window.addEventListener("resize", () => {
      placeLayout();
      fit();
      renderShapes();
    });
  }

  function fit() {
    if (!imageW || !imageH) return;
    const style = window.getComputedStyle(asset);
    const availW = asset.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    const availH = asset.clientHeight - parseFloat(style.paddingTop) - parseFloat(style.paddingBottom);
    const scale = Math.max(Math.min(availW / imageW, availH / imageH), 0.01);
    stage.style.width = `${imageW * scale}px`;
    stage.style.height = `${imageH * scale}px`;
  }

  /** Image units per screen pixel (for handle sizes and click tolerances). */
  function unit() {
    const rect = overlay.getBoundingClientRect();
    return rect.width ? imageW / rect.width : 1;
  }

  function toImage(event, clampIt) {
    const rect = overlay.getBoundingClientRect();
    let x = ((event.clientX - rect.left) * imageW) / rect.width;
    let y = ((event.clientY - rect.top) * imageH) / rect.height;
    if (clampIt !== false) {
      x = clamp(x, 0, imageW);
      y = clamp(y, 0, imageH);
    }
    return { x: round2(x), y: round2(y) };
  }

  function boxFrom(a, b) {
    const x0 = Math.min(a.x, b.x);
    const y0 = Math.min(a.y, b.y);
    return { left: x0, top: y0, width: round2(Math.max(a.x, b.x) - x0), height: round2(Math.max(a.y, b.y) - y0) };
  }

  function cloneGeom(geom) {
    return JSON.parse(JSON.stringify(geom));
  }

  // The review page shows the label read-only until the reviewer toggles editing (`data-readonly` on the form).
  function readOnly() {
    return form.dataset.readonly === "true";
  }

  function onPointerDown(event) {
    if (event.button !== 0 || !imageW || readOnly()) return;
    event.preventDefault();
    overlay.focus({ preventScroll: true });
    const p = toImage(event);
    const start = { x: event.clientX, y: event.clientY };
    const capture = () => overlay.setPointerCapture(event.pointerId);
    if (state.drawing && state.drawing.points) {
      gesture = { type: "add-point", start };
      capture();
      return;
    }
    const handle = event.target.closest("[data-handle]");
    const selected = selectedObject();
    if (handle && selected) {
      const corner = handle.getAttribute("data-handle");
      const g = selected.geom;
      // The opposite corner stays put for the whole drag, even when the box flips over.
      const fixed = {
        x: corner.includes("w") ? g.left + g.width : g.left,
        y: corner.includes("n") ? g.top + g.height : g.top,
      };
      gesture = { type: "resize", fixed, object: selected };
      capture();
      return;
    }
    const vertex = event.target.closest("[data-vertex]");
    if (vertex && selected && selected.geom.points) {
      gesture = { type: "vertex", index: Number(vertex.getAttribute("data-vertex")), object: selected };
      capture();
      return;
    }
    const hitNode = event.target.closest("[data-id]");
    const hit = hitNode ? state.objects.find((o) => o.id === hitNode.getAttribute("data-id")) || null : null;
    // Select mode: press an object to select and drag it. With a tool in hand, only the selected object moves
    // (Shift draws over it anyway); anywhere else the tool draws, so a roof or wheel can go inside a vehicle box.
    if (hit && (!state.tool || (hit.id === state.selected && !event.shiftKey))) {
      select(hit.id);
      gesture = { type: "move", from: p, orig: cloneGeom(hit.geom), object: hit };
      capture();
      return;
    }
    if (!state.tool) {
      select(null);
      return;
    }
    const kind = state.tool.tool;
    if (kind === "bbox") {
      state.drawing = { kind, tool: state.tool, from: p, to: p };
      gesture = { type: "draw-box", start, hit }; // a click without a drag selects `hit`
    } else if (kind === "point") {
      gesture = { type: "point", start };
    } else if (kind === "polygon" || kind === "polyline") {
      state.drawing = { kind, tool: state.tool, points: [], cursor: p };
      gesture = { type: "add-point", start };
    }
    capture();
  }

  function onPointerMove(event) {
    if (!imageW) return;
    const p = toImage(event);
    if (!gesture) {
      if (state.drawing && state.drawing.points) {
        state.drawing.cursor = p;
        renderShapes();
      }
      return;
    }
    if (gesture.type === "draw-box") {
      state.drawing.to = p;
      renderShapes();
    } else if (gesture.type === "move") {
      moveObject(gesture.object, gesture.orig, p.x - gesture.from.x, p.y - gesture.from.y);
      renderShapes();
    } else if (gesture.type === "resize") {
      resizeBox(gesture.object, gesture.fixed, p);
      renderShapes();
    } else if (gesture.type === "vertex") {
      gesture.object.geom.points[gesture.index] = p;
      renderShapes();
    } else if (gesture.type === "add-point" && state.drawing) {
      state.drawing.cursor = p;
      renderShapes();
    }
  }

  function onPointerUp(event) {
    if (!gesture) return;
    const g = gesture;
    gesture = null;
    if (overlay.hasPointerCapture(event.pointerId)) overlay.releasePointerCapture(event.pointerId);
    const p = toImage(event);
    const moved = Math.hypot(event.clientX - (g.start ? g.start.x : 0), event.clientY - (g.start ? g.start.y : 0));
    if (g.type === "draw-box") {
      const drawing = state.drawing;
      state.drawing = null;
      const box = boxFrom(drawing.from, p);
      const k = unit();
      if (box.width / k >= 3 && box.height / k >= 3) addObject(drawing.tool, box);
      else {
        state.selected = g.hit ? g.hit.id : null;
        changed(true);
      }
    } else if (g.type === "point") {
      if (moved < 6) addObject(state.tool, { x: p.x, y: p.y });
    } else if (g.type === "add-point") {
      addPoint(p);
    } else if (g.type === "move" || g.type === "resize" || g.type === "vertex") {
      changed(false);
    }
  }

  function addPoint(p) {
    const drawing = state.drawing;
    if (!drawing || !drawing.points) return;
    const k = unit();
    const points = drawing.points;
    const last = points[points.length - 1];
    if (last && Math.hypot(p.x - last.x, p.y - last.y) / k < 3) return; // the 2nd click of a double-click
    if (drawing.kind === "polygon" && points.length >= 3) {
      if (Math.hypot(p.x - points[0].x, p.y - points[0].y) / k <= 8) {
        finishDrawing();
        return;
      }
    }
    points.push(p);
    drawing.cursor = p;
    renderShapes();
  }

  function finishDrawing(quiet) {
    const drawing = state.drawing;
    if (!drawing) return;
    state.drawing = null;
    if (drawing.points) {
      const needed = drawing.kind === "polygon" ? 3 : 2;
      if (drawing.points.length >= needed) {
        addObject(drawing.tool, { points: drawing.points.slice() });
        return;
      }
      if (!quiet) hint.textContent = `A ${drawing.kind} needs at least ${needed} points.`;
    }
    renderShapes();
  }

  function cancelDrawing() {
    if (!state.drawing) return;
    state.drawing = null;
    gesture = null;
    if (isText) return;
    renderShapes();
  }

  function moveObject(object, orig, dx, dy) {
    const kind = object.tool.tool;
    if (kind === "bbox") {
      object.geom.left = round2(clamp(orig.left + dx, 0, imageW - orig.width));
      object.geom.top = round2(clamp(orig.top + dy, 0, imageH - orig.height));
    } else if (kind === "point") {
      object.geom.x = round2(clamp(orig.x + dx, 0, imageW));
      object.geom.y = round2(clamp(orig.y + dy, 0, imageH));
    } else if (orig.points) {
      const xs = orig.points.map((q) => q.x);
      const ys = orig.points.map((q) => q.y);
      const cx = clamp(dx, -Math.min(...xs), imageW - Math.max(...xs));
      const cy = clamp(dy, -Math.min(...ys), imageH - Math.max(...ys));
      object.geom.points = orig.points.map((q) => ({ x: round2(q.x + cx), y: round2(q.y + cy) }));
    }
  }

  function resizeBox(object, fixed, p) {
    const box = boxFrom(fixed, p);
    if (box.width > 0 && box.height > 0) object.geom = box;
  }

  function renderShapes() {
    if (!overlay || !imageW) return;
    overlay.replaceChildren();
    const k = unit();
    for (const object of state.objects) {
      const selected = object.id === state.selected;
      const group = s("g", {
        class: `obj${selected ? " selected" : ""}${object.errors.length ? " has-error" : ""}${
          object.prelabel ? " prelabel" : ""
        }`,
        "data-id": object.id,
      });
      if (object.prelabel) group.setAttribute("data-prelabel", object.prelabel);
      group.style.setProperty("--c", object.tool.color);
      const title = s("title");
      title.textContent = object.prelabel ? `${object.tool.name} (${modelLabel(object)})` : object.tool.name;
      group.append(title);
      const g = object.geom;
      switch (object.tool.tool) {
        case "bbox":
          group.append(s("rect", { class: "shape", x: g.left, y: g.top, width: g.width, height: g.height }));
          break;
        case "polygon":
          group.append(s("polygon", { class: "shape", points: g.points.map((q) => `${q.x},${q.y}`).join(" ") }));
          break;
        case "polyline":
          group.append(
            s("polyline", { class: "shape line", points: g.points.map((q) => `${q.x},${q.y}`).join(" ") }),
          );
          break;
        case "point":
          group.append(s("circle", { class: "shape point", cx: g.x, cy: g.y, r: 5 * k }));
          break;
      }
      if (selected && object.tool.tool === "bbox") {
        const size = 9 * k;
        const corners = {
          nw: [g.left, g.top],
          ne: [g.left + g.width, g.top],
          sw: [g.left, g.top + g.height],
          se: [g.left + g.width, g.top + g.height],
        };
        for (const [name, [x, y]] of Object.entries(corners)) {
          group.append(
            s("rect", {
              class: `handle handle-${name}`,
              "data-handle": name,
              x: x - size / 2,
              y: y - size / 2,
              width: size,
              height: size,
            }),
          );
        }
      } else if (selected && g.points) {
        g.points.forEach((q, i) => {
          group.append(s("circle", { class: "vertex editable", "data-vertex": i, cx: q.x, cy: q.y, r: 4.5 * k }));
        });
      }
      overlay.append(group);
    }
    const d = state.drawing;
    if (d) {
      const group = s("g", { class: "drawing" });
      group.style.setProperty("--c", d.tool.color);
      if (d.kind === "bbox") {
        const box = boxFrom(d.from, d.to);
        group.append(s("rect", { class: "shape", x: box.left, y: box.top, width: box.width, height: box.height }));
      } else if (d.points) {
        const pts = d.points.concat(d.cursor ? [d.cursor] : []);
        const shape = d.kind === "polygon" && pts.length >= 3 ? "polygon" : "polyline";
        group.append(s(shape, { class: "shape line", points: pts.map((q) => `${q.x},${q.y}`).join(" ") }));
        d.points.forEach((q, i) => {
          const closing = i === 0 && d.kind === "polygon" && d.points.length >= 3;
          const r = (closing ? 6 : 3.5) * k;
          group.append(s("circle", { class: closing ? "vertex closing" : "vertex", cx: q.x, cy: q.y, r }));
        });
      }
      overlay.append(group);
    }
  }

  // ---------------------------------------------------------------------------------------------- text (ner)
  let text = "";
  let pre = null;
  let cpToUnit = null; // code point offset → UTF-16 offset (only when the text has astral characters)

  function setText(value) {
    text = value;
    cpToUnit = null;
    if (/[\uD800-\uDFFF]/.test(text)) {
      cpToUnit = [];
      let unitIndex = 0;
      for (const ch of text) {
        cpToUnit.push(unitIndex);
        unitIndex += ch.length;
      }
      cpToUnit.push(unitIndex);
    }
    renderText();
    if (state.objects.length) renderObjectList(); // the snippets need the text
  }

  const toUnits = (cp) => (cpToUnit ? cpToUnit[clamp(cp, 0, cpToUnit.length - 1)] : clamp(cp, 0, text.length));
  const toCodePoints = (u) => (cpToUnit ? Array.from(text.slice(0, u)).length : u);

  function setupText() {
    pre = document.getElementById("text-asset");
    const raw = readJson("text-data", "");
    if (typeof raw === "string" && URL_LIKE.test(raw)) {
      pre.textContent = "Loading text…";
      fetch(asset.dataset.contentUrl, { credentials: "same-origin" })
        .then((response) => {
          if (!response.ok) throw new Error(String(response.status));
          return response.text();
        })
        .then(setText)
        .catch(() => {
          pre.textContent = "The text could not be loaded. Skip this task with a reason, or try again later.";
          pre.classList.add("error");
        });
    } else {
      setText(typeof raw === "string" ? raw : "");
    }
    pre.addEventListener("mouseup", () => {
      const span = selectionOffsets();
      if (span && !readOnly() && state.tool && state.tool.tool === "ner") {
        addObject(state.tool, span);
        window.getSelection().removeAllRanges();
        return;
      }
      if (!span) {
        const sel = window.getSelection();
        const mark = sel && sel.anchorNode && sel.anchorNode.parentElement
          ? sel.anchorNode.parentElement.closest("mark[data-id]")
          : null;
        select(mark ? mark.getAttribute("data-id") : null);
      }
    });
  }

  function selectionOffsets() {
    if (!pre) return null;
    const sel = window.getSelection();
    if (!sel || !sel.rangeCount || sel.isCollapsed) return null;
    const range = sel.getRangeAt(0);
    if (!pre.contains(range.startContainer) || !pre.contains(range.endContainer)) return null;
    const measure = document.createRange();
    measure.selectNodeContents(pre);
    measure.setEnd(range.startContainer, range.startOffset);
    let start = measure.toString().length;
    measure.setEnd(range.endContainer, range.endOffset);
    let end = measure.toString().length;
    while (start < end && /\s/.test(text[start])) start += 1;
    while (end > start && /\s/.test(text[end - 1])) end -= 1;
    if (start >= end) return null;
    return { start: toCodePoints(start), end: toCodePoints(end) };
  }

  function snippet(geom) {
    if (!text) return "";
    const part = text.slice(toUnits(geom.start), toUnits(geom.end)).replace(/\s+/g, " ");
    return `“${part.length > 40 ? `${part.slice(0, 39)}…` : part}”`;
  }

  function renderText() {
    if (!pre) return;
    const spans = state.objects
      .filter((o) => o.tool.tool === "ner")
      .map((o) => ({ object: o, a: toUnits(o.geom.start), b: toUnits(o.geom.end) }))
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
      const top = covering.find((sp) => sp.object.id === state.selected) || covering[covering.length - 1];
      const mark = h("mark", { "data-id": top.object.id, title: covering.map((sp) => sp.object.tool.name).join(", ") });
      mark.style.setProperty("--c", top.object.tool.color);
      mark.classList.toggle("selected", top.object.id === state.selected);
      mark.classList.toggle("multi", covering.length > 1);
      mark.classList.toggle("has-error", covering.some((sp) => sp.object.errors.length));
      mark.textContent = text.slice(a, b);
      parts.push(mark);
    }
    pre.replaceChildren(...parts);
  }

  // ---------------------------------------------------------------------------------------------- keyboard
  function typingTarget(target) {
    if (!target || !target.tagName) return false;
    if (target.isContentEditable || target.tagName === "TEXTAREA" || target.tagName === "SELECT") return true;
    return target.tagName === "INPUT" && !["radio", "checkbox", "button", "submit"].includes(target.type);
  }

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || readOnly()) return;
    if (typingTarget(event.target)) {
      // Enter in a text answer must not post the form by accident.
      if (event.key === "Enter" && form.contains(event.target)) event.preventDefault();
      return;
    }
    const key = event.key;
    if (/^[1-9]$/.test(key)) {
      const tool = visibleTools[Number(key) - 1];
      if (tool) {
        event.preventDefault();
        pickTool(tool);
      }
      return;
    }
    if (key === "Escape") {
      if (state.drawing) cancelDrawing();
      else if (state.selected) select(null);
      else setTool(null);
      event.preventDefault();
      return;
    }
    if (key === "Enter" && state.drawing && state.drawing.points) {
      event.preventDefault();
      finishDrawing();
      return;
    }
    if (key === "Delete" || key === "Backspace") {
      if (state.drawing && state.drawing.points) {
        event.preventDefault();
        state.drawing.points.pop();
        renderShapes();
        return;
      }
      if (state.selected) {
        event.preventDefault();
        removeObject(state.selected);
      }
    }
  });

  // ---------------------------------------------------------------------------------------------- submit
  form.addEventListener("submit", () => {
    if (state.drawing && state.drawing.points) finishDrawing(true);
    annotationsInput.value = JSON.stringify(serializeAll());
    secondsInput.value = String(Math.round(elapsedSeconds() * 10) / 10);
    // A second click while the post is on its way must not send it twice.
    window.setTimeout(() => {
      submitButton.disabled = true;
      submitButton.textContent = "Submitting…";
    }, 0);
  });
  window.addEventListener("pageshow", () => {
    submitButton.disabled = false;
    submitButton.textContent = "Submit";
  });

  // ---------------------------------------------------------------------------------------------- layout + start
  function placeLayout() {
    const layout = document.getElementById("label-layout");
    const top = layout.getBoundingClientRect().top + window.scrollY;
    document.documentElement.style.setProperty("--layout-top", `${Math.round(top)}px`);
  }

  function renderGlobalQuestions() {
    if (!topQuestions.length) {
      questions.append(h("p", { class: "muted small" }, "No classification questions."));
      return;
    }
    renderQuestions(questions, topQuestions, state.global, "global", () => {}, state.globalErrors);
  }

  restore();
  // Start with the first tool in hand: drawing is what a labeler does first on a fresh task.
  state.tool = visibleTools[0] || null;
  placeLayout();
  if (isText) setupText();
  else setupImage();
  renderToolbar();
  renderObjectList();
  renderGlobalQuestions();
})();
