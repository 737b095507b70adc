/* TDP video labeling: a frame-accurate player (the probed frame table, never a rounded rate), tracks of keyframes
 * drawn on a canvas over the video, a timeline, and the submit of the video label document
 * (docs/api-extensions.md, "Video labels").
 *
 * Frame-accurate: frame f is shown by seeking to the middle of its display interval (frame_times[f] .. [f + 1]),
 * and the current frame is read back from the frame table (requestVideoFrameCallback's mediaTime while playing).
 * Keys: ←/→ ±1 frame, Shift+←/→ ±10, Space play/pause, O outside from here, S split the track here, Delete
 * removes the track, Ctrl+Z undo (Ctrl+Shift+Z redo). Every change is kept in localStorage until the submit.
 * Editing a box on a frame makes a keyframe there; interpolated boxes are drawn dashed. */
import { keyOf, parseAnswers, serializeAnswers, summarizeAnswers } from "./answers.js";
import { h, readJson, typingTarget } from "./dom.js";
import { renderQuestions } from "./questions.js";
import { stepDelta } from "./stepper.js";
import { parseFrameAnswers, renderFrameAnswers, serializeFrameAnswers } from "./video-frame-answers.js";
import { Timeline } from "./video-timeline.js";
import { parseKeyframes, serializeTrack, setKeyframe, shapeAt, toggleOutside } from "./video-tracks.js";

const $ = (id) => document.getElementById(id);
const SPEEDS = [0.25, 0.5, 1, 2, 4];
const HANDLE = 8;

export async function createVideoEditor() {
  const asset = $("asset");
  const form = $("label-form");
  const ontology = readJson("ontology-data", {});
  const boxTools = (ontology.tools || []).filter((t) => !t.archived && t.tool === "bbox");
  const questions = ontology.classifications || [];
  const info = await fetch(asset.dataset.videoUrl, { credentials: "same-origin" }).then((r) => r.json());
  if (info.status !== "ready") {
    asset.replaceChildren(h("p", { class: "error", role: "alert" }, info.status === "failed" ? `This video cannot be read: ${info.error}` : "This video is still being probed. Reload in a moment."));
    return null;
  }
  const times = info.frame_times;
  const count = info.frame_count;
  const width = info.width;
  const height = info.height;

  // ------------------------------------------------------------------------------------ state
  const readOnly = () => form.dataset.readonly === "true";
  let nextId = 1;
  let tracks = [];
  let selected = null;
  let frame = 0;
  let activeTool = boxTools[0] || null;
  let globalAnswers = {};
  let frameAnswers = [];
  const undo = [];
  const redo = [];
  const trackIds = new Set();
  const newTrackId = () => {
    let n = tracks.length + 1;
    while (trackIds.has(`t${n}`)) n += 1;
    trackIds.add(`t${n}`);
    return `t${n}`;
  };
  function load(doc) {
    tracks = [];
    for (const item of Array.isArray(doc) ? doc : []) {
      if (Array.isArray(item.keyframes)) {
        const toolNode = (ontology.tools || []).find((t) => t.schema_id === item.schema_id || t.name === item.name);
        if (!toolNode) continue;
        trackIds.add(item.track_id);
        tracks.push({ id: `o${nextId++}`, trackId: item.track_id, tool: toolNode.tool, toolNode, keyframes: parseKeyframes(toolNode.tool, item.keyframes), answers: parseAnswers(toolNode.classifications || [], item.classifications), prelabel: typeof item.prelabel === "string" ? item.prelabel : null });
      }
    }
    const rest = (doc || []).filter((item) => !item.keyframes);
    globalAnswers = parseAnswers(questions, rest.filter((item) => !Array.isArray(item.frames)));
    frameAnswers = parseFrameAnswers(questions, rest);
  }
  const snapshot = () => JSON.stringify(serialize());
  function serialize() {
    const out = tracks.map((t) => {
      const item = { name: t.toolNode.name, track_id: t.trackId, keyframes: serializeTrack(t) };
      const nested = serializeAnswers(t.toolNode.classifications || [], t.answers);
      if (nested.length) item.classifications = nested;
      if (t.prelabel) item.prelabel = t.prelabel; // the pre-label it started from (the server strips it, records provenance)
      return item;
    });
    return out.concat(serializeAnswers(questions, globalAnswers), serializeFrameAnswers(frameAnswers));
  }
  const draftKey = `tdp-video-draft:${form.dataset.taskId || ""}`;
  function saveDraft() {
    if (readOnly()) return;
    try {
      window.localStorage.setItem(draftKey, snapshot()); // never lose work: a copy in this browser until the submit
    } catch (err) {
      console.warn("The draft could not be kept in this browser", err);
    }
  }
  function commit(before) {
    undo.push(before);
    redo.length = 0;
    saveDraft();
    renderPanel();
    draw();
  }
  function restore(from, to) {
    if (!from.length) return;
    to.push(snapshot());
    load(JSON.parse(from.pop()));
    saveDraft();
    renderPanel();
    renderQuestionsPanel();
    draw();
  }

  // ------------------------------------------------------------------------------------ DOM
  const video = h("video", { id: "video-asset", muted: true, playsinline: true, preload: "auto", src: asset.dataset.streamUrl || asset.dataset.contentUrl });
  const canvas = h("canvas", { id: "video-overlay", class: "video-overlay", tabindex: "0", "aria-label": "Video frame: drag to draw a box" });
  const stage = h("div", { class: "video-stage" }, video, canvas);
  const frameInput = h("input", { id: "frame-input", type: "number", min: "0", max: String(count - 1), value: "0", "aria-label": "Frame" });
  const timeText = h("span", { id: "frame-time", class: "muted small" });
  const speed = h("select", { id: "speed", "aria-label": "Playback speed" }, ...SPEEDS.map((s) => h("option", { value: String(s), selected: s === 1 }, `${s}×`)));
  const button = (label, title, action, id) => {
    const b = h("button", { type: "button", class: "secondary small", title, id }, label);
    b.addEventListener("click", action);
    return b;
  };
  const playButton = button("Play", "Play / pause (Space)", () => togglePlay(), "play");
  const controls = h(
    "div",
    { class: "video-controls", role: "toolbar", "aria-label": "Player" },
    button("−10", "Back 10 frames (Shift+←)", () => goTo(frame - 10), "back10"),
    button("−1", "Previous frame (←)", () => goTo(frame - 1), "back1"),
    playButton,
    button("+1", "Next frame (→)", () => goTo(frame + 1), "fwd1"),
    button("+10", "Forward 10 frames (Shift+→)", () => goTo(frame + 10), "fwd10"),
    h("label", { for: "frame-input", class: "small" }, "Frame"),
    frameInput,
    h("span", { class: "small muted" }, `/ ${count - 1}`),
    speed,
    timeText,
  );
  const timelineNode = h("div", { id: "timeline", class: "timeline", "aria-label": "Timeline" });
  const legend = h("p", { class: "video-legend" }, "Solid box ◆ = keyframe on this frame · dashed ◇ = interpolated · ←/→ ±1 frame, Shift ±10, Space play, O outside");
  stage.style.setProperty("--video-aspect", String(width / height));
  asset.replaceChildren(stage, controls, timelineNode, legend);
  const ctx = canvas.getContext("2d");
  const timeline = new Timeline(timelineNode, { frameCount: count, seek: (f) => goTo(f), select: (id) => select(id) });

  // ------------------------------------------------------------------------------------ player
  let playing = false;
  const frameOf = (seconds) => {
    let lo = 0;
    let hi = count - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (times[mid] <= seconds + 1e-6) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
  const middleOf = (f) => (f + 1 < count ? (times[f] + times[f + 1]) / 2 : times[f] + 0.001);
  function goTo(target, fromPlayback) {
    frame = Math.min(Math.max(Math.round(Number(target) || 0), 0), count - 1);
    if (!fromPlayback) {
      if (playing) togglePlay();
      video.currentTime = middleOf(frame);
    }
    frameInput.value = String(frame);
    timeText.textContent = `${times[frame].toFixed(3)} s`;
    document.documentElement.dataset.videoFrame = String(frame);
    timeline.moveTo(frame);
    const from = $("frame-start");
    const to = $("frame-end");
    if (from && to && document.activeElement !== from && document.activeElement !== to) from.value = to.value = String(frame); // per-frame answers default to this frame
    draw();
  }
  function togglePlay() {
    playing = !playing;
    playButton.textContent = playing ? "Pause" : "Play";
    if (playing) {
      video.playbackRate = Number(speed.value);
      video.play();
      const onFrame = (_now, meta) => {
        if (!playing) return;
        goTo(frameOf(meta.mediaTime), true);
        video.requestVideoFrameCallback(onFrame);
      };
      video.requestVideoFrameCallback(onFrame);
    } else {
      video.pause();
      goTo(frameOf(video.currentTime));
    }
  }
  video.addEventListener("ended", () => playing && togglePlay());
  speed.addEventListener("change", () => (video.playbackRate = Number(speed.value)));
  frameInput.addEventListener("change", () => goTo(frameInput.value));
  video.addEventListener("seeked", () => draw());

  // ------------------------------------------------------------------------------------ drawing
  const scale = () => canvas.width / width;
  function fit() {
    const rect = video.getBoundingClientRect();
    canvas.width = Math.max(1, Math.round(rect.width));
    canvas.height = Math.max(1, Math.round(rect.height));
    draw();
  }
  const numbers = () => new Map(tracks.map((t, i) => [t.id, i + 1]));
  function draw(preview) {
    const k = scale();
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    const labels = numbers();
    for (const track of tracks) {
      const at = shapeAt(track, frame);
      if (!at) continue;
      const g = at.geom;
      ctx.strokeStyle = track.toolNode.color || "#e6194b";
      ctx.lineWidth = track.id === selected ? 3 : 2;
      ctx.setLineDash(at.keyframe ? [] : [6, 4]); // interpolated: dashed
      ctx.strokeRect(g.left * k, g.top * k, g.width * k, g.height * k);
      ctx.setLineDash([]);
      ctx.fillStyle = ctx.strokeStyle;
      ctx.font = "12px sans-serif";
      ctx.fillText(`${labels.get(track.id)} ${at.keyframe ? "◆" : "◇"}`, g.left * k + 3, g.top * k + 13);
      if (track.id === selected) ctx.fillRect((g.left + g.width) * k - HANDLE / 2, (g.top + g.height) * k - HANDLE / 2, HANDLE, HANDLE);
    }
    if (preview) {
      ctx.strokeStyle = "#fff";
      ctx.setLineDash([4, 3]);
      ctx.strokeRect(preview.left * k, preview.top * k, preview.width * k, preview.height * k);
      ctx.setLineDash([]);
    }
  }
  const toImage = (event) => {
    const rect = canvas.getBoundingClientRect();
    const k = scale();
    return { x: Math.min(Math.max((event.clientX - rect.left) / k, 0), width), y: Math.min(Math.max((event.clientY - rect.top) / k, 0), height) };
  };
  function hit(p) {
    for (let i = tracks.length - 1; i >= 0; i -= 1) {
      const at = shapeAt(tracks[i], frame);
      if (!at) continue;
      const g = at.geom;
      const handle = HANDLE / scale();
      if (Math.abs(p.x - (g.left + g.width)) < handle && Math.abs(p.y - (g.top + g.height)) < handle) return { track: tracks[i], g, mode: "resize" };
      if (p.x >= g.left && p.x <= g.left + g.width && p.y >= g.top && p.y <= g.top + g.height) return { track: tracks[i], g, mode: "move" };
    }
    return null;
  }
  let drag = null;
  canvas.addEventListener("pointerdown", (event) => {
    if (form.dataset.readonly === "true") return;
    canvas.focus();
    if (playing) togglePlay();
    const p = toImage(event);
    const target = hit(p);
    canvas.setPointerCapture(event.pointerId);
    if (target) {
      select(target.track.id);
      drag = { ...target, start: p, before: snapshot() };
    } else if (activeTool) drag = { mode: "draw", start: p, before: snapshot() };
  });
  const rectOf = (a, b) => ({ left: Math.min(a.x, b.x), top: Math.min(a.y, b.y), width: Math.abs(a.x - b.x), height: Math.abs(a.y - b.y) });
  function dragged(p, d = drag) {
    const dx = p.x - d.start.x;
    const dy = p.y - d.start.y;
    const g = d.g;
    if (d.mode === "move") {
      return { left: Math.min(Math.max(g.left + dx, 0), width - g.width), top: Math.min(Math.max(g.top + dy, 0), height - g.height), width: g.width, height: g.height };
    }
    return { left: g.left, top: g.top, width: Math.max(1, Math.min(g.width + dx, width - g.left)), height: Math.max(1, Math.min(g.height + dy, height - g.top)) };
  }
  canvas.addEventListener("pointermove", (event) => {
    if (!drag) return;
    const p = toImage(event);
    if (drag.mode === "draw") draw(rectOf(drag.start, p));
    else {
      setKeyframe(drag.track, frame, dragged(p));
      drag.moved = true;
      draw();
    }
  });
  canvas.addEventListener("pointerup", (event) => {
    if (!drag) return;
    const p = toImage(event);
    const done = drag;
    drag = null;
    if (done.mode === "draw") {
      const box = rectOf(done.start, p);
      if (box.width < 2 || box.height < 2) return draw();
      const track = { id: `o${nextId++}`, trackId: newTrackId(), tool: "bbox", toolNode: activeTool, keyframes: [{ frame, geom: round(box) }], answers: {} };
      tracks.push(track);
      selected = track.id;
      commit(done.before);
    } else if (done.moved) {
      setKeyframe(done.track, frame, round(dragged(p, done)));
      commit(done.before);
    }
  });
  const round = (g) => ({ left: r2(g.left), top: r2(g.top), width: r2(g.width), height: r2(g.height) });
  const r2 = (v) => Math.round(v * 100) / 100;

  // ------------------------------------------------------------------------------------ panel
  const toolsNode = $("tools");
  const objectsNode = $("objects");
  function renderTools() {
    if (!boxTools.length) {
      toolsNode.replaceChildren(h("p", { class: "muted small" }, "This ontology has no box tool to track."));
      return;
    }
    toolsNode.replaceChildren(
      ...boxTools.map((tool) => {
        const b = h("button", { type: "button", class: tool === activeTool ? "tool active" : "tool", "aria-pressed": tool === activeTool ? "true" : "false" });
        b.textContent = `${tool.name} (box track)`;
        b.addEventListener("click", () => {
          activeTool = tool;
          renderTools();
        });
        return b;
      }),
    );
  }
  function select(id) {
    selected = id;
    renderPanel();
    draw();
  }
  function renderPanel() {
    const labels = numbers();
    $("object-count").textContent = String(tracks.length);
    objectsNode.replaceChildren(
      ...tracks.map((track) => {
        const name = h("button", { type: "button", class: "link object-name" });
        name.textContent = `${labels.get(track.id)}. ${track.toolNode.name} · ${track.trackId} · ${track.keyframes.length} keyframe(s)`;
        name.addEventListener("click", () => select(track.id));
        const row = h("li", { class: track.id === selected ? "object video-object selected" : "object video-object", "data-track": track.trackId }, name);
        if (readOnly()) {
          for (const line of summarizeAnswers(track.toolNode.classifications || [], track.answers)) {
            const p = h("p", { class: "small muted track-answer" });
            p.textContent = `${line.question}: ${line.answer}`;
            row.append(p);
          }
        }
        if (track.id === selected && !readOnly()) {
          renderQuestions(answersNode, track.toolNode.classifications || [], track.answers, `track.${track.id}`, () => {}, null);
          const actions = h("div", { class: "track-actions" }, button("Outside from here (O)", "The object leaves the picture at this frame", () => outside()), button("Split here (S)", "End the track here and go on as a new track", () => split(), "split-track"), button("Delete track", "Delete the track (Delete)", () => removeSelected()));
          row.append(actions, answersNode);
        }
        return row;
      }),
    );
    timeline.render(tracks, selected, labels);
    timeline.moveTo(frame);
  }
  const answersNode = h("div", { class: "questions track-questions" });
  const wholeNode = h("div", { class: "questions" });
  const frameNode = h("div", { id: "frame-answers" });
  $("questions").replaceChildren(h("p", { class: "panel-title small" }, "Whole video"), wholeNode, frameNode);
  function renderQuestionsPanel() {
    if (!questions.length) wholeNode.replaceChildren(h("p", { class: "muted small" }, "No classification questions."));
    else renderQuestions(wholeNode, questions, globalAnswers, "global", () => {}, null);
    renderFrameAnswersPanel();
  }
  function renderFrameAnswersPanel() {
    const change = (mutate) => {
      const before = snapshot();
      mutate();
      commit(before);
      renderFrameAnswersPanel();
    };
    renderFrameAnswers(frameNode, { entries: frameAnswers, questions, frame, frameCount: count, readOnly: readOnly(), change, seek: (f) => goTo(f) });
  }
  function outside() {
    if (readOnly()) return;
    const track = tracks.find((t) => t.id === selected);
    if (!track) return;
    const before = snapshot();
    toggleOutside(track, frame);
    commit(before);
  }
  /** Split the selected track at this frame: it ends here (outside), a new track goes on from here. */
  function split() {
    const track = tracks.find((t) => t.id === selected);
    const at = track && !readOnly() ? shapeAt(track, frame) : null;
    if (!at || frame === track.keyframes[0].frame) return;
    const before = snapshot();
    const later = track.keyframes.filter((k) => k.frame > frame);
    track.keyframes = track.keyframes.filter((k) => k.frame < frame).concat([{ frame, outside: true }]);
    const copy = { id: `o${nextId++}`, trackId: newTrackId(), tool: track.tool, toolNode: track.toolNode, keyframes: [{ frame, geom: at.geom }, ...later], answers: JSON.parse(JSON.stringify(track.answers)) };
    tracks.push(copy);
    selected = copy.id;
    commit(before);
  }
  function removeSelected() {
    if (!selected || readOnly()) return;
    const before = snapshot();
    tracks = tracks.filter((t) => t.id !== selected);
    selected = null;
    commit(before);
  }

  // ------------------------------------------------------------------------------------ keys and submit
  document.addEventListener("keydown", (event) => {
    if ((event.ctrlKey || event.metaKey) && event.key === "Enter" && form.dataset.submitUrl) {
      event.preventDefault();
      form.requestSubmit();
      return;
    }
    if (typingTarget(event.target)) return;
    const delta = stepDelta(event); // the same keys step slices in a DICOM series (stepper.js)
    if (delta) goTo(frame + delta);
    else if (event.key === " ") togglePlay();
    else if (event.key === "o" || event.key === "O") outside();
    else if (event.key === "s" || event.key === "S") split();
    else if (event.key === "Delete" || event.key === "Backspace") removeSelected();
    else if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "z") restore(event.shiftKey ? redo : undo, event.shiftKey ? undo : redo);
    else return;
    event.preventDefault();
  });
  const status = h("p", { id: "video-status", class: "small", role: "status", "aria-live": "polite" });
  if (form.dataset.submitUrl) form.querySelector(".submit-bar").prepend(status); // the review page posts its form
  const started = performance.now();
  const key = window.crypto.randomUUID ? window.crypto.randomUUID() : Array.from(window.crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join(""); // plain HTTP has no randomUUID
  form.addEventListener("submit", async (event) => {
    if (!form.dataset.submitUrl) return; // review: approve / reject post the form as it is
    event.preventDefault();
    status.textContent = "Sending…";
    status.className = "small";
    const csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
    const body = { annotations: serialize(), seconds_spent: Math.round((performance.now() - started) / 100) / 10 };
    let response;
    try {
      response = await fetch(form.dataset.submitUrl, {
        method: form.dataset.submitMethod || "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json", "Idempotency-Key": key, "X-CSRFToken": csrf },
        body: JSON.stringify(body),
      });
    } catch (err) {
      status.textContent = "Not sent: the connection failed. Your work is still here; try again.";
      status.className = "small error";
      return;
    }
    if (response.ok) {
      window.localStorage.removeItem(draftKey);
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
    status.textContent = `Not saved: ${error.message || response.status} ${items.map((e) => `${e.path}: ${e.message}`).join(" · ")}`;
    status.className = "small error";
  });

  const stored = readJson("annotations-data", []);
  const draft = readOnly() ? null : window.localStorage.getItem(draftKey);
  load(draft ? JSON.parse(draft) : stored);
  renderTools();
  renderPanel();
  renderQuestionsPanel();
  if (draft && draft !== JSON.stringify(stored)) status.textContent = "Restored your unsent work from this browser.";
  window.addEventListener("resize", fit);
  await new Promise((resolve) => {
    if (video.readyState >= 1) resolve();
    else video.addEventListener("loadedmetadata", resolve, { once: true });
  });
  fit();
  goTo(0);
  document.documentElement.dataset.editorReady = "true";
  const selectedTrackId = () => (tracks.find((t) => t.id === selected) || {}).trackId || null;
  return { goTo, serialize, frame: () => frame, keyOf, selectedTrackId };
}

window.tdpVideoEditor = createVideoEditor();
