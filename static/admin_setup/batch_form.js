// The admin's "Add batch" form: only the inputs of the chosen row source are shown (all of them without JavaScript).
const FIELDS = {
  keys: ["global_keys"],
  dataset: ["dataset", "metadata_filter"],
};
const ALL = ["global_keys", "dataset", "metadata_filter", "picked"];

function update() {
  const chosen = document.querySelector('input[name="source"]:checked');
  if (!chosen) return;
  const shown = FIELDS[chosen.value] || ["picked"];
  for (const name of ALL) {
    const row = document.querySelector(`.form-row.field-${name}`);
    if (row) row.hidden = !shown.includes(name);
  }
}

for (const radio of document.querySelectorAll('input[name="source"]')) radio.addEventListener("change", update);
update();
