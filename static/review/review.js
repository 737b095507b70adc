/* Review page: the label is read-only (every object's answers shown as text) until "Edit, then approve" (E);
 * A approves, R jumps to the feedback box to reject. An edited label is posted as the reviewer's correction (a new
 * revision) with the approval. The editor itself is static/labeling/editor.js. */
import { editor } from "../labeling/editor.js";

const form = document.getElementById("label-form");
const fieldsets = document.querySelectorAll(".edit-fieldset");
const toggle = document.getElementById("toggle-edit");
const edited = document.getElementById("edited-input");
const mode = document.getElementById("review-mode");
const feedback = document.getElementById("feedback");
const approve = document.getElementById("submit-label");
const reject = document.getElementById("reject-label");

function setEditing(on) {
  editor.setReadOnly(!on);
  const tools = document.getElementById("fold-tools");
  if (on && tools) tools.open = true; // the tools are what editing starts with
  for (const fieldset of fieldsets) fieldset.disabled = !on;
  if (on) edited.value = "1"; // stays set: edits made stay in the drawing (an unchanged label is a plain approval)
  toggle.setAttribute("aria-pressed", on ? "true" : "false");
  toggle.textContent = on ? "Stop editing" : "Edit, then approve";
  mode.textContent = on ? "Editing" : "Read-only";
  approve.textContent = edited.value === "1" ? "Approve with my edits" : "Approve";
  reject.disabled = on; // a correction is approved; rejecting sends the labeler's label back unchanged
}

if (form && toggle) {
  toggle.addEventListener("click", () => setEditing(editor.isReadOnly()));
  reject.addEventListener("click", (event) => {
    if (!feedback.value.trim()) {
      event.preventDefault();
      feedback.setCustomValidity("Tell the labeler what to fix.");
      feedback.reportValidity();
      feedback.focus();
    }
  });
  feedback.addEventListener("input", () => feedback.setCustomValidity(""));
  window.addEventListener("pageshow", () => {
    approve.textContent = edited.value === "1" ? "Approve with my edits" : "Approve";
  });

  const typing = (target) =>
    target && (target.isContentEditable || ["TEXTAREA", "INPUT", "SELECT"].includes(target.tagName));
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    const key = event.key.toLowerCase();
    if (key === "e") {
      event.preventDefault();
      setEditing(editor.isReadOnly());
    } else if (!editor.isReadOnly()) {
      return; // while editing, the editor's drawing shortcuts apply
    } else if (key === "a") {
      event.preventDefault();
      form.requestSubmit(approve);
    } else if (key === "r") {
      event.preventDefault();
      feedback.focus();
    }
  });
}
