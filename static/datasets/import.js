// The dataset import page: tabs, then the four ways to add data, and the batch form they feed.
import {readConfig, setText} from "./common.js";
import {setupBatch} from "./batch.js";
import {setupBucket} from "./bucket.js";
import {setupRows} from "./rows.js";
import {setupTileService} from "./tile_service.js";
import {setupUpload} from "./upload.js";

const config = readConfig("import-config");
const tabs = Array.from(document.querySelectorAll("[role=tab]"));

function select(tab) {
  for (const other of tabs) {
    const chosen = other === tab;
    other.setAttribute("aria-selected", String(chosen));
    other.tabIndex = chosen ? 0 : -1;
    document.getElementById(other.getAttribute("aria-controls")).hidden = !chosen;
  }
}

tabs.forEach((tab, index) => {
  tab.addEventListener("click", () => select(tab));
  tab.addEventListener("keydown", (event) => {
    const step = event.key === "ArrowRight" ? 1 : event.key === "ArrowLeft" ? -1 : 0;
    if (!step) return;
    const next = tabs[(index + step + tabs.length) % tabs.length];
    select(next);
    next.focus();
  });
});
select(tabs[0]);

const rowCount = document.getElementById("row-count");
const bump = (n) => {
  const current = Number(rowCount.textContent); // "about 2.1 million" (an estimate) stays as it is
  if (Number.isFinite(current)) setText(rowCount, String(current + n));
};
const stored = setupBatch(config);
setupUpload(config, (keys, created) => { stored(keys); bump(created); });
setupRows(config, (result) => bump(result.created));
setupBucket(config, (keys, created) => { stored(keys); bump(created); });
setupTileService(config, (keys, created) => { stored(keys); bump(created); });
