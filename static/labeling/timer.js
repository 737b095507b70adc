/* Active time on the task, the figure analytics trusts: the clock runs while the person works and stops after
 * IDLE_MS without input; a longer pause is not counted. A rejected submit (the 400 re-render) or a reload of the
 * same task resumes from the time already spent. The server also bounds it by how long the lease was open. */
const IDLE_MS = 60 * 1000;

export function startTimer(node, taskId) {
  const timerKey = `tdp-label-timer:${taskId || ""}`;
  let activeMs = 0;
  let lastActivity = Date.now();
  let lastTick = lastActivity;
  try {
    const navigation = window.performance.getEntriesByType("navigation")[0];
    const resumed = !!document.getElementById("server-errors") || (navigation && navigation.type === "reload");
    const stored = Number(window.sessionStorage.getItem(timerKey));
    if (resumed && Number.isFinite(stored) && stored > 0 && stored < 12 * 3600 * 1000) activeMs = stored;
    for (let i = window.sessionStorage.length - 1; i >= 0; i -= 1) {
      const key = window.sessionStorage.key(i);
      if (key && key.startsWith("tdp-label-timer:") && key !== timerKey) window.sessionStorage.removeItem(key);
    }
  } catch (err) {
    /* storage disabled: count from page load */
  }
  const touch = () => {
    lastActivity = Date.now();
  };
  for (const type of ["pointerdown", "pointermove", "keydown", "wheel", "input", "touchstart"]) {
    document.addEventListener(type, touch, { capture: true, passive: true });
  }
  function accumulate() {
    const now = Date.now();
    const activeUntil = Math.min(now, lastActivity + IDLE_MS);
    if (activeUntil > lastTick) activeMs += activeUntil - lastTick;
    lastTick = now;
    try {
      window.sessionStorage.setItem(timerKey, String(activeMs));
    } catch (err) {
      /* storage disabled */
    }
  }
  const seconds = () => {
    accumulate();
    return activeMs / 1000;
  };
  function tick() {
    if (!node) return;
    const total = Math.floor(seconds());
    const hours = Math.floor(total / 3600);
    const minutes = Math.floor((total % 3600) / 60);
    const secs = String(total % 60).padStart(2, "0");
    node.textContent = hours
      ? `${hours}:${String(minutes).padStart(2, "0")}:${secs}`
      : `${String(minutes).padStart(2, "0")}:${secs}`;
  }
  tick();
  window.setInterval(tick, 1000);
  return { seconds };
}
