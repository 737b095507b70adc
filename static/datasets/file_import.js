// One file sent as one import body, as the rows import and the predictions upload do: choose → checked at once →
// sent with upload progress → a 200 answer shown, or a 202 job polled for progress → per-line errors in a table and
// as a CSV file. The page's elements share an id prefix: `<prefix>-file`, `-start`, `-progress-box`, `-phase`,
// `-progress`, `-summary`, `-message`, `-errors`, `-error-count`, `-error-table`, `-errors-csv`.
import {downloadErrorsCsv, errorMessage, fillErrorTable, formatBytes, pollJob, send, setText, show} from "./common.js";

export function extensionOf(file) {
  return (file.name.split(".").pop() || "").toLowerCase();
}

/**
 * options: `prefix`; `url` (where the body is POSTed); `typeOf(file)` (its Content-Type); `check(file)` (a problem to
 * show, or ""); `errorColumns` (cells of an error row); `csv` ({url, name}); `dropped` and `lostTrack` (what to say
 * when the connection drops before the answer, or while polling); `onResult(result)` (after a result is shown).
 */
export function fileImport({prefix, url, typeOf, check, errorColumns, csv, dropped, lostTrack, onResult}) {
  const $ = (suffix) => document.getElementById(prefix + "-" + suffix);
  const input = $("file");
  const start = $("start");
  const box = $("progress-box");
  const phase = $("phase");
  const bar = $("progress");
  const summary = $("summary");
  const message = $("message");
  const errorsBox = $("errors");
  const errorCount = $("error-count");
  const errorTable = $("error-table").querySelector("tbody");
  let errors = [];

  function fail(text) {
    setText(message, text);
    show(message, true);
  }

  function showResult(result) {
    bar.max = 1;
    bar.value = 1;
    setText(summary, result.created + " created · " + result.updated + " updated · " + result.failed + " not imported");
    errors = result.errors || [];
    setText(errorCount, "(" + result.failed + (result.errors_truncated ? ", the first " + errors.length + " listed" : "") + ")");
    fillErrorTable(errorTable, errors, errorColumns);
    show(errorsBox, errors.length > 0);
    onResult(result);
  }

  async function finish(file, answer) {
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
  }

  input.addEventListener("change", () => {
    show(message, false);
    show(box, false); // a new file: the last result no longer applies
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
    let answer;
    try {
      answer = await send("POST", url, file, {
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
      fail(dropped);
      start.disabled = false;
      return;
    }
    try {
      await finish(file, answer);
    } catch (error) {
      fail("Lost track of the import: " + error.message + ". " + lostTrack);
    }
    start.disabled = false;
  });

  $("errors-csv").addEventListener("click", async () => {
    try {
      await downloadErrorsCsv(csv.url, errors, csv.name);
    } catch (error) {
      fail("Could not build the CSV file: " + error.message);
    }
  });
  return {fail};
}
