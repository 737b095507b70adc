// Exports page: poll unfinished exports and update their progress bars, status and download link.
(function () {
  "use strict";
  const rows = () => Array.from(document.querySelectorAll("tr[data-export]"))
    .filter((row) => row.dataset.status === "queued" || row.dataset.status === "running");

  function update(row, data) {
    row.dataset.status = data.status;
    row.querySelector(".status").textContent = data.status + (data.error ? " (" + data.error.slice(0, 80) + ")" : "");
    const bar = row.querySelector("progress");
    bar.max = Math.max(data.progress.total, 1);
    bar.value = data.status === "succeeded" ? bar.max : data.progress.done;
    row.querySelector(".rows").textContent = String(data.rows);
    if (data.download_url) {
      const cell = row.querySelector(".file");
      const link = document.createElement("a");
      link.href = data.download_url;
      link.textContent = data.file_name;  // textContent: names are never parsed as HTML
      cell.replaceChildren(link);
    }
  }

  async function poll() {
    const pending = rows();
    if (!pending.length) return;
    await Promise.all(pending.map(async (row) => {
      try {
        const response = await fetch("/api/v1/exports/" + row.dataset.export, {credentials: "same-origin"});
        if (response.ok) update(row, await response.json());
      } catch (error) { /* try again on the next tick */ }
    }));
    window.setTimeout(poll, 2000);
  }
  window.setTimeout(poll, 1000);
})();
