// Rows file import: CSV / NDJSON / JSON sent as one body with upload progress; a large body is a background job
// (202) polled for progress. Per-row errors in a table and as a CSV file.
import {downloadErrorsCsv, errorMessage, fillErrorTable, formatBytes, pollJob, send, setText, show} from "./common.js";

const TYPES = {csv: "text/csv", ndjson: "application/x-ndjson", jsonl: "application/x-ndjson", json: "application/json"};

export function setupRows(config, onImported) {
  const input = document.getElementById("rows-file");
  const start = document.getElementById("rows-start");
  const box = document.getElementById("rows-progress-box");
  const phase = document.getElementById("rows-phase");
  const bar = document.getElementById("rows-progress");
  const summary = document.getElementById("rows-summary");
  const message = document.getElementById("rows-message");
  const errorsBox = document.getElementById("rows-errors");
  const errorCount = document.getElementById("rows-error-count");
  const errorTable = document.getElementById("rows-error-table").querySelector("tbody");
  const csvButton = document.getElementById("rows-errors-csv");
  let errors = [];

  function fail(text) {
    setText(message, text);
    show(message, true);
  }

  function check(file) {
    const extension = (file.name.split(".").pop() || "").toLowerCase();
    if (!TYPES[extension]) return "Choose a .csv, .ndjson, .jsonl or .json file (this one is ." + extension + ").";
    if (file.size === 0) return "The file is empty.";
    if (file.size > config.maxImportBytes) {
      return "The file is " + formatBytes(file.size) + ", more than the limit of " + formatBytes(config.maxImportBytes) + ": split it.";
    }
    return "";
  }

  function showResult(result) {
    bar.max = 1;
    bar.value = 1;
    const parts = [result.created + " created", result.updated + " updated", result.failed + " not imported"];
    setText(summary, parts.join(" · "));
    errors = result.errors || [];
    setText(errorCount, "(" + result.failed + (result.errors_truncated ? ", the first " + errors.length + " listed" : "") + ")");
    fillErrorTable(errorTable, errors, [(e) => e.index + 1, (e) => e.global_key, (e) => e.message]);
    show(errorsBox, errors.length > 0);
    onImported(result);
  }

  input.addEventListener("change", () => {
    show(message, false);
    show(box, false);  // a new file: the last result no longer applies
    show(errorsBox, false);
    const file = input.files[0];
    const problem = file ? check(file) : "";
    if (problem) fail(problem);
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
    bar.max = file.size;
    bar.value = 0;
    const type = TYPES[(file.name.split(".").pop() || "").toLowerCase()];
    let answer;
    try {
      answer = await send("POST", "/api/v1/datasets/" + config.dataset + "/data_rows", file, {
        contentType: type,
        onProgress: (loaded, total) => {
          bar.max = total;
          bar.value = loaded;
          setText(summary, formatBytes(loaded) + " of " + formatBytes(total));
          if (loaded >= total) setText(phase, "Importing " + file.name);
        },
      });
    } catch (error) {
      show(box, false);
      fail("The connection dropped before the server answered. Nothing is half-stored by a small import: send the file again.");
      start.disabled = false;
      return;
    }
    try {
      if (answer.status === 200) {
        setText(phase, "Imported " + file.name);
        showResult(answer.body);
      } else if (answer.status === 202) {
        setText(phase, "Importing " + file.name + " in the background");
        bar.value = 0;
        const job = await pollJob(answer.body.job, (done, total) => {
          bar.max = Math.max(total, 1);
          bar.value = done;
          setText(summary, formatBytes(done) + " of " + formatBytes(total) + " imported");
        });
        if (job.status === "succeeded") {
          setText(phase, "Imported " + file.name);
          showResult(job.result);
        } else {
          show(box, false);
          fail("The import failed: " + (job.error || "unknown error") + ".");
        }
      } else {
        show(box, false);
        fail("Nothing was imported: " + errorMessage(answer));
      }
    } catch (error) {
      fail("Lost track of the import: " + error.message + ". Reload the page to see the dataset's row count.");
    }
    start.disabled = false;
  });

  csvButton.addEventListener("click", async () => {
    try {
      await downloadErrorsCsv(config.errorsCsvUrl, errors, "import-errors");
    } catch (error) {
      fail("Could not build the CSV file: " + error.message);
    }
  });
}
