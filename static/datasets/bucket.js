// Rows from a storage integration's bucket prefix (one row per object; the server lists and imports).
import {errorMessage, postJson, setText, show} from "./common.js";

export function setupBucket(config, onStored) {
  const form = document.getElementById("bucket-form");
  if (!form) return;  // no storage integration: the page says how to add one
  const button = document.getElementById("bucket-start");
  const box = document.getElementById("bucket-progress-box");
  const summary = document.getElementById("bucket-summary");
  const message = document.getElementById("bucket-message");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    button.disabled = true;
    show(message, false);
    setText(summary, "");
    show(box, true);
    const data = new FormData(form);
    let answer;
    try {
      answer = await postJson("/api/v1/datasets/" + config.dataset + "/data_rows/from_storage", {
        integration: data.get("integration"),
        prefix: data.get("prefix") || "",
        media_type: data.get("media_type"),
        max_keys: Number(data.get("max_keys") || 10000),
      });
    } catch (error) {
      answer = null;
    }
    show(box, false);
    button.disabled = false;
    if (!answer) {
      setText(message, "The connection dropped. Adding the same prefix again is safe: known keys are updated, not duplicated.");
      show(message, true);
      return;
    }
    if (answer.status !== 200) {
      setText(message, errorMessage(answer));
      show(message, true);
      return;
    }
    const r = answer.body;
    const parts = [r.listed + " object(s) listed", r.created + " row(s) created", r.updated + " updated"];
    if (r.skipped) parts.push(r.skipped + " skipped (other file types)");
    if (r.failed) parts.push(r.failed + " not imported: " + r.errors.slice(0, 3).map((e) => e.message).join("; "));
    if (r.truncated) parts.push("more objects remain: raise the limit or narrow the prefix");
    if (!r.listed) parts.splice(0, parts.length, "No object under this prefix.");
    setText(summary, parts.join(" · "));
    onStored(r.global_keys, r.created);
  });
}
