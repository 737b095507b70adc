/* Drafts: work on the label page is never lost.
 *
 * - Every change is kept at once in this browser (localStorage, keyed by user and task).
 * - It is saved to the server draft (`PUT /api/v1/tasks/{id}/draft`) about two seconds after the last change, and
 *   again when the page is hidden (tab switch, close), so another device or a re-claim of the task gets it back.
 * - On open, the newer of the local copy and the server draft is restored, and the page says so.
 * - After a successful submit the local copy is cleared (the server deletes its draft itself).
 * - Leaving the page while a change has not reached the server asks first.
 *
 * Uses only the editor API (getDocument, setDocument, onChange, showMessage, elapsedSeconds). The form carries the
 * draft URL, the task and the user in data attributes; pages without them (the review page) keep no drafts. */

const SAVE_AFTER_MS = 1800;
const RETRY_MS = 10000;

function csrfToken(form) {
  const input = form.querySelector("input[name=csrfmiddlewaretoken]");
  return input ? input.value : "";
}

function readLocal(key) {
  try {
    const value = JSON.parse(window.localStorage.getItem(key) || "null");
    return value && Array.isArray(value.annotations) ? value : null;
  } catch (err) {
    return null; // storage disabled or a damaged entry: the server draft still counts
  }
}

function timeOf(value) {
  const t = Date.parse(value || "");
  return Number.isFinite(t) ? t : 0;
}

function clock(ms) {
  return new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function describe(doc) {
  const objects = doc.filter((item) => item && (item.bbox || item.polygon || item.line || item.point || item.location || item.keyframes));
  const answers = doc.length - objects.length;
  const parts = [`${objects.length} object${objects.length === 1 ? "" : "s"}`];
  if (answers) parts.push(`${answers} answer${answers === 1 ? "" : "s"}`);
  return parts.join(" and ");
}

export function startDrafts(editor) {
  const form = editor.form;
  const url = form && form.dataset.draftUrl;
  if (!url || !form.dataset.taskId) return null;
  const key = `tdp-draft:${form.dataset.userId || "anonymous"}:${form.dataset.taskId}`;
  const headers = { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken(form) };
  const status = document.createElement("span");
  status.className = "draft-status muted small";
  status.id = "draft-status";
  status.setAttribute("aria-live", "polite");
  const bar = form.querySelector(".submit-bar");
  if (bar) bar.prepend(status);

  let revision = 0; // one more per change
  let serverRevision = 0; // the last revision the server has
  let timer = null;
  let saving = null;
  let serverSaves = true; // false once the server refused for good (another device is newer, no longer allowed)
  let done = false; // submitted: nothing more to keep
  let held = false; // a submit is on its way: no draft save may cross it (the server would refuse it, 403)

  const unsaved = () => !done && serverSaves && revision > serverRevision;
  const setStatus = (text) => {
    status.textContent = text;
  };

  function keepLocal(doc) {
    try {
      const entry = { annotations: doc, revision, saved_at: new Date().toISOString(), seconds: editor.elapsedSeconds() };
      window.localStorage.setItem(key, JSON.stringify(entry));
    } catch (err) {
      // Storage full or disabled: the server draft still follows within seconds.
    }
  }

  /** `leaving`: the page is going away; a small body may then outlive it (keepalive allows at most 64 KB). */
  async function save(leaving = false) {
    timer = null;
    if (done || held || !serverSaves || revision <= serverRevision) return;
    if (saving) {
      schedule(SAVE_AFTER_MS);
      return;
    }
    const sent = revision;
    const body = {
      annotations: editor.getDocument(),
      revision: sent,
      client_saved_at: new Date().toISOString(),
      seconds_spent: Math.round(editor.elapsedSeconds() * 10) / 10,
    };
    setStatus("Saving draft…");
    const payload = JSON.stringify(body);
    const keepalive = leaving && payload.length < 60000;
    saving = fetch(url, { method: "PUT", credentials: "same-origin", headers, body: payload, keepalive })
      .then(async (response) => {
        if (done) return;
        if (response.ok) {
          serverRevision = Math.max(serverRevision, sent);
          setStatus(revision > serverRevision ? "Unsaved changes" : `Draft saved ${clock(Date.now())}`);
          return;
        }
        const data = await response.json().catch(() => null);
        const message = (data && data.error && data.error.message) || `The draft was refused (${response.status}).`;
        if (response.status === 409 || response.status === 403 || response.status === 404) {
          serverSaves = false; // retrying would not help; this browser still keeps every change
          setStatus("Draft kept in this browser only");
          editor.showMessage(`${message} Your changes here are kept in this browser.`, "warning");
          return;
        }
        setStatus("Draft not saved yet (will retry)");
        schedule(RETRY_MS);
      })
      .catch(() => {
        if (done) return;
        setStatus("Offline: draft kept in this browser");
        schedule(RETRY_MS);
      })
      .finally(() => {
        saving = null;
      });
    await saving;
  }

  function schedule(delay) {
    window.clearTimeout(timer);
    timer = window.setTimeout(save, delay);
  }

  editor.onChange((doc) => {
    if (done) return;
    revision += 1;
    keepLocal(doc);
    setStatus("Unsaved changes");
    schedule(SAVE_AFTER_MS);
  });

  window.addEventListener("beforeunload", (event) => {
    if (!unsaved()) return;
    save(true); // keepalive: it may still reach the server while the page goes
    event.preventDefault();
    event.returnValue = ""; // the browser shows its own "Leave site?" question
  });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden" && unsaved()) save(true);
  });

  async function restore() {
    const local = readLocal(key);
    let server = null;
    try {
      if (form.dataset.serverDraft !== "0") {
        const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
        if (response.ok) server = await response.json();
      }
    } catch (err) {
      // Offline: the local copy is all there is.
    }
    if (server) serverRevision = server.revision || 0;
    const localTime = local ? timeOf(local.saved_at) : 0;
    const serverTime = server ? timeOf(server.client_saved_at || server.saved_at) : 0;
    const useLocal = local && (!server || localTime > serverTime);
    const chosen = useLocal ? local : server;
    revision = Math.max(serverRevision, local ? local.revision || 0 : 0);
    if (!chosen) return;
    const current = JSON.stringify(editor.getDocument());
    if (JSON.stringify(chosen.annotations) === current) {
      if (useLocal && revision > serverRevision) schedule(SAVE_AFTER_MS);
      return;
    }
    const where = useLocal ? "this browser" : "the server";
    editor.setDocument(chosen.annotations, { label: "restore draft" });
    revision = Math.max(revision, serverRevision) + (useLocal ? 1 : 0);
    if (!useLocal) serverRevision = revision;
    const when = clock((useLocal ? localTime : serverTime) || Date.now());
    editor.showMessage(
      `Restored your unsubmitted work from ${where} (saved ${when}): ${describe(chosen.annotations)}. Press Ctrl+Z to undo the restore.`,
      "success",
    );
    setStatus(useLocal ? "Unsaved changes" : `Draft saved ${when}`);
    if (useLocal) schedule(300);
  }

  return {
    ready: (editor.ready || Promise.resolve()).then(restore),
    /** Save now (before an issue is pinned on an object of the draft, for one). */
    async flush() {
      if (saving) await saving;
      await save();
    },
    unsaved,
    /** A submit starts: wait for a save on its way and start no other until `release()`. */
    async hold() {
      held = true;
      window.clearTimeout(timer);
      if (saving) await saving.catch(() => null);
    },
    /** The submit failed: saving resumes (the changes made meanwhile go to the server draft). */
    release() {
      held = false;
      if (unsaved()) schedule(SAVE_AFTER_MS);
    },
    /** The label is stored: forget the local copy and stop saving. */
    submitted() {
      done = true;
      window.clearTimeout(timer);
      try {
        window.localStorage.removeItem(key);
      } catch (err) {
        // nothing to clear
      }
      setStatus("");
    },
  };
}
