// Image upload: many files, drag and drop, one request per file with progress, retries after a dropped connection,
// files already stored skipped (by global key = file name), overall progress. Reports stored keys to `onStored`.
import {errorMessage, formatBytes, postJson, send, setText, show, sleep} from "./common.js";

const IMAGE = /\.(jpe?g|png|gif|webp|bmp|tiff?)$/i;
const CONCURRENCY = 3;
const RETRIES = 5;

export function setupUpload(config, onStored) {
  const zone = document.getElementById("drop-zone");
  const input = document.getElementById("upload-files");
  const start = document.getElementById("upload-start");
  const retry = document.getElementById("upload-retry");
  const clear = document.getElementById("upload-clear");
  const table = document.getElementById("upload-table");
  const tbody = table.querySelector("tbody");
  const overall = document.getElementById("upload-progress");
  const summary = document.getElementById("upload-summary");
  const skipExisting = document.getElementById("upload-skip-existing");
  const prefixInput = document.getElementById("upload-prefix");
  const items = [];  // {file, key, row, bar, status, state, sent}
  let running = false;

  function setState(item, state, text) {
    item.state = state;
    item.row.dataset.state = state;
    setText(item.status, text);
    if (state === "done" || state === "skipped") item.bar.value = item.bar.max;
    refresh();
  }

  function refresh() {
    const total = items.length;
    const finished = items.filter((i) => ["done", "skipped", "error"].includes(i.state)).length;
    const bytes = items.reduce((sum, i) => sum + i.file.size, 0) || 1;
    const sent = items.reduce((sum, i) => sum + (["done", "skipped"].includes(i.state) ? i.file.size : i.sent), 0);
    overall.max = bytes;
    overall.value = Math.min(sent, bytes);
    const count = (state) => items.filter((i) => i.state === state).length;
    const parts = [finished + " of " + total + " files"];
    if (count("done")) parts.push(count("done") + " uploaded");
    if (count("skipped")) parts.push(count("skipped") + " already stored");
    if (count("error")) parts.push(count("error") + " failed");
    setText(summary, parts.join(" · "));
    show(retry, !running && count("error") > 0);
    show(clear, !running && total > 0);
    start.disabled = running || !items.some((i) => i.state === "waiting");
  }

  function add(files) {
    const known = new Set(items.map((i) => i.key));
    for (const file of files) {
      const row = document.createElement("tr");
      const name = document.createElement("td");
      name.textContent = file.name;
      const size = document.createElement("td");
      size.textContent = formatBytes(file.size);
      const barCell = document.createElement("td");
      const bar = document.createElement("progress");
      bar.max = Math.max(file.size, 1);
      bar.value = 0;
      bar.setAttribute("aria-label", "Upload of " + file.name);
      barCell.append(bar);
      const status = document.createElement("td");
      status.className = "status";
      row.append(name, size, barCell, status);
      const item = {file, key: file.name, row, bar, status, state: "waiting", sent: 0};
      tbody.append(row);
      items.push(item);
      const problem = !IMAGE.test(file.name) && !(file.type || "").startsWith("image/") ? "Not an image file"
        : file.size > config.maxFileBytes ? "Larger than the limit of " + formatBytes(config.maxFileBytes)
          : known.has(item.key) ? "Same name as another file in the list" : "";
      if (problem) {
        item.permanent = true;
        setState(item, "error", problem + ": left out.");
      } else {
        known.add(item.key);
        setState(item, "waiting", "Waiting");
      }
    }
    show(table, items.length > 0);
    show(document.getElementById("upload-overall"), items.length > 0);
    refresh();
  }

  async function markExisting(waiting) {
    for (let i = 0; i < waiting.length; i += 500) {
      const chunk = waiting.slice(i, i + 500);
      let answer;
      for (let attempt = 0; ; attempt++) {
        try { answer = await postJson(config.existingUrl, {global_keys: chunk.map((item) => item.key)}); break; }
        catch (error) { if (attempt >= RETRIES) throw error; await sleep(1000 * 2 ** attempt); }
      }
      if (answer.status !== 200) throw new Error(errorMessage(answer));
      const existing = new Set(answer.body.existing);
      for (const item of chunk) if (existing.has(item.key)) setState(item, "skipped", "Already in the dataset: skipped.");
    }
  }

  async function uploadOne(item) {
    for (let attempt = 0; ; attempt++) {
      const form = new FormData();
      form.append("files", item.file, item.file.name);
      form.append("global_key", item.key);
      form.append("media_type", "image");
      setState(item, "sending", attempt ? "Retrying (" + attempt + ")…" : "Uploading…");
      let answer;
      try {
        answer = await send("POST", "/api/v1/datasets/" + config.dataset + "/uploads", form, {
          onProgress: (loaded) => { item.sent = loaded; item.bar.value = loaded; refresh(); },
          timeoutMs: 10 * 60 * 1000,
        });
      } catch (error) {
        answer = null;  // the connection dropped: retry below
      }
      if (answer && answer.status === 201) {
        const result = answer.body;
        if (result.failed) {
          const text = result.errors.map((e) => e.message).join("; ");
          item.permanent = true;  // the same file under the same key would fail again
          setState(item, "error", text.includes("another dataset")
            ? "This name is a row of another dataset (keys are unique in the organization): set a key prefix and add it again."
            : text);
          return;
        }
        setState(item, "done", result.updated ? "Replaced the stored file." : "Uploaded.");
        onStored([item.key], result.created);
        return;
      }
      const transient = !answer || answer.status >= 500 || answer.status === 429 || answer.status === 408;
      if (!transient) { item.permanent = true; setState(item, "error", errorMessage(answer)); return; }
      if (attempt >= RETRIES) {
        setState(item, "error", answer ? errorMessage(answer) : "The connection dropped; retry when it is back.");
        return;
      }
      item.sent = 0;
      item.bar.value = 0;
      setState(item, "sending", "Connection lost: retrying in " + 2 ** attempt + " s…");
      await sleep(1000 * 2 ** attempt);
    }
  }

  async function run() {
    if (running) return;
    running = true;
    refresh();
    const waiting = items.filter((i) => i.state === "waiting");
    const prefix = (prefixInput.value || "").trim();
    for (const item of waiting) item.key = prefix + item.file.name;
    try {
      if (skipExisting.checked) await markExisting(waiting);
    } catch (error) {
      setText(summary, "Could not check which files are stored: " + error.message);
      running = false;
      refresh();
      return;
    }
    const queue = waiting.filter((i) => i.state === "waiting");
    const skipped = waiting.filter((i) => i.state === "skipped").map((i) => i.key);
    if (skipped.length) onStored(skipped, 0);
    const worker = async () => { while (queue.length) await uploadOne(queue.shift()); };
    await Promise.all(Array.from({length: CONCURRENCY}, worker));
    running = false;
    refresh();
  }

  input.addEventListener("change", () => { add(Array.from(input.files)); input.value = ""; });
  zone.addEventListener("click", (event) => { if (event.target !== input) input.click(); });
  zone.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") { event.preventDefault(); input.click(); }
  });
  zone.addEventListener("dragover", (event) => { event.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    add(Array.from(event.dataTransfer.files));
  });
  start.addEventListener("click", run);
  retry.addEventListener("click", () => {
    for (const item of items) if (item.state === "error" && !item.permanent) {
      item.sent = 0;
      item.bar.value = 0;
      setState(item, "waiting", "Waiting");
    }
    run();
  });
  clear.addEventListener("click", () => { items.length = 0; tbody.replaceChildren(); show(table, false); refresh(); });
  window.addEventListener("online", () => { if (items.some((i) => i.state === "error")) retry.click(); });
  window.addEventListener("beforeunload", (event) => { if (running) { event.preventDefault(); event.returnValue = ""; } });
}
