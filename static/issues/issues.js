/* Issues on the label and review pages: markers pinned on the image (image-pixel coordinates, placed in % of the
 * stage so they follow any zoom), a thread panel (reply, resolve, reopen) and a composer that can pin a new issue by
 * clicking on the image. Talks to the REST API with the session and the page's CSRF token. Every user-given text is
 * inserted with textContent, never as HTML.
 */
(function () {
  "use strict";

  const panel = document.getElementById("issues-panel");
  const form = document.getElementById("label-form");
  if (!panel || !form) return;
  const taskId = form.dataset.taskId;
  const listUrl = `/api/v1/tasks/${taskId}/issues`;
  const csrfInput = document.querySelector("input[name=csrfmiddlewaretoken]");
  const csrf = csrfInput ? csrfInput.value : "";
  const list = document.getElementById("issue-list");
  const openCount = document.getElementById("issue-open-count");
  const textArea = document.getElementById("issue-text");
  const pinButton = document.getElementById("pin-issue");
  const pinStatus = document.getElementById("issue-pin-status");
  const submit = document.getElementById("issue-submit");
  const objectButton = document.getElementById("pin-object-issue");

  let issues = [];
  let pinning = false;
  let pending = null; // {x, y} in image pixels
  let pendingObject = null; // {index, schema_id}: the object of the label (or of the draft) the issue is about
  let pendingVideo = null; // {frame, track_id?}: on a video, the frame (and the selected track) the issue is about
  // The video editor (static/labeling/video.js) sets a promise of its handle; null on other pages.
  const videoEditor = () => (window.tdpVideoEditor ? Promise.resolve(window.tdpVideoEditor) : Promise.resolve(null));
  let layer = null;
  let active = null;
  let hooked = false;

  function h(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value !== null && value !== undefined && value !== false) node.setAttribute(key, String(value));
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  async function api(url, method, body) {
    const response = await fetch(url, {
      method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = response.status === 204 ? null : await response.json().catch(() => null);
    if (!response.ok) {
      throw new Error((data && data.error && data.error.message) || `The request failed (${response.status}).`);
    }
    return data;
  }

  function showError(error) {
    pinStatus.textContent = error.message;
    pinStatus.classList.add("error");
  }

  // ------------------------------------------------------------------------------------------------ markers
  function imageSize() {
    const overlay = document.getElementById("overlay");
    if (!overlay || !overlay.viewBox || !overlay.viewBox.baseVal || !overlay.viewBox.baseVal.width) return null;
    return { w: overlay.viewBox.baseVal.width, h: overlay.viewBox.baseVal.height, overlay };
  }

  function ensureLayer() {
    const stage = document.getElementById("stage");
    if (!stage) return null;
    if (!hooked) {
      // Capture phase: while pinning, the click is ours and never reaches the drawing tools.
      stage.addEventListener("pointerdown", onStagePointerDown, true);
      hooked = true;
    }
    if (!layer || !stage.contains(layer)) {
      layer = h("div", { class: "issue-layer", id: "issue-layer" });
      stage.append(layer);
    }
    return layer;
  }

  function marker(position, number, classes, title) {
    const size = imageSize();
    const node = h("button", { type: "button", class: `issue-marker ${classes}`, title }, String(number));
    node.style.left = `${(position.x / size.w) * 100}%`;
    node.style.top = `${(position.y / size.h) * 100}%`;
    return node;
  }

  function renderMarkers() {
    const size = imageSize();
    if (!size || !ensureLayer()) return;
    const nodes = [];
    issues.forEach((issue, i) => {
      if (!issue.position) return;
      const node = marker(issue.position, i + 1, issue.status, issue.text);
      node.dataset.issueId = issue.id;
      if (issue.id === active) node.classList.add("active");
      node.addEventListener("pointerdown", (e) => e.stopPropagation());
      node.addEventListener("click", () => focusIssue(issue.id));
      nodes.push(node);
    });
    if (pending) nodes.push(marker(pending, "+", "pending", "New issue"));
    layer.replaceChildren(...nodes);
  }

  function onStagePointerDown(event) {
    if (!pinning || event.button !== 0) return;
    const size = imageSize();
    if (!size) return;
    event.preventDefault();
    event.stopPropagation();
    const rect = size.overlay.getBoundingClientRect();
    const clamp = (v, max) => Math.min(Math.max(v, 0), max);
    const x = clamp(((event.clientX - rect.left) * size.w) / rect.width, size.w);
    const y = clamp(((event.clientY - rect.top) * size.h) / rect.height, size.h);
    pending = { x: Math.round(x * 100) / 100, y: Math.round(y * 100) / 100 };
    setPinning(false);
    pinStatus.classList.remove("error");
    pinStatus.textContent = `Pinned at ${Math.round(pending.x)}, ${Math.round(pending.y)}`;
    renderMarkers();
    textArea.focus();
  }

  function setPinning(on) {
    pinning = on;
    if (pinButton) pinButton.setAttribute("aria-pressed", on ? "true" : "false");
    const stage = document.getElementById("stage");
    if (stage) stage.classList.toggle("pinning", on);
    if (on) pinStatus.textContent = "Click on the image where the issue is.";
  }

  // ------------------------------------------------------------------------------------------------ thread panel
  function focusIssue(id) {
    active = id;
    for (const item of list.querySelectorAll("li.issue")) {
      const on = item.dataset.issueId === id;
      item.classList.toggle("active", on);
      if (on) item.scrollIntoView({ block: "nearest" });
    }
    renderMarkers();
  }

  function renderList() {
    const open = issues.filter((i) => i.status === "open").length;
    openCount.textContent = String(open);
    if (!issues.length) {
      list.replaceChildren(h("li", { class: "muted small empty" }, "No issues on this asset."));
      return;
    }
    list.replaceChildren(...issues.map((issue, i) => renderIssue(issue, i + 1)));
  }

  function renderIssue(issue, number) {
    const item = h("li", { class: `issue ${issue.status}${issue.id === active ? " active" : ""}` });
    item.dataset.issueId = issue.id;
    const head = h(
      "div",
      { class: "issue-head" },
      h("span", { class: "issue-number" }, String(number)),
      h("strong", {}, issue.created_by.username),
      h("span", { class: `issue-status ${issue.status}` }, issue.status),
      issue.object ? h("span", { class: "muted small issue-object" }, `on ${issue.object.name} #${issue.object.index + 1}`) : null,
      issue.position && !issue.object ? h("span", { class: "muted small" }, "pinned") : null,
      issue.frame !== null && issue.frame !== undefined ? frameButton(issue) : null,
      h("a", { href: `/issues/${issue.id}/`, class: "small" }, "thread"),
    );
    head.addEventListener("click", (e) => {
      if (e.target.tagName !== "A") focusIssue(issue.id);
    });
    const comments = h("ul", { class: "issue-comments" });
    for (const comment of issue.comments) {
      comments.append(
        h("li", { class: "issue-comment" }, h("strong", {}, comment.author.username), " ", h("span", {}, comment.text)),
      );
    }
    const reply = h("textarea", { rows: "1", maxlength: "10000", placeholder: "Reply…", class: "issue-reply-text" });
    const replyButton = h("button", { type: "button", class: "secondary small issue-reply" }, "Reply");
    replyButton.addEventListener("click", async () => {
      if (!reply.value.trim()) return;
      replyButton.disabled = true;
      try {
        await api(`/api/v1/issues/${issue.id}/comments`, "POST", { text: reply.value });
        active = issue.id;
        await load();
      } catch (error) {
        showError(error);
        replyButton.disabled = false;
      }
    });
    const stateButton = h(
      "button",
      { type: "button", class: `secondary small ${issue.status === "open" ? "issue-resolve" : "issue-reopen"}` },
      issue.status === "open" ? "Resolve" : "Reopen",
    );
    stateButton.addEventListener("click", async () => {
      stateButton.disabled = true;
      try {
        await api(`/api/v1/issues/${issue.id}/${issue.status === "open" ? "resolve" : "reopen"}`, "POST");
        active = issue.id;
        await load();
      } catch (error) {
        showError(error);
        stateButton.disabled = false;
      }
    });
    item.append(
      head,
      h("p", { class: "issue-text" }, issue.text),
      comments,
      h("div", { class: "issue-actions" }, reply, replyButton, stateButton),
    );
    return item;
  }

  // On a video: "frame 12 · car-1" jumps the player to that frame (and selects nothing else).
  function frameButton(issue) {
    const label = `frame ${issue.frame}${issue.track_id ? ` · ${issue.track_id}` : ""}`;
    const button = h("button", { type: "button", class: "secondary small issue-frame", title: "Show this frame" }, label);
    button.dataset.frame = String(issue.frame);
    button.addEventListener("click", async (event) => {
      event.stopPropagation();
      const editor = await videoEditor();
      if (editor) editor.goTo(issue.frame);
      focusIssue(issue.id);
    });
    return button;
  }

  async function load() {
    try {
      issues = await api(listUrl, "GET");
    } catch (error) {
      showError(error);
      return;
    }
    renderList();
    renderMarkers();
  }

  // ------------------------------------------------------------------------------------------------ composer
  if (pinButton) pinButton.addEventListener("click", () => setPinning(!pinning));
  // Pin on an object: the one selected in the editor, by its place in the label and its feature's schema id.
  if (objectButton) {
    objectButton.addEventListener("click", async () => {
      const video = await videoEditor();
      if (video) {
        // A video: pin on the current frame and, when one is selected, its track.
        const trackId = video.selectedTrackId();
        pendingVideo = trackId ? { frame: video.frame(), track_id: trackId } : { frame: video.frame() };
        objectButton.setAttribute("aria-pressed", "true");
        pinStatus.classList.remove("error");
        pinStatus.textContent = `On frame ${pendingVideo.frame}${trackId ? `, track ${trackId}` : ""}`;
        textArea.focus();
        return;
      }
      const editor = window.tdpEditor;
      const object = editor && editor.model.selectedObject();
      pinStatus.classList.remove("error");
      if (!object) {
        pendingObject = null;
        objectButton.setAttribute("aria-pressed", "false");
        pinStatus.textContent = "Select an object first (click it, or press Tab), then pin.";
        return;
      }
      const index = editor.model.objects.indexOf(object);
      pendingObject = { index, schema_id: object.tool.schema_id || undefined };
      objectButton.setAttribute("aria-pressed", "true");
      pinStatus.textContent = `On ${object.tool.name} #${index + 1}`;
      textArea.focus();
    });
  }
  submit.addEventListener("click", async () => {
    const text = textArea.value.trim();
    if (!text) {
      pinStatus.textContent = "Write what the issue is first.";
      textArea.focus();
      return;
    }
    submit.disabled = true;
    try {
      const body = { text, position: pending };
      if (pendingObject) {
        // Before a label exists the server finds the object in my draft: make sure it has the latest one.
        const drafts = window.tdpEditor && window.tdpEditor.drafts;
        if (drafts) await drafts.flush();
        body.annotation = pendingObject;
      }
      if (pendingVideo) Object.assign(body, pendingVideo);
      const issue = await api(listUrl, "POST", body);
      textArea.value = "";
      pending = null;
      pendingObject = null;
      pendingVideo = null;
      if (objectButton) objectButton.setAttribute("aria-pressed", "false");
      pinStatus.classList.remove("error");
      pinStatus.textContent = "Issue opened.";
      active = issue.id;
      await load();
    } catch (error) {
      showError(error);
    } finally {
      submit.disabled = false;
    }
  });
  // Keys typed in the issue boxes are text, not drawing shortcuts.
  panel.addEventListener("keydown", (event) => event.stopPropagation());

  // The image loads asynchronously (label.js sets the overlay's viewBox once it knows the size).
  const asset = document.getElementById("asset");
  if (asset && asset.dataset.mediaType !== "text") {
    const waitForImage = window.setInterval(() => {
      if (imageSize()) {
        window.clearInterval(waitForImage);
        renderMarkers();
      }
    }, 150);
  }
  load();
})();
