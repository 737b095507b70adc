// The ontology editor of the admin change page: a tree of tools and questions over the JSON textarea (which stays
// as the "advanced" view and is what the form posts), a live labeler preview, and a review of the changes against
// the current version (asked of the server) before saving.
import { addNode, kindOf, moveNode, nodeAt, parse, removeNode, schemaIdsUnder, serialize, setField, withoutNode } from "./model.js";
import { renderPreview } from "./preview.js";
import { checkTree, renderReview } from "./review.js";
import { pathOf, renderTree } from "./tree.js";

const root = document.querySelector("[data-editor-root]");
const textarea = document.querySelector("textarea.ontology-json");

function start() {
  const form = textarea.form;
  const config = {
    palette: JSON.parse(textarea.dataset.palette || "[]"),
    toolKinds: JSON.parse(textarea.dataset.toolKinds || "[]"),
    classificationTypes: JSON.parse(textarea.dataset.classificationTypes || "[]"),
  };
  const checkUrl = new URL("../editor-check/", window.location.href).toString();
  const csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  const roots = { tools: root.querySelector('[data-tree="tools"]'), classifications: root.querySelector('[data-tree="classifications"]') };
  const preview = root.querySelector("[data-preview]");
  const status = root.querySelector(".oe-status");
  const review = root.querySelector("[data-review]");
  const reviewBody = root.querySelector("[data-review-body]");
  const jsonError = document.querySelector("[data-json-error]");
  let initial = textarea.value;
  let model;
  try {
    model = textarea.value.trim() ? parse(textarea.value) : { tools: [], classifications: [] };
  } catch (error) {
    return; // the JSON view alone until it parses (a form re-shown with a typing error)
  }
  let confirmed = false;
  let submitter = null;

  const say = (text, isError = false) => {
    status.textContent = text;
    status.classList.toggle("oe-error", isError);
  };
  const sync = () => {
    textarea.value = serialize(model);
    jsonError.hidden = true;
    renderPreview(preview, model);
    confirmed = false;
  };
  const redraw = (focusPath, focusAction) => {
    renderTree(roots, model, config);
    sync();
    if (focusPath) {
      const row = `[data-path="${focusPath.join(".")}"] > .oe-row`;
      const target = root.querySelector(focusAction ? `${row} [data-action="${focusAction}"]` : `${row} input[type=text]`);
      if (target) target.focus();
    }
  };

  root.hidden = false;
  document.querySelector("[data-advanced]").open = false;
  redraw();
  initial = textarea.value;

  root.querySelector(".oe-toolbar").addEventListener("click", (event) => {
    const kind = event.target.dataset && event.target.dataset.add;
    if (!kind) return;
    const path = addNode(model, [], kind, config.palette);
    redraw(path);
    say(`Added a ${kind === "tool" ? "tool" : "question"}: name it.`);
  });

  const onEdit = (event) => {
    const path = pathOf(event.target);
    const field = event.target.dataset.field;
    if (!path || !field) return;
    const value = event.target.type === "checkbox" ? event.target.checked : event.target.value;
    setField(model, path, field, value);
    if (field === "type" || field === "tool") redraw(path); else sync();
  };
  for (const ul of Object.values(roots)) {
    ul.addEventListener("input", (event) => { if (event.target.type === "text" || event.target.type === "color") onEdit(event); });
    ul.addEventListener("change", (event) => { if (event.target.type !== "text" && event.target.type !== "color") onEdit(event); });
    ul.addEventListener("click", async (event) => {
      const action = event.target.dataset && event.target.dataset.action;
      const path = action ? pathOf(event.target) : null;
      if (!path) return;
      const node = nodeAt(model, path);
      const name = kindOf(path) === "option" ? node.value : node.name;
      if (action === "add-classification") redraw(addNode(model, path, "classification", config.palette));
      else if (action === "add-option") redraw(addNode(model, path, "option", config.palette));
      else if (action === "up" || action === "down") redraw(moveNode(model, path, action === "up" ? -1 : 1), action);
      else if (action === "archive") {
        node.archived = !node.archived;
        redraw(path, "archive");
        say(node.archived ? `“${name}” archived: hidden from new work, kept on existing labels.` : `“${name}” is back.`);
      } else if (action === "remove") {
        await removeChecked(path, name);
      }
    });
  }

  async function removeChecked(path, name) {
    const saved = schemaIdsUnder(nodeAt(model, path));
    if (saved.length) {
      say(`Checking whether labels use “${name}”…`);
      let answer;
      try {
        answer = await checkTree(checkUrl, csrf, withoutNode(model, path));
      } catch (error) {
        say(`Could not check whether labels use “${name}” (${error.message}); nothing removed. Try again.`, true);
        return;
      }
      if (answer.in_use) {
        say(`Not removed: ${answer.in_use.message}`, true);
        return;
      }
    }
    removeNode(model, path);
    redraw();
    say(`Removed “${name}”.`);
  }

  textarea.addEventListener("input", () => {
    try {
      model = parse(textarea.value);
    } catch (error) {
      jsonError.textContent = `Not applied to the editor yet: ${error.message}`;
      jsonError.hidden = false;
      return;
    }
    jsonError.hidden = true;
    renderTree(roots, model, config);
    renderPreview(preview, model);
    confirmed = false;
  });

  form.addEventListener("submit", async (event) => {
    if (confirmed) return;
    event.preventDefault();
    submitter = event.submitter || null;
    review.hidden = false;
    reviewBody.replaceChildren();
    reviewBody.textContent = "Comparing with the current version…";
    const confirm = review.querySelector("[data-confirm-save]");
    confirm.disabled = true;
    let tree;
    try {
      tree = parse(textarea.value);
    } catch (error) {
      reviewBody.textContent = `The JSON is not valid: ${error.message}`;
      return;
    }
    try {
      const answer = await checkTree(checkUrl, csrf, tree);
      confirm.disabled = !renderReview(reviewBody, answer);
    } catch (error) {
      reviewBody.textContent = `Could not compare with the current version (${error.message}). You can still save: the server checks the tree again.`;
      confirm.disabled = false;
    }
    review.scrollIntoView({ block: "nearest" });
    if (!confirm.disabled) confirm.focus();
  });
  review.querySelector("[data-confirm-save]").addEventListener("click", () => {
    confirmed = true;
    window.removeEventListener("beforeunload", guard);
    form.requestSubmit(submitter && submitter.form === form ? submitter : undefined);
  });
  review.querySelector("[data-keep-editing]").addEventListener("click", () => { review.hidden = true; });

  function guard(event) {
    if (textarea.value !== initial && !confirmed) {
      event.preventDefault();
      event.returnValue = "";
    }
  }
  window.addEventListener("beforeunload", guard);
}

if (root && textarea) start();
