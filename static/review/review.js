/* Review page: the label is read-only until "Edit" (E); A approves, R jumps to the feedback box to reject. An edited
 * label is posted as the reviewer's correction (a new revision) with the approval. */
(function () {
  "use strict";

  const form = document.getElementById("label-form");
  const fieldset = document.getElementById("edit-fieldset");
  const toggle = document.getElementById("toggle-edit");
  const edited = document.getElementById("edited-input");
  const mode = document.getElementById("review-mode");
  const feedback = document.getElementById("feedback");
  const approve = document.getElementById("submit-label");
  const reject = document.getElementById("reject-label");
  if (!form || !toggle) return;

  function setEditing(on) {
    form.dataset.readonly = on ? "false" : "true";
    fieldset.disabled = !on;
    if (on) edited.value = "1"; // stays set: edits made stay in the drawing (an unchanged label is a plain approval)
    toggle.setAttribute("aria-pressed", on ? "true" : "false");
    toggle.textContent = on ? "Stop editing" : "Edit";
    mode.textContent = on ? "Editing" : "Read-only";
    reject.disabled = on; // a correction is approved; rejecting sends the labeler's label back unchanged
  }
  toggle.addEventListener("click", () => setEditing(form.dataset.readonly === "true"));

  reject.addEventListener("click", (event) => {
    if (!feedback.value.trim()) {
      event.preventDefault();
      feedback.setCustomValidity("Tell the labeler what to fix.");
      feedback.reportValidity();
      feedback.focus();
    }
  });
  feedback.addEventListener("input", () => feedback.setCustomValidity(""));

  function typing(target) {
    return target && (target.isContentEditable || ["TEXTAREA", "INPUT", "SELECT"].includes(target.tagName));
  }

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    const key = event.key.toLowerCase();
    if (key === "e") {
      event.preventDefault();
      setEditing(form.dataset.readonly === "true");
    } else if (form.dataset.readonly !== "true") {
      return; // while editing, the label page's drawing shortcuts apply
    } else if (key === "a") {
      event.preventDefault();
      form.requestSubmit(approve);
    } else if (key === "r") {
      event.preventDefault();
      feedback.focus();
    }
  });
})();
