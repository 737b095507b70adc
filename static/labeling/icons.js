/* Small line icons (inline SVG, currentColor): no icon font, nothing that depends on the system's emoji fonts. */
import { s } from "./dom.js";

const SHAPES = {
  eye: [["path", { d: "M1 8s2.6-4.8 7-4.8S15 8 15 8s-2.6 4.8-7 4.8S1 8 1 8z" }], ["circle", { cx: 8, cy: 8, r: 2.1 }]],
  "eye-off": [
    ["path", { d: "M1 8s2.6-4.8 7-4.8S15 8 15 8s-2.6 4.8-7 4.8S1 8 1 8z" }],
    ["path", { d: "M2.5 2.5l11 11" }],
  ],
  lock: [["rect", { x: 3, y: 7, width: 10, height: 7, rx: 1.5 }], ["path", { d: "M5 7V5a3 3 0 0 1 6 0v2" }]],
  unlock: [["rect", { x: 3, y: 7, width: 10, height: 7, rx: 1.5 }], ["path", { d: "M5 7V5a3 3 0 0 1 5.8-1.1" }]],
};

export function icon(name) {
  const svg = s("svg", {
    viewBox: "0 0 16 16",
    width: 15,
    height: 15,
    fill: "none",
    stroke: "currentColor",
    "stroke-width": 1.5,
    "stroke-linecap": "round",
    "aria-hidden": "true",
    class: `icon icon-${name}`,
  });
  for (const [tag, attrs] of SHAPES[name]) svg.append(s(tag, attrs));
  return svg;
}
