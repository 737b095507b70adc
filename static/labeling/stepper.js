/* Stepping through a sequence with the keyboard, shared by the video editor (frames) and the DICOM series viewer
 * (slices): → / ← one step, Shift+→ / Shift+← ten steps. PageDown / PageUp step once as well (radiology viewers'
 * habit); the video editor ignores them (`withPages: false`). */
export const BIG_STEP = 10;

/** The step a key asks for (+n, −n) or 0 when it is not a step key. Modified keys (Ctrl, Alt, Meta) are not steps. */
export function stepDelta(event, { withPages = false } = {}) {
  if (event.ctrlKey || event.metaKey || event.altKey) return 0;
  const size = event.shiftKey ? BIG_STEP : 1;
  if (event.key === "ArrowRight") return size;
  if (event.key === "ArrowLeft") return -size;
  if (withPages && event.key === "PageDown") return 1;
  if (withPages && event.key === "PageUp") return -1;
  return 0;
}
