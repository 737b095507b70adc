/* Interactive assist in the editor (docs/model-endpoints.md): with the project's interactive endpoint set, the
 * labeler turns on "Assist", clicks a point or drags a rough box on the image; the page asks the server
 * (POST /api/v1/tasks/{id}/assist: the server calls the model, the browser never sees its secret) and shows the
 * suggestion dashed, with the model's latency. Enter accepts it (a normal object, undoable like any other draw),
 * Esc rejects it. Loaded by templates/labeling/label.html only when the hook node `#assist` is on the page. */
import { editor } from "./editor.js";
import { h } from "./dom.js";

const SVG = "http://www.w3.org/2000/svg";
const CLICK_PX = 4; // a drag shorter than this (screen px) is a click

function svg(tag, attrs) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
}

function start(hook) {
  const url = hook.dataset.assistUrl;
  const form = editor.form;
  const csrf = form.querySelector("input[name=csrfmiddlewaretoken]");
  const viewer = editor.viewer;
  const asset = viewer.asset;
  const button = h("button", { type: "button", id: "assist-toggle", class: "tool", "aria-pressed": "false", title: "Click or drag a rough box: the model suggests the object" }, "Assist");
  const status = h("p", { id: "assist-status", class: "small muted", role: "status", "aria-live": "polite" }, "Assist: click an object or drag a rough box around it.");
  status.hidden = true;
  hook.append(button, status);

  let on = false;
  let press = null; // {sx, sy, p} while the pointer is down
  let suggestion = null; // the annotation on offer
  let pending = null; // AbortController of the request in flight
  const layer = svg("svg", { class: "assist-layer", id: "assist-layer", preserveAspectRatio: "none", "aria-hidden": "true" });
  viewer.stage.append(layer);

  function say(text, kind) {
    status.hidden = !text;
    status.textContent = text;
    status.className = `small ${kind === "error" ? "error" : "muted"}`;
  }

  function setOn(value) {
    on = value && !editor.isReadOnly();
    button.setAttribute("aria-pressed", on ? "true" : "false");
    button.classList.toggle("active", on);
    asset.classList.toggle("assist-mode", on);
    button.textContent = on ? "Assist: on (Esc turns it off)" : "Assist";
    if (on) {
      editor.cancelDrawing();
      const hint = document.getElementById("tool-hint");
      if (hint) hint.textContent = "Assist: click an object or drag a rough box; the model suggests it. Enter accepts, Esc rejects.";
      say("Assist: click an object or drag a rough box around it.");
    } else {
      clear();
      say("");
      editor.setTool(editor.activeTool()); // the tool's own hint again
    }
  }

  function draw(shape) {
    layer.setAttribute("viewBox", `0 0 ${viewer.imageW} ${viewer.imageH}`);
    layer.replaceChildren(shape);
  }

  function clear() {
    suggestion = null;
    layer.replaceChildren();
    if (pending) pending.abort();
    pending = null;
  }

  function showSuggestion(annotation, ms, version) {
    suggestion = annotation;
    let shape;
    if (annotation.bbox) {
      const b = annotation.bbox;
      shape = svg("rect", { x: b.left, y: b.top, width: b.width, height: b.height, class: "assist-suggestion" });
    } else if (Array.isArray(annotation.polygon)) {
      shape = svg("polygon", { points: annotation.polygon.map((p) => `${p.x},${p.y}`).join(" "), class: "assist-suggestion" });
    } else {
      suggestion = null;
      say("The model suggested a shape this editor cannot show.", "error");
      return;
    }
    draw(shape);
    const name = typeof annotation.name === "string" ? annotation.name : "object";
    say(`Suggestion: ${name} · ${Math.round(ms)} ms${version ? ` · ${version}` : ""} — Enter accepts, Esc rejects.`);
  }

  async function ask(hint) {
    clear();
    pending = new AbortController();
    const started = performance.now();
    say("Asking the model…");
    try {
      const response = await fetch(url, {
        method: "POST",
        credentials: "same-origin",
        signal: pending.signal,
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf ? csrf.value : "" },
        body: JSON.stringify(hint),
      });
      const body = await response.json().catch(() => ({}));
      pending = null;
      if (!response.ok) {
        say(`Assist failed: ${(body.error && body.error.message) || `HTTP ${response.status}`}`, "error");
        return;
      }
      const ms = typeof body.ms === "number" ? body.ms : performance.now() - started;
      if (!body.suggestion) say(`The model found nothing there (${Math.round(ms)} ms). Try another spot or a box.`);
      else showSuggestion(body.suggestion, ms, body.model_version);
    } catch (err) {
      if (err.name === "AbortError") return;
      pending = null;
      say("Assist failed: the server could not be reached.", "error");
    }
  }

  function accept() {
    const annotation = { ...suggestion };
    delete annotation.confidence;
    clear();
    editor.setDocument([...editor.getDocument(), annotation], { label: "assist" });
    const count = editor.model.objects.length;
    if (count) editor.select(editor.model.objects[count - 1].id, true);
    say("Suggestion accepted (Ctrl+Z undoes it).");
  }

  button.addEventListener("click", () => setOn(!on));
  asset.addEventListener(
    "pointerdown",
    (event) => {
      if (!on || event.button !== 0 || asset.querySelector(".pan-ready")) return;
      event.stopImmediatePropagation();
      event.preventDefault();
      press = { sx: event.clientX, sy: event.clientY, p: viewer.toMedia(event) };
      asset.setPointerCapture(event.pointerId);
    },
    true,
  );
  asset.addEventListener(
    "pointermove",
    (event) => {
      if (!on || !press) return;
      event.stopImmediatePropagation();
      const q = viewer.toMedia(event);
      const a = press.p;
      draw(svg("rect", { x: Math.min(a.x, q.x), y: Math.min(a.y, q.y), width: Math.abs(q.x - a.x), height: Math.abs(q.y - a.y), class: "assist-rough" }));
    },
    true,
  );
  asset.addEventListener(
    "pointerup",
    (event) => {
      if (!on || !press) return;
      event.stopImmediatePropagation();
      const a = press.p;
      const dragged = Math.hypot(event.clientX - press.sx, event.clientY - press.sy) >= CLICK_PX;
      press = null;
      const q = viewer.toMedia(event);
      if (!dragged) ask({ point: { x: a.x, y: a.y } });
      else if (Math.abs(q.x - a.x) >= 1 && Math.abs(q.y - a.y) >= 1) {
        ask({ bbox: { left: Math.min(a.x, q.x), top: Math.min(a.y, q.y), width: Math.abs(q.x - a.x), height: Math.abs(q.y - a.y) } });
      }
    },
    true,
  );
  window.addEventListener(
    "keydown",
    (event) => {
      if (!suggestion && !(on && event.key === "Escape")) return;
      if (event.key === "Enter" && suggestion && !event.ctrlKey && !event.metaKey) {
        event.preventDefault();
        event.stopImmediatePropagation();
        accept();
      } else if (event.key === "Escape") {
        event.preventDefault();
        event.stopImmediatePropagation();
        if (suggestion) {
          clear();
          say("Suggestion rejected.");
        } else setOn(false);
      }
    },
    true,
  );
}

const hook = document.getElementById("assist");
if (hook && editor.viewer.kind === "image") editor.ready.then(() => start(hook));
