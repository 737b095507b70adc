/* Polygon fill for the mask tool (mask.js): the corners the labeler clicks, drawn on an SVG over the image in image
 * px (the stage's zoom and pan apply to it), with a rubber band to the pointer. The polygon is closed by clicking
 * its first corner (drawn larger, in yellow), by a double click or by Enter; Backspace removes the last corner, Esc
 * drops the polygon. mask.js then rasterises it into the mask (mask-rle.js `fillPolygon`, pycocotools' rasteriser). */
import { s } from "./dom.js";

const CLOSE_PX = 8; // a click this close (screen px) to the first corner closes the polygon

const distance = (a, b) => Math.hypot(a.x - b.x, a.y - b.y);

export class PolygonDraft {
  constructor(viewer) {
    this.viewer = viewer;
    this.points = [];
    this.hover = null;
    this.svg = s("svg", { class: "mask-polygon", id: "mask-polygon", "aria-hidden": "true", preserveAspectRatio: "none" });
    this.area = s("polygon", { class: "mask-polygon-area" });
    this.outline = s("polyline", { class: "mask-polygon-line" });
    this.corners = s("g", { class: "mask-polygon-corners" });
    this.svg.append(this.area, this.outline, this.corners);
    viewer.stage.append(this.svg);
  }

  get active() {
    return this.points.length > 0;
  }

  /** A click at image point p: "close" on the first corner (3+ corners), "same" on the last one (the second press
   * of a double click), else the corner is added ("added"). */
  click(p) {
    const unit = this.viewer.unit();
    if (this.points.length >= 3 && distance(p, this.points[0]) <= CLOSE_PX * unit) return "close";
    const last = this.points[this.points.length - 1];
    if (last && distance(p, last) <= 2 * unit) return "same";
    this.points.push(p);
    this.render();
    return "added";
  }

  move(p) {
    this.hover = p;
    if (this.active) this.render();
  }

  /** Remove the last corner; false when there was none. */
  pop() {
    if (!this.points.length) return false;
    this.points.pop();
    this.render();
    return true;
  }

  cancel() {
    this.points = [];
    this.render();
  }

  /** The corners, and the draft is emptied. */
  take() {
    const points = this.points;
    this.cancel();
    return points;
  }

  render() {
    const { imageW: w, imageH: hgt } = this.viewer;
    this.svg.setAttribute("viewBox", `0 0 ${w || 1} ${hgt || 1}`);
    const shown = this.hover && this.points.length ? [...this.points, this.hover] : this.points;
    const attr = shown.map((q) => `${q.x},${q.y}`).join(" ");
    this.outline.setAttribute("points", attr);
    this.area.setAttribute("points", shown.length >= 3 ? attr : "");
    const unit = this.viewer.unit();
    this.corners.replaceChildren(
      ...this.points.map((q, i) =>
        s("circle", { cx: q.x, cy: q.y, r: (i === 0 ? 5 : 3.5) * unit, class: i === 0 ? "first" : "corner" }),
      ),
    );
  }
}
