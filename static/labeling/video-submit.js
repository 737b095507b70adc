/* The video editor's submit and drafts. Drafts are the image editor's (drafts.js: a copy in this browser at once,
 * the server draft `PUT /api/v1/tasks/{id}/draft` within seconds, the newer one restored on open, kept through a
 * failed submit, dropped after a successful one); this module gives drafts.js the editor API it uses. */
import { startDrafts } from "./drafts.js";
import { h } from "./dom.js";

/** `doc`: {form, getDocument, setDocument(list), elapsedSeconds}; returns the drafts (null on pages without). */
export function startVideoDrafts(doc, status) {
  const listeners = [];
  const adapter = {
    form: doc.form,
    ready: Promise.resolve(),
    getDocument: doc.getDocument,
    setDocument: (list) => doc.setDocument(list),
    onChange: (callback) => listeners.push(callback),
    showMessage(text, kind) {
      status.textContent = text;
      status.className = kind === "warning" || kind === "error" ? "small error" : "small";
    },
    elapsedSeconds: doc.elapsedSeconds,
  };
  const drafts = doc.form.dataset.readonly === "true" ? null : startDrafts(adapter);
  return {
    drafts,
    ready: drafts ? drafts.ready : Promise.resolve(),
    changed: () => {
      const list = doc.getDocument();
      for (const callback of listeners) callback(list);
    },
  };
}

/** Post the label (fetch + Idempotency-Key); the work stays (and its draft keeps saving) when it fails. */
export function startVideoSubmit({ form, status, serialize, elapsedSeconds, drafts }) {
  const key = window.crypto.randomUUID ? window.crypto.randomUUID() : Array.from(window.crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join(""); // plain HTTP has no randomUUID
  const failed = (text) => {
    status.textContent = text;
    status.className = "small error";
    if (drafts) drafts.release();
  };
  form.addEventListener("submit", async (event) => {
    if (!form.dataset.submitUrl) return; // review: approve / reject post the form as it is
    event.preventDefault();
    status.textContent = "Sending…";
    status.className = "small";
    const csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
    const body = { annotations: serialize(), seconds_spent: Math.round(elapsedSeconds() * 10) / 10 };
    if (drafts) await drafts.hold(); // no draft save crosses the submit
    let response;
    try {
      response = await fetch(form.dataset.submitUrl, {
        method: form.dataset.submitMethod || "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json", "Idempotency-Key": key, "X-CSRFToken": csrf },
        body: JSON.stringify(body),
      });
    } catch (err) {
      failed("Not sent: the connection failed. Your work is still here (and in your draft); try again.");
      return;
    }
    if (response.ok) {
      if (drafts) drafts.submitted();
      status.textContent = "Label submitted.";
      document.documentElement.dataset.videoSubmitted = "true";
      const next = h("form", { method: "post", action: form.dataset.nextUrl, hidden: true }, h("input", { type: "hidden", name: "csrfmiddlewaretoken", value: csrf }), h("input", { type: "hidden", name: "after", value: "submitted" }));
      document.body.append(next);
      next.submit();
      return;
    }
    const data = await response.json().catch(() => null);
    const error = (data && data.error) || {};
    const items = (error.details && error.details.annotations) || [];
    failed(`Not saved: ${error.message || response.status} ${items.map((e) => `${e.path}: ${e.message}`).join(" · ")}`);
  });
}
