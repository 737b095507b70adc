// The ontology tree being edited, as the plain JSON object the form posts, and the operations on it.
// A node is addressed by its path from the root: ["tools", 0, "classifications", 1, "options", 0].

export const CHILD_KEY = { tool: "classifications", classification: "options", option: "classifications" };

export function kindOf(path) {
  const key = path[path.length - 2];
  if (key === "tools") return "tool";
  if (key === "options") return "option";
  return "classification";
}

export function nodeAt(model, path) {
  let node = model;
  for (const step of path) node = node[step];
  return node;
}

export function listOf(model, path) {
  return nodeAt(model, path.slice(0, -1));
}

export function nameOf(node, kind) {
  return (kind === "option" ? node.value : node.name) || "";
}

function siblingsNames(list, kind) {
  return new Set(list.map((n) => nameOf(n, kind)));
}

function freshName(list, kind, base) {
  const taken = siblingsNames(list, kind);
  let i = list.length + 1;
  while (taken.has(`${base} ${i}`)) i += 1;
  return `${base} ${i}`;
}

// Tool names and top-level classification names share one namespace (annotations name both at the top level).
function topLevelNames(model) {
  return [...(model.tools || []), ...(model.classifications || [])];
}

export function addNode(model, parentPath, kind, palette) {
  let list;
  if (parentPath.length === 0) {
    const key = kind === "tool" ? "tools" : "classifications";
    if (!Array.isArray(model[key])) model[key] = [];
    list = model[key];
  } else {
    const parent = nodeAt(model, parentPath);
    const key = CHILD_KEY[kindOf(parentPath)];
    if (!Array.isArray(parent[key])) parent[key] = [];
    list = parent[key];
  }
  const scope = parentPath.length === 0 ? topLevelNames(model) : list;
  let node;
  if (kind === "tool") {
    const color = palette[(model.tools || []).length % palette.length] || "#e6194b";
    node = { name: freshName(scope, "tool", "tool"), tool: "bbox", color, classifications: [] };
  } else if (kind === "option") {
    node = { value: freshName(list, "option", "option"), classifications: [] };
  } else {
    node = { name: freshName(scope, "classification", "question"), type: "radio", required: false, options: [{ value: "option 1", classifications: [] }] };
  }
  list.push(node);
  const key = parentPath.length === 0 ? (kind === "tool" ? "tools" : "classifications") : CHILD_KEY[kindOf(parentPath)];
  return [...parentPath, key, list.length - 1];
}

export function moveNode(model, path, delta) {
  const list = listOf(model, path);
  const index = path[path.length - 1];
  const target = index + delta;
  if (target < 0 || target >= list.length) return path;
  const [node] = list.splice(index, 1);
  list.splice(target, 0, node);
  return [...path.slice(0, -1), target];
}

export function removeNode(model, path) {
  listOf(model, path).splice(path[path.length - 1], 1);
}

export function withoutNode(model, path) {
  const copy = JSON.parse(JSON.stringify(model));
  removeNode(copy, path);
  return copy;
}

// Every schema_id in the subtree of a node (the node's own included).
export function schemaIdsUnder(node) {
  const ids = [];
  const visit = (n) => {
    if (n && typeof n === "object") {
      if (typeof n.schema_id === "string") ids.push(n.schema_id);
      for (const child of [...(n.classifications || []), ...(n.options || [])]) visit(child);
    }
  };
  visit(node);
  return ids;
}

export function setField(model, path, field, value) {
  const node = nodeAt(model, path);
  node[field] = value;
  if (field === "type") {
    if (value === "text") {
      delete node.options;
    } else if (!Array.isArray(node.options) || node.options.length === 0) {
      node.options = [{ value: "option 1", classifications: [] }];
      delete node.max_length;
    } else {
      delete node.max_length;
    }
  }
}

export function serialize(model) {
  return JSON.stringify(model, null, 2);
}

export function parse(text) {
  const value = JSON.parse(text);
  if (!value || typeof value !== "object" || Array.isArray(value)) throw new Error('Give an object {"tools": [...], "classifications": [...]}.');
  for (const key of Object.keys(value)) {
    if (key !== "tools" && key !== "classifications") throw new Error(`Unknown key "${key}": only "tools" and "classifications".`);
  }
  if (!Array.isArray(value.tools || [])) throw new Error('"tools" must be a list.');
  if (!Array.isArray(value.classifications || [])) throw new Error('"classifications" must be a list.');
  return value;
}
