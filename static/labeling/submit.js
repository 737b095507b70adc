/* Submit that cannot lose work.
 *
 * The label is sent with `fetch` and an `Idempotency-Key` made when the page opened, so a retry after a lost
 * answer stores the label once. A network failure or a 5xx keeps everything on the page, says so in plain words
 * and retries by itself (2 s, 4 s, 8 s … up to a minute) or at once with the Retry button. A 4xx shows the
 * server's message next to the object or question it names (editor.markError). Before sending an empty label, or
 * one with required answers missing, the page asks first. Without JavaScript the form posts as before. */
import { missingRequired } from "./answers.js";

const MAX_BACKOFF_MS = 60000;

function newKey() {
  if (window.crypto && typeof window.crypto.randomUUID === "function") return window.crypto.randomUUID();
  const bytes = window.crypto.getRandomValues(new Uint8Array(16)); // plain-HTTP pages have no randomUUID
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function button(text, className, onClick) {
  const node = document.createElement("button");
  node.type = "button";
  node.className = className;
  node.textContent = text;
  node.addEventListener("click", onClick);
  return node;
}

/** What a labeler should confirm before sending: nothing at all, or required answers left open. */
export function submitWarning(model) {
  const doc = model.serialize();
  if (!doc.length) return "This label has no objects and no answers.";
  let missing = missingRequired(model.questions, model.global);
  for (const object of model.objects) missing += missingRequired(object.tool.classifications || [], object.answers);
  if (missing) return `${missing} required answer${missing === 1 ? " is" : "s are"} missing.`;
  return "";
}

export function startSubmit(editor, drafts) {
  const form = editor.form;
  const url = form && form.dataset.submitUrl;
  if (!url) return null;
  const method = (form.dataset.submitMethod || "POST").toUpperCase();
  const key = newKey(); // one per page: every retry of this submit is the same request to the server
  const csrfInput = form.querySelector("input[name=csrfmiddlewaretoken]");
  const submitButton = editor.submitButton;
  const buttonText = submitButton ? submitButton.textContent : "Submit";

  const panel = document.createElement("div");
  panel.className = "submit-status";
  panel.id = "submit-status";
  panel.setAttribute("role", "alert");
  panel.hidden = true;
  const bar = form.querySelector(".submit-bar");
  (bar || form).before(panel);

  let sending = false;
  let attempt = 0;
  let retryTimer = null;
  let countdownTimer = null;

  function show(kind, text, ...actions) {
    panel.className = `submit-status ${kind}`;
    const message = document.createElement("p");
    message.textContent = text;
    const row = document.createElement("div");
    row.className = "submit-actions";
    row.append(...actions);
    panel.replaceChildren(message, ...(actions.length ? [row] : []));
    panel.hidden = false;
  }

  function hide() {
    panel.hidden = true;
    panel.replaceChildren();
  }

  function busy(on) {
    sending = on;
    if (!submitButton) return;
    submitButton.disabled = on;
    submitButton.textContent = on ? "Submitting…" : buttonText;
  }

  function stopRetry() {
    window.clearTimeout(retryTimer);
    window.clearInterval(countdownTimer);
    retryTimer = null;
  }

  /** The label is stored: go on as the form post would (the next task; after an edit, back to the current one). */
  function proceed() {
    if (drafts) drafts.submitted();
    const next = document.createElement("form");
    next.method = "post";
    next.action = form.dataset.nextUrl || window.location.pathname;
    next.hidden = true;
    for (const [name, value] of [
      ["csrfmiddlewaretoken", csrfInput ? csrfInput.value : ""],
      ["after", method === "PATCH" ? "edited" : "submitted"],
    ]) {
      const input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      input.value = value;
      next.append(input);
    }
    document.body.append(next);
    next.submit();
  }

  function failed(reason) {
    attempt += 1;
    const delay = Math.min(2000 * 2 ** (attempt - 1), MAX_BACKOFF_MS);
    let left = Math.round(delay / 1000);
    const retryNow = button("Retry now", "", () => send());
    const text = () =>
      `Not sent: ${reason} Your work is still here and saved in this browser. Trying again in ${left} s…`;
    show("error", text(), retryNow);
    retryNow.focus();
    stopRetry();
    countdownTimer = window.setInterval(() => {
      left = Math.max(left - 1, 0);
      const p = panel.querySelector("p");
      if (p) p.textContent = text();
    }, 1000);
    retryTimer = window.setTimeout(() => send(), delay);
  }

  function refused(status, data) {
    const error = (data && data.error) || {};
    const message = error.message || `The server refused the label (${status}).`;
    const details = error.details || {};
    const items = Array.isArray(details.annotations) ? details.annotations : [];
    editor.clearErrors();
    let placed = 0;
    for (const item of items) {
      if (item && typeof item === "object" && editor.markError(item.path || "", item.message || message)) placed += 1;
    }
    const where = placed ? ` ${placed === 1 ? "It is" : "They are"} marked next to the object or question concerned.` : "";
    const unplaced = items
      .filter((item) => item && typeof item === "object" && item.path === "")
      .map((item) => item.message)
      .join(" ");
    show("error", `Not saved: ${message}${where}${unplaced ? ` ${unplaced}` : ""} Nothing on the page was lost.`);
  }

  async function send() {
    if (sending) return;
    stopRetry();
    editor.finishDrawing();
    busy(true);
    show("pending", attempt ? "Sending again…" : "Sending…");
    if (drafts) await drafts.hold();
    const body = {
      annotations: editor.getDocument(),
      seconds_spent: Math.round(editor.elapsedSeconds() * 10) / 10,
    };
    let response;
    try {
      response = await fetch(url, {
        method,
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json",
          "Idempotency-Key": key,
          "X-CSRFToken": csrfInput ? csrfInput.value : "",
        },
        body: JSON.stringify(body),
      });
    } catch (err) {
      busy(false);
      if (drafts) drafts.release();
      failed("the connection to the server failed (are you offline?).");
      return;
    }
    const data = await response.json().catch(() => null);
    busy(false);
    if (!response.ok && drafts) drafts.release();
    if (response.ok) {
      show("success", method === "PATCH" ? "Saved as a new revision." : "Label submitted.");
      proceed();
      return;
    }
    if (response.status >= 500 || response.status === 429) {
      failed(`the server could not store it just now (error ${response.status}).`);
      return;
    }
    attempt = 0;
    refused(response.status, data);
  }

  function confirmFirst(warning) {
    const go = button("Submit anyway", "", () => {
      hide();
      send();
    });
    const back = button("Keep working", "secondary", () => hide());
    show("warning", `${warning} Submit anyway?`, go, back);
    back.focus();
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault(); // the editor fills the hidden fields for the no-JS path; here fetch sends them
    if (sending || editor.isReadOnly()) return;
    const warning = event.submitter && event.submitter.dataset.confirmed ? "" : submitWarning(editor.model);
    if (warning) confirmFirst(warning);
    else send();
  });

  return { send, key };
}
