// "Add to a project as a batch": the rows stored on this page (by global key) or every row of the dataset that is
// not yet in the project.
import {errorMessage, postJson, setText, show} from "./common.js";

export function setupBatch(config) {
  const form = document.getElementById("batch-form");
  const keys = new Set();
  const count = document.getElementById("keys-count");
  const scopeKeys = document.getElementById("scope-keys");
  function stored(newKeys) {
    for (const key of newKeys) keys.add(key);
    setText(count, String(keys.size));
    if (scopeKeys && keys.size) {
      if (scopeKeys.disabled) scopeKeys.checked = true;
      scopeKeys.disabled = false;
    }
  }
  if (!form) return stored;
  const button = document.getElementById("batch-submit");
  const result = document.getElementById("batch-result");
  const message = document.getElementById("batch-message");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const payload = {
      project: data.get("project"),
      name: data.get("name"),
      priority: Number(data.get("priority")),
      scope: data.get("scope"),
    };
    if (payload.scope === "keys") payload.global_keys = Array.from(keys);
    button.disabled = true;
    show(message, false);
    result.className = "";
    setText(result, "Creating the batch…");
    let answer;
    try {
      answer = await postJson(config.batchUrl, payload);
    } catch (error) {
      answer = null;
    }
    button.disabled = false;
    if (!answer || answer.status !== 200) {
      setText(result, "");
      setText(message, answer ? errorMessage(answer) : "The connection dropped: check the project, then try again.");
      show(message, true);
      return;
    }
    const r = answer.body;
    const link = document.createElement("a");
    link.href = r.project_url;
    link.textContent = r.project_name;
    const text = "Batch “" + r.name + "” (priority " + r.priority + "): " + r.added + " row(s) queued in ";
    const tail = r.already_in_project ? " (" + r.already_in_project + " were in the project already)." : ".";
    result.className = "success";
    result.replaceChildren(document.createTextNode(text), link, document.createTextNode(tail));
  });
  return stored;
}
