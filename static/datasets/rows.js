// Rows file import: CSV / NDJSON / JSON sent as one body with upload progress; a large body is a background job
// (202) polled for progress. Per-row errors in a table and as a CSV file (file_import.js).
import {formatBytes} from "./common.js";
import {extensionOf, fileImport} from "./file_import.js";

const TYPES = {csv: "text/csv", ndjson: "application/x-ndjson", jsonl: "application/x-ndjson", json: "application/json"};

export function setupRows(config, onImported) {
  fileImport({
    prefix: "rows",
    url: "/api/v1/datasets/" + config.dataset + "/data_rows",
    typeOf: (file) => TYPES[extensionOf(file)],
    check(file) {
      const extension = extensionOf(file);
      if (!TYPES[extension]) return "Choose a .csv, .ndjson, .jsonl or .json file (this one is ." + extension + ").";
      if (file.size === 0) return "The file is empty.";
      if (file.size > config.maxImportBytes) {
        return "The file is " + formatBytes(file.size) + ", more than the limit of " + formatBytes(config.maxImportBytes) + ": split it.";
      }
      return "";
    },
    errorColumns: [(e) => e.index + 1, (e) => e.global_key, (e) => e.message],
    csv: {url: config.errorsCsvUrl, name: "import-errors"},
    dropped: "The connection dropped before the server answered. Nothing is half-stored by a small import: send the file again.",
    lostTrack: "Reload the page to see the dataset's row count.",
    onResult: onImported,
  });
}
