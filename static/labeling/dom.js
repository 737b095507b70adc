/* Small DOM helpers shared by the editor modules. User data only ever reaches the DOM through textContent and
 * setAttribute (never innerHTML). */
export const SVG_NS = "http://www.w3.org/2000/svg";

export function setAttrs(node, attrs) {
  if (!attrs) return;
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    node.setAttribute(key, value === true ? "" : String(value));
  }
}

/** Build an HTML element; string children become text nodes. */
export function h(tag, attrs, ...children) {
  const node = document.createElement(tag);
  setAttrs(node, attrs);
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}

/** Build an SVG element. */
export function s(tag, attrs) {
  const node = document.createElementNS(SVG_NS, tag);
  setAttrs(node, attrs);
  return node;
}

export function readJson(id, fallback) {
  const node = document.getElementById(id);
  if (!node) return fallback;
  try {
    const value = JSON.parse(node.textContent);
    return value === null || value === undefined ? fallback : value;
  } catch (err) {
    return fallback;
  }
}

let counter = 0;
export const uid = (prefix) => `${prefix}-${++counter}`;
export const clamp = (v, lo, hi) => Math.min(Math.max(v, lo), hi);
export const round2 = (v) => Math.round(v * 100) / 100;
export const isNum = (v) => typeof v === "number" && Number.isFinite(v);

/** True when keys typed at `target` are text (shortcuts must leave them alone). */
export function typingTarget(target) {
  if (!target || !target.tagName) return false;
  if (target.isContentEditable || target.tagName === "TEXTAREA" || target.tagName === "SELECT") return true;
  return target.tagName === "INPUT" && !["radio", "checkbox", "button", "submit", "range"].includes(target.type);
}
