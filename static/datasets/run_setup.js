// Model run setup: upload predictions (NDJSON or COCO results JSON) with progress and per-line errors, and attach a
// project's ground truth.
import {
  downloadErrorsCsv, errorMessage, fillErrorTable, formatBytes, pollJob, postJson, readConfig, send, setText, show,
} from "./common.js";

const config = readConfig("run-config");
const input = document.getElementById("predictions-file");
const start = document.getElementById("predictions-start");
const box = document.getElementById("predictions-progress-box");
const phase = document.getElementById("predictions-phase");
const bar = document.getElementById("predictions-progress");
const summary = document.getElementById("predictions-summary");
const message = document.getElementById("predictions-message");
const errorsBox = document.getElementById("predictions-errors");
const errorTable = document.getElementById("predictions-error-table").querySelector("tbody");
const predictionCount = document.getElementById("prediction-count");
let errors = [];

function fail(node, text) { setText(node, text); show(node, true); }

function typeOf(file) {
  const extension = (file.name.split(".").pop() || "").toLowerCase();
  if (extension === "ndjson" || extension === "jsonl") return "application/x-ndjson";
  if (extension === "json") return "application/json";
  return "";
}

function check(file) {
  const type = typeOf(file);
  if (!type) return "Choose an .ndjson/.jsonl file or a COCO results .json file.";
  if (file.size === 0) return "The file is empty.";
  const limit = type === "application/json" ? config.maxCocoBytes : config.maxImportBytes;
  if (file.size > limit) return "The file is " + formatBytes(file.size) + ", more than the limit of " + formatBytes(limit) + ".";
  return "";
}

function showResult(result) {
  bar.max = 1;
  bar.value = 1;
  setText(summary, result.created + " created · " + result.updated + " updated · " + result.failed + " not imported");
  errors = result.errors || [];
  setText(document.getElementById("predictions-error-count"), "(" + result.failed + ")");
  fillErrorTable(errorTable, errors, [(e) => e.line, (e) => e.message]);
  show(errorsBox, errors.length > 0);
  setText(predictionCount, String(Number(predictionCount.textContent) + result.created));
}

input.addEventListener("change", () => {
  show(message, false);
  show(box, false);  // a new file: the last result no longer applies
  show(errorsBox, false);
  const file = input.files[0];
  const problem = file ? check(file) : "";
  if (problem) fail(message, problem);
  start.disabled = !file || Boolean(problem);
});

start.addEventListener("click", async () => {
  const file = input.files[0];
  if (!file || check(file)) return;
  start.disabled = true;
  show(message, false);
  show(errorsBox, false);
  show(box, true);
  setText(phase, "Sending " + file.name);
  setText(summary, "");
  let answer;
  try {
    answer = await send("POST", "/api/v1/model_runs/" + config.run + "/predictions", file, {
      contentType: typeOf(file),
      onProgress: (loaded, total) => {
        bar.max = total;
        bar.value = loaded;
        setText(summary, formatBytes(loaded) + " of " + formatBytes(total));
        if (loaded >= total) setText(phase, "Importing " + file.name);
      },
    });
  } catch (error) {
    show(box, false);
    fail(message, "The connection dropped before the server answered. Uploading the same file again is safe.");
    start.disabled = false;
    return;
  }
  try {
    if (answer.status === 200) {
      setText(phase, "Imported " + file.name);
      showResult(answer.body);
    } else if (answer.status === 202) {
      setText(phase, "Importing " + file.name + " in the background");
      const job = await pollJob(answer.body.job, (done, total) => {
        bar.max = Math.max(total, 1);
        bar.value = done;
        setText(summary, formatBytes(done) + " of " + formatBytes(total) + " imported");
      });
      if (job.status === "succeeded") showResult(job.result);
      else { show(box, false); fail(message, "The import failed: " + (job.error || "unknown error") + "."); }
    } else {
      show(box, false);
      fail(message, "Nothing was imported: " + errorMessage(answer));
    }
  } catch (error) {
    fail(message, "Lost track of the import: " + error.message + ". Reload the page to see the prediction count.");
  }
  start.disabled = false;
});

document.getElementById("predictions-errors-csv").addEventListener("click", async () => {
  try { await downloadErrorsCsv(config.errorsCsvUrl, errors, "prediction-errors"); }
  catch (error) { fail(message, "Could not build the CSV file: " + error.message); }
});

const gtForm = document.getElementById("gt-form");
if (gtForm) {
  const gtMessage = document.getElementById("gt-message");
  const gtSummary = document.getElementById("gt-summary");
  const button = document.getElementById("gt-submit");
  gtForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    show(gtMessage, false);
    button.disabled = true;
    setText(gtSummary, "Taking the snapshot of the project's done labels…");
    let answer;
    try {
      answer = await postJson("/api/v1/model_runs/" + config.run + "/ground_truth", {project: gtForm.project.value});
    } catch (error) {
      answer = null;
    }
    button.disabled = false;
    if (!answer || answer.status !== 201) {
      setText(gtSummary, "");
      fail(gtMessage, answer ? errorMessage(answer) : "The connection dropped: attach again.");
      return;
    }
    const rows = answer.body.rows ?? answer.body.ground_truth_rows ?? 0;
    setText(document.getElementById("gt-count"), String(rows));
    if (!rows) {
      setText(gtSummary, "");
      fail(gtMessage, "The project has no finished (done) labels yet: label or review some rows first, then attach again.");
      return;
    }
    const mark = document.createElement("span");
    mark.className = "done-mark";
    mark.textContent = "✓";
    gtSummary.replaceChildren(mark, document.createTextNode(" " + rows + " row(s) attached."));
    if (Number(predictionCount.textContent) > 0) {
      setText(document.getElementById("metrics-state"), "Predictions and ground truth are in place: the run page computes the metrics.");
    }
  });
}
