// Model run setup: upload predictions (NDJSON or COCO results JSON) with progress and per-line errors, and attach a
// project's ground truth.
import {errorMessage, formatBytes, postJson, readConfig, setText, show} from "./common.js";
import {extensionOf, fileImport} from "./file_import.js";

const config = readConfig("run-config");
const predictionCount = document.getElementById("prediction-count");

function fail(node, text) { setText(node, text); show(node, true); }

function typeOf(file) {
  const extension = extensionOf(file);
  if (extension === "ndjson" || extension === "jsonl") return "application/x-ndjson";
  if (extension === "json") return "application/json";
  return "";
}

fileImport({
  prefix: "predictions",
  url: "/api/v1/model_runs/" + config.run + "/predictions",
  typeOf,
  check(file) {
    const type = typeOf(file);
    if (!type) return "Choose an .ndjson/.jsonl file or a COCO results .json file.";
    if (file.size === 0) return "The file is empty.";
    const limit = type === "application/json" ? config.maxCocoBytes : config.maxImportBytes;
    if (file.size > limit) return "The file is " + formatBytes(file.size) + ", more than the limit of " + formatBytes(limit) + ".";
    return "";
  },
  errorColumns: [(e) => e.line, (e) => e.message],
  csv: {url: config.errorsCsvUrl, name: "prediction-errors"},
  dropped: "The connection dropped before the server answered. Uploading the same file again is safe.",
  lostTrack: "Reload the page to see the prediction count.",
  onResult: (result) => setText(predictionCount, String(Number(predictionCount.textContent) + result.created)),
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
