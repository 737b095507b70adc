// New model run form: the new-model fields only when "A new model…" is chosen; the chosen ontology's box tools as
// a hint for the COCO categories.
const select = document.getElementById("run-model");
const fields = document.getElementById("new-model-fields");
const ontology = document.getElementById("model-ontology");
const hint = document.getElementById("box-tools-hint");
const tools = JSON.parse(document.getElementById("box-tools").textContent);

function update() {
  const isNew = select.value === "new";
  fields.hidden = !isNew;
  for (const input of fields.querySelectorAll("input, select")) input.required = isNew;
  const names = isNew ? tools[ontology.value] : "";
  hint.textContent = names ? "Box tools of this ontology (the names COCO categories map to): " + names + "." : "";
}
select.addEventListener("change", update);
ontology.addEventListener("change", update);
update();
