/* TDP video labeling: a frame-accurate player (the probed frame table, never a rounded rate), tracks of keyframes
 * drawn on a canvas over the video, a timeline, and the submit of the video label document
 * (docs/api-extensions.md, "Video labels").
 *
 * Frame-accurate (video-player.js): frames are decoded ahead and kept, frame f is fetched by seeking to the middle of
 * its display interval (frame_times[f] .. [f + 1]), and a presented frame's index is read back from the frame table
 * (requestVideoFrameCallback's mediaTime).
 * Keys: ←/→ ±1 frame, Shift+←/→ ±10, Space play/pause, O outside from here, S split the track here, Delete
 * removes the track, Ctrl+Z undo (Ctrl+Shift+Z redo). Every change goes to the draft (drafts.js, via video-submit.js).
 * Editing a box on a frame makes a keyframe there; interpolated boxes are drawn dashed. */
import { keyOf, parseAnswers, serializeAnswers, summarizeAnswers } from "./answers.js";
import { h, readJson, typingTarget } from "./dom.js";
import { renderQuestions } from "./questions.js";
import { stepDelta } from "./stepper.js";
import { parseFrameAnswers, renderFrameAnswers, serializeFrameAnswers } from "./video-frame-answers.js";
import { HANDLE, PolygonDraft, TOOL_NAMES, TRACK_TOOLS, dragShape, drawShape, grab, roundShape } from "./video-draw.js";
import { Player } from "./video-player.js";
import { startVideoDrafts, startVideoSubmit } from "./video-submit.js";
import { Timeline } from "./video-timeline.js";
import { earlier, mergeKeyframes, parseKeyframes, serializeTrack, setKeyframe, shapeAt, toggleOutside } from "./video-tracks.js";

const $ = (id) => document.getElementById(id);
const SPEEDS = [0.25, 0.5, 1, 2, 4];

export async function createVideoEditor() {
  const asset = $("asset");
  const form = $("label-form");
  const ontology = readJson("ontology-data", {});
  const boxTools = (ontology.tools || []).filter((t) => !t.archived && TRACK_TOOLS.includes(t.tool)); // boxes, polygons, points
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
  let drafts = { changed: () => {} }; // video-submit.js: this browser at once, the server draft within seconds
  const saveDraft = () => !readOnly() && drafts.changed();
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
  const player = new Player({ src: asset.dataset.streamUrl || asset.dataset.contentUrl, times, frameCount: count, width, height, onFrame: (f) => frameChanged(f) });
  const video = player.video;
  const canvas = h("canvas", { id: "video-overlay", class: "video-overlay", tabindex: "0", "aria-label": "Video frame: draw with the chosen tool (box: drag; polygon: click the vertices; point: click)" });
  const stage = h("div", { class: "video-stage" }, player.decoder, video, player.picture, canvas);
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
  const legend = h("p", { class: "video-legend" }, "Solid ◆ = keyframe on this frame · dashed ◇ = interpolated · polygon: click vertices, close on the first (or Enter) · ←/→ ±1 frame, Shift ±10, Space play, O outside");
  stage.style.setProperty("--video-aspect", String(width / height));
  asset.replaceChildren(stage, controls, timelineNode, legend);
  const ctx = canvas.getContext("2d");
  const timeline = new Timeline(timelineNode, { frameCount: count, seek: (f) => goTo(f), select: (id) => select(id) });

  // ------------------------------------------------------------------------------------ player (video-player.js)
  const goTo = (target) => player.goTo(target);
  function frameChanged(f) {
    frame = f;
    frameInput.value = String(frame);
    timeText.textContent = `${times[frame].toFixed(3)} s`;
    timeline.moveTo(frame);
    playButton.textContent = player.playing ? "Pause" : "Play";
    const from = $("frame-start");
    const to = $("frame-end");
    if (from && to && document.activeElement !== from && document.activeElement !== to) from.value = to.value = String(frame); // per-frame answers default to this frame
    draw();
  }
  function togglePlay() {
    player.toggle(Number(speed.value));
    playButton.textContent = player.playing ? "Pause" : "Play";
  }
  video.addEventListener("ended", () => player.playing && togglePlay());
  speed.addEventListener("change", () => player.setRate(Number(speed.value)));
  frameInput.addEventListener("change", () => goTo(frameInput.value));

  // ------------------------------------------------------------------------------------ drawing
  const scale = () => canvas.width / width;
  function fit() {
    const rect = video.getBoundingClientRect();
    canvas.width = Math.max(1, Math.round(rect.width));
    canvas.height = Math.max(1, Math.round(rect.height));
    player.fit(rect.width, rect.height);
    draw();
  }
  const numbers = () => new Map(tracks.map((t, i) => [t.id, i + 1]));
  let polygon = null; // a polygon being drawn (video-draw.js PolygonDraft)
  function draw(preview) {
    const k = scale();
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    const labels = numbers();
    for (const track of tracks) {
      const at = shapeAt(track, frame);
      if (at) drawShape(ctx, track.tool, at.geom, k, { keyframe: at.keyframe, selected: track.id === selected, color: track.toolNode.color || "#e6194b", label: labels.get(track.id) });
    }
    if (preview && preview.width !== undefined) {
      ctx.strokeStyle = "#fff";
      ctx.setLineDash([4, 3]);
      ctx.strokeRect(preview.left * k, preview.top * k, preview.width * k, preview.height * k);
      ctx.setLineDash([]);
    }
    if (polygon) polygon.draw(ctx, k, preview && preview.x !== undefined ? preview : null);
  }
  const toImage = (event) => {
    const rect = canvas.getBoundingClientRect();
    const k = scale();
    return { x: Math.min(Math.max((event.clientX - rect.left) / k, 0), width), y: Math.min(Math.max((event.clientY - rect.top) / k, 0), height) };
  };
  function hit(p) {
    const tol = HANDLE / scale();
    for (let i = tracks.length - 1; i >= 0; i -= 1) {
      const at = shapeAt(tracks[i], frame);
      const grip = at && grab(tracks[i].tool, at.geom, p, tol);
      if (grip) return { track: tracks[i], g: at.geom, grip };
    }
    return null;
  }
  function addTrack(geom, before) {
    const track = { id: `o${nextId++}`, trackId: newTrackId(), tool: activeTool.tool, toolNode: activeTool, keyframes: [{ frame, geom: roundShape(activeTool.tool, geom) }], answers: {} };
    tracks.push(track);
    selected = track.id;
    commit(before);
  }
  function closePolygon() {
    const done = polygon;
    polygon = null;
    if (done && done.points.length >= 3) addTrack(done.points, done.before);
    else draw();
  }
  let drag = null;
  canvas.addEventListener("pointerdown", (event) => {
    if (form.dataset.readonly === "true") return;
    canvas.focus();
    if (player.playing) togglePlay();
    const p = toImage(event);
    if (polygon) {
      if (polygon.add(p, HANDLE / scale())) closePolygon();
      else draw(p);
      return;
    }
    const target = hit(p);
    if (target) {
      canvas.setPointerCapture(event.pointerId);
      select(target.track.id);
      drag = { ...target, start: p, before: snapshot() };
    } else if (activeTool && activeTool.tool === "point") addTrack(p, snapshot());
    else if (activeTool && activeTool.tool === "polygon") {
      polygon = new PolygonDraft();
      polygon.before = snapshot();
      polygon.add(p, 0);
      draw(p);
    } else if (activeTool) {
      canvas.setPointerCapture(event.pointerId);
      drag = { mode: "draw", start: p, before: snapshot() };
    }
  });
  canvas.addEventListener("dblclick", () => polygon && closePolygon());
  const rectOf = (a, b) => ({ left: Math.min(a.x, b.x), top: Math.min(a.y, b.y), width: Math.abs(a.x - b.x), height: Math.abs(a.y - b.y) });
  const dragged = (p, d) => dragShape(d.track.tool, d.g, d.grip, p.x - d.start.x, p.y - d.start.y, width, height);
  canvas.addEventListener("pointermove", (event) => {
    const p = toImage(event);
    if (polygon) return draw(p);
    if (!drag) return;
    if (drag.mode === "draw") draw(rectOf(drag.start, p));
    else {
      setKeyframe(drag.track, frame, dragged(p, drag));
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
      addTrack(box, done.before);
    } else if (done.moved) {
      setKeyframe(done.track, frame, roundShape(done.track.tool, dragged(p, done)));
      commit(done.before);
    }
  });
  canvas.addEventListener("keydown", (event) => {
    if (!polygon) return;
    if (event.key === "Enter") closePolygon();
    else if (event.key === "Escape") {
      polygon = null;
      draw();
    } else if (event.key === "Backspace") {
      polygon.points.pop();
      if (!polygon.points.length) polygon = null;
      draw();
    } else return;
    event.preventDefault();
    event.stopPropagation();
  });

  // ------------------------------------------------------------------------------------ panel
  const toolsNode = $("tools");
  const objectsNode = $("objects");
  function renderTools() {
    if (!boxTools.length) {
      toolsNode.replaceChildren(h("p", { class: "muted small" }, "This ontology has no box, polygon or point tool to track."));
      return;
    }
    toolsNode.replaceChildren(
      ...boxTools.map((tool) => {
        const b = h("button", { type: "button", class: tool === activeTool ? "tool active" : "tool", "aria-pressed": tool === activeTool ? "true" : "false" });
        b.textContent = `${tool.name} (${TOOL_NAMES[tool.tool]})`;
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
          const partners = tracks.filter((t) => t !== track && t.toolNode === track.toolNode && t.keyframes.length);
          if (partners.length && track.keyframes.length) {
            const choice = h("select", { id: "merge-with", "aria-label": "Track to merge with" }, ...partners.map((t) => h("option", { value: t.id }, `${labels.get(t.id)}. ${t.trackId}`)));
            const merge = button("Merge", "Merge the two tracks into one: the later one takes over from its first keyframe", () => mergeWith(choice.value), "merge-track");
            actions.append(h("span", { class: "merge-tracks" }, h("label", { for: "merge-with", class: "small" }, "Merge with"), choice, merge));
          }
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
  /** Merge the selected track with another of the same class: one track (the earlier one's id and answers), the
   * later one's keyframes from its first keyframe on (video-tracks.js mergeKeyframes). Undoable. */
  function mergeWith(otherId) {
    const a = tracks.find((t) => t.id === selected);
    const b = tracks.find((t) => t.id === otherId);
    if (!a || !b || a === b || a.toolNode !== b.toolNode || readOnly()) return;
    const before = snapshot();
    const kept = earlier(a, b);
    kept.keyframes = mergeKeyframes(a, b);
    tracks = tracks.filter((t) => t !== (kept === a ? b : a));
    selected = kept.id;
    commit(before);
    status.textContent = `Merged into track ${kept.trackId}.`;
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
  const elapsedSeconds = () => (performance.now() - started) / 1000;
  load(readJson("annotations-data", []));
  renderTools();
  renderPanel();
  renderQuestionsPanel();
  const setDocument = (list) => {
    const before = snapshot();
    load(list);
    undo.push(before);
    redo.length = 0;
    renderPanel();
    renderQuestionsPanel();
    draw();
  };
  drafts = startVideoDrafts({ form, getDocument: serialize, setDocument, elapsedSeconds }, status);
  startVideoSubmit({ form, status, serialize, elapsedSeconds, drafts: drafts.drafts });
  await drafts.ready;
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
