/* DICOM rows in the editor (issue #27): step through the slices of the row's series and change the window.
 *
 * Every slice is rendered by the server from the de-identified DICOM file with the exact DICOM window function
 * (`/api/v1/data_rows/<id>/dicom/slices/<n>?center=&width=`): the browser only ever gets 8-bit PNGs, so a window
 * narrower than the stored values' range shows real detail (a CSS filter on the 8-bit preview could not). Slices are
 * stepped as the video editor steps frames (stepper.js: ←/→, Shift ±10, PageUp/PageDown, and buttons); the window
 * comes from the row's presets or from the level/width sliders. An object drawn on slice n is stored with
 * `"slice": n`; only the objects of the slice shown are drawn. The view (zoom, pan) stays as it is across slices. */
import { clamp, h, typingTarget } from "./dom.js";
import { stepDelta } from "./stepper.js";

const CT_RANGE = [-1024, 3071]; // Hounsfield units a CT stores
const DEBOUNCE_MS = 60; // slider drags ask the server for at most one rendering per frame or so

function prettyName(name) {
  const text = String(name || "window").replace(/_/g, " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

const fmt = (v) => String(Math.round(v * 10) / 10);

/** The slider ranges: every preset's window inside, and the whole CT range for CT. */
export function windowRanges(presets, modality) {
  let lo = Infinity;
  let hi = -Infinity;
  for (const p of presets) {
    lo = Math.min(lo, p.center - p.width / 2);
    hi = Math.max(hi, p.center + p.width / 2);
  }
  if (String(modality).toUpperCase() === "CT") {
    lo = Math.min(lo, CT_RANGE[0]);
    hi = Math.max(hi, CT_RANGE[1]);
  }
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || hi <= lo) [lo, hi] = [0, 4095];
  return { level: [Math.floor(lo), Math.ceil(hi)], width: [1, Math.ceil((hi - lo) * 1.5)] };
}

export function startDicomStack(api, info, rowId) {
  const { viewer, model } = api;
  const asset = viewer.asset;
  const dicom = info.dicom || {};
  const count = Math.max(1, Number(dicom.slice_count) || 1);
  const own = clamp(Number(dicom.slice) || 1, 1, count);
  const presets = (dicom.windows || []).filter((w) => Number.isFinite(w.center) && Number.isFinite(w.width) && w.width >= 1);
  const ranges = windowRanges(presets, dicom.modality);
  let slice = own;
  let win = presets.length ? { center: presets[0].center, width: presets[0].width } : null;
  let timer = 0;
  let requested = null;
  model.setStack(own, own);
  api.refresh();

  // ------------------------------------------------------------------------------------ controls
  const button = (label, title, onClick, id) => {
    const node = h("button", { type: "button", class: "zoom-button", title, "aria-label": title, id }, label);
    node.addEventListener("click", onClick);
    node.addEventListener("mousedown", (e) => e.preventDefault()); // keep the keys on the page
    return node;
  };
  const sliceText = h("span", { class: "stack-slice", id: "slice-label", "aria-live": "polite" });
  const presetSelect = h(
    "select",
    { id: "window-preset", "aria-label": "Window preset" },
    ...presets.map((p, i) => h("option", { value: String(i) }, `${prettyName(p.name)} (${fmt(p.center)} / ${fmt(p.width)})`)),
    h("option", { value: "custom" }, "Custom"),
  );
  const slider = (id, label, [min, max], value) =>
    h("input", { type: "range", id, min: String(min), max: String(max), step: "1", value: String(value), "aria-label": label });
  const level = slider("window-level", "Window level (center)", ranges.level, win ? win.center : 0);
  const width = slider("window-width", "Window width", ranges.width, win ? win.width : 1);
  const readout = h("span", { class: "stack-readout", id: "window-readout" });
  const bar = h(
    "div",
    { class: "stack-bar", id: "stack-bar", role: "toolbar", "aria-label": "Series and window" },
    button("‹", "Previous slice (← or PageUp)", () => goTo(slice - 1), "slice-prev"),
    sliceText,
    button("›", "Next slice (→ or PageDown)", () => goTo(slice + 1), "slice-next"),
    h("label", { class: "filter", for: "window-preset" }, h("span", null, "Window")),
    presetSelect,
    h("label", { class: "filter", title: "Level: the value shown mid-grey" }, h("span", null, "L"), level),
    h("label", { class: "filter", title: "Width: the range of values from black to white" }, h("span", null, "W"), width),
    readout,
  );
  asset.append(bar);
  if (count === 1) bar.classList.add("single");

  presetSelect.addEventListener("change", () => {
    const preset = presets[Number(presetSelect.value)];
    if (!preset) return;
    setWindow(preset.center, preset.width, 0);
  });
  const fromSliders = () => setWindow(Number(level.value), Number(width.value), DEBOUNCE_MS);
  level.addEventListener("input", fromSliders);
  width.addEventListener("input", fromSliders);

  // ------------------------------------------------------------------------------------ state → view
  function source() {
    const query = win ? `?center=${encodeURIComponent(fmt(win.center))}&width=${encodeURIComponent(fmt(win.width))}` : "";
    return `/api/v1/data_rows/${encodeURIComponent(rowId)}/dicom/slices/${slice}${query}`;
  }

  function load(delay) {
    window.clearTimeout(timer);
    asset.dataset.sliceLoading = "true";
    timer = window.setTimeout(() => {
      requested = { slice, window: win ? `${fmt(win.center)},${fmt(win.width)}` : "" };
      viewer.image.src = source();
    }, delay);
  }

  viewer.image.addEventListener("load", () => {
    if (!requested) return;
    asset.dataset.slice = String(requested.slice);
    asset.dataset.window = requested.window;
    delete asset.dataset.sliceLoading;
  });
  viewer.image.addEventListener("error", () => {
    if (!requested) return;
    delete asset.dataset.sliceLoading;
    api.showMessage(`Slice ${requested.slice} could not be loaded. Step to it again, or reload the page.`, "error");
  });

  function describe() {
    sliceText.textContent = `Slice ${slice} / ${count}${slice === own ? " · this task" : ""}`;
    const match = presets.findIndex((p) => win && p.center === win.center && p.width === win.width);
    presetSelect.value = match >= 0 ? String(match) : "custom";
    if (win) {
      level.value = String(win.center);
      width.value = String(win.width);
      readout.textContent = `${fmt(win.center)} / ${fmt(win.width)}`;
    }
  }

  function setWindow(center, widthValue, delay) {
    win = { center, width: Math.max(1, widthValue) };
    describe();
    load(delay);
  }

  function goTo(target) {
    const next = clamp(Math.round(target), 1, count);
    if (next === slice) return;
    api.cancelDrawing();
    slice = next;
    model.slice = next;
    const selected = model.selectedObject();
    if (selected && model.isHidden(selected)) model.selected = null;
    api.refresh();
    describe();
    load(0);
  }

  document.addEventListener("keydown", (event) => {
    if (typingTarget(event.target) || event.target.type === "range" || !api.shortcuts.node.hidden) return;
    const delta = stepDelta(event, { withPages: true });
    if (!delta) return;
    event.preventDefault();
    goTo(slice + delta);
  });

  asset.dataset.slice = String(own);
  asset.dataset.window = win ? `${fmt(win.center)},${fmt(win.width)}` : "";
  asset.dataset.sliceCount = String(count);
  describe();
  return { goTo, setWindow, slice: () => slice, window: () => win };
}
