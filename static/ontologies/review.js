// Asks the server what saving a tree would do (the validator, the version diff, features in use) and shows it.
const LABELS = {
  added: "Added", removed: "Removed", renamed: "Renamed", recolored: "Recoloured", archived: "Archived",
  unarchived: "Unarchived", moved: "Moved", reordered: "Reordered", changed: "Changed",
};

function el(tag, attrs = {}, text = "") {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  if (text) node.textContent = text;
  return node;
}

export async function checkTree(url, csrf, tree) {
  const response = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, Accept: "application/json" },
    body: JSON.stringify({ tree }),
  });
  if (!response.ok) throw new Error(`The server answered ${response.status}.`);
  return response.json();
}

// Fills `body` with the answer; returns true when the tree may be saved.
export function renderReview(body, answer) {
  body.replaceChildren();
  if (answer.errors && answer.errors.length) {
    body.append(el("p", { class: "errornote" }, "The tree is not valid yet; fix these first:"));
    const ul = el("ul", { class: "errorlist" });
    answer.errors.forEach((e) => ul.append(el("li", {}, e.path ? `${e.path}: ${e.message}` : e.message)));
    body.append(ul);
    return false;
  }
  if (answer.in_use) {
    body.append(el("p", { class: "errornote", role: "alert" }, answer.in_use.message));
    return false;
  }
  if (!answer.changed) {
    body.append(el("p", {}, "No change to the tree: saving keeps version " + answer.version + " (name and description are still saved)."));
    return true;
  }
  const next = (answer.version || 0) + 1;
  body.append(el("p", {}, answer.version ? `Saving creates version ${next} (projects stay on their version until upgraded):` : "Saving creates version 1:"));
  const ul = el("ul", { class: "oe-diff" });
  for (const [kind, text] of answer.lines || []) {
    const li = el("li", { "data-change": kind });
    li.append(el("strong", {}, `${LABELS[kind] || kind}: `), document.createTextNode(text));
    ul.append(li);
  }
  body.append(ul);
  return true;
}
