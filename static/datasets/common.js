// Shared helpers of the import pages: CSRF, XHR with upload progress, error messages, error tables, CSV download.

export function csrfToken() {
  const input = document.querySelector("input[name=csrfmiddlewaretoken]");
  return input ? input.value : "";
}

export function readConfig(id) {
  const node = document.getElementById(id);
  return node ? JSON.parse(node.textContent) : {};
}

// One request with upload progress (fetch has none). Resolves {status, body} for every HTTP answer; rejects only
// when the network failed (status 0), so callers can retry that case.
export function send(method, url, body, {contentType, onProgress, timeoutMs} = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, url);
    xhr.setRequestHeader("X-CSRFToken", csrfToken());
    xhr.setRequestHeader("Accept", "application/json");
    if (contentType) xhr.setRequestHeader("Content-Type", contentType);
    if (timeoutMs) xhr.timeout = timeoutMs;
    if (onProgress) xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onProgress(event.loaded, event.total);
    });
    xhr.addEventListener("load", () => {
      let parsed = null;
      try { parsed = JSON.parse(xhr.responseText); } catch (error) { parsed = null; }
      resolve({status: xhr.status, body: parsed, text: xhr.responseText});
    });
    const fail = (kind) => () => reject(Object.assign(new Error("network " + kind), {network: true}));
    xhr.addEventListener("error", fail("error"));
    xhr.addEventListener("timeout", fail("timeout"));
    xhr.addEventListener("abort", fail("abort"));
    xhr.send(body);
  });
}

export async function postJson(url, payload) {
  return send("POST", url, JSON.stringify(payload), {contentType: "application/json"});
}

// A sentence for an error answer: the API's {"error": {"message", "details"}} shape, or the HTTP status.
export function errorMessage(answer) {
  const error = answer && answer.body && answer.body.error;
  if (error && error.message) {
    const details = error.details && typeof error.details === "object" && !Array.isArray(error.details)
      ? Object.entries(error.details).filter(([key]) => key !== "limit" && key !== "accepted")
        .map(([key, value]) => key + ": " + (Array.isArray(value) ? value.join(" ") : String(value))).join("; ")
      : "";
    return details ? error.message + " (" + details + ")" : error.message;
  }
  if (answer && answer.status === 413) return "The file is too large for the server.";
  if (answer && answer.status >= 500) return "The server failed (" + answer.status + "). Nothing was lost: try again.";
  return "The request failed" + (answer && answer.status ? " (HTTP " + answer.status + ")" : "") + ".";
}

export function show(node, visible) { if (node) node.hidden = !visible; }

export function setText(node, text) { if (node) node.textContent = text; }

export function formatBytes(bytes) {
  if (bytes < 1024) return bytes + " B";
  if (bytes < 1024 * 1024) return (bytes / 1024).toFixed(1) + " KB";
  if (bytes < 1024 * 1024 * 1024) return (bytes / 1024 / 1024).toFixed(1) + " MB";
  return (bytes / 1024 / 1024 / 1024).toFixed(2) + " GB";
}

export const sleep = (ms) => new Promise((resolve) => window.setTimeout(resolve, ms));

// Fill a table body with error rows: columns are [value getter] functions; text only (textContent).
export function fillErrorTable(tbody, errors, columns, limit = 500) {
  const rows = errors.slice(0, limit).map((error) => {
    const tr = document.createElement("tr");
    for (const column of columns) {
      const td = document.createElement("td");
      const value = column(error);
      td.textContent = value === null || value === undefined ? "" : String(value);
      tr.append(td);
    }
    return tr;
  });
  if (errors.length > limit) {
    const tr = document.createElement("tr");
    const td = document.createElement("td");
    td.colSpan = columns.length;
    td.className = "muted";
    td.textContent = "… and " + (errors.length - limit) + " more: download the CSV for all of them.";
    tr.append(td);
    rows.push(tr);
  }
  tbody.replaceChildren(...rows);
}

// Ask the server to write the errors as CSV (formula cells neutralised there) and save the file.
export async function downloadErrorsCsv(url, errors, name) {
  const answer = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: {"Content-Type": "application/json", "X-CSRFToken": csrfToken()},
    body: JSON.stringify({errors, name}),
  });
  if (!answer.ok) throw new Error("HTTP " + answer.status);
  const blob = await answer.blob();
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = name + ".csv";
  document.body.append(link);
  link.click();
  link.remove();
  window.setTimeout(() => URL.revokeObjectURL(link.href), 10000);
}

// Poll a background job until it ends; onProgress(done, total) on each tick. Resolves the finished job.
export async function pollJob(jobId, onProgress) {
  let failures = 0;
  for (;;) {
    await sleep(1000);
    let answer;
    try {
      answer = await send("GET", "/api/v1/jobs/" + jobId);
    } catch (error) {
      failures += 1;
      if (failures > 30) throw error;
      continue;  // the connection dropped: the job goes on on the server, ask again
    }
    if (answer.status !== 200) throw new Error(errorMessage(answer));
    const job = answer.body;
    if (onProgress) onProgress(job.progress.done, job.progress.total);
    if (job.status === "succeeded" || job.status === "failed") return job;
  }
}
