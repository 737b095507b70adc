/* The image draw layer: one SVG group per object, in image pixels (the SVG's viewBox is the image size, so the
 * browser does the zoom). Groups are kept by object id and rebuilt only when what they show changed, so a drag or
 * an undo among 1,000 boxes touches one group. Class name and number are drawn beside each object. */
import { s } from "./dom.js";
import { boxFrom } from "./geometry.js";
import { modelLabel } from "./objects.js";

const pointsAttr = (points) => points.map((q) => `${q.x},${q.y}`).join(" ");

export class DrawLayer {
  constructor(svg) {
    this.svg = svg;
    this.groups = new Map(); // id → {node, sig}
    this.drawingNode = null;
  }

  /** Redraw. `k` is image px per screen px (handle sizes); `numbers` id → number within its class. With `only`,
   * just that object (and the drawing preview) is brought up to date: the cheap path for a drag frame. */
  render(model, k, numbers, drawing, only) {
    if (only) {
      this.update(model, only, k, numbers.get(only.id) || 0);
    } else {
      const seen = new Set();
      let previous = null;
      for (const object of model.objects) {
        seen.add(object.id);
        const node = this.update(model, object, k, numbers.get(object.id) || 0);
        const expected = previous ? previous.nextSibling : this.svg.firstChild;
        if (expected !== node) this.svg.insertBefore(node, expected);
        previous = node;
      }
      for (const [id, entry] of this.groups) {
        if (!seen.has(id)) {
          entry.node.remove();
          this.groups.delete(id);
        }
      }
    }
    this.renderDrawing(drawing, k);
  }

  update(model, object, k, n) {
    const selected = object.id === model.selected;
    const hidden = model.isHidden(object);
    const locked = model.isLocked(object);
    const g = object.geom;
    const geomSig = g.left !== undefined ? `${g.left},${g.top},${g.width},${g.height}` : JSON.stringify(g);
    const sig = [geomSig, selected, selected ? k : 0, object.errors.length, hidden, locked, n, object.tool.color].join(
      "|",
    );
    let entry = this.groups.get(object.id);
    if (entry && entry.sig === sig) return entry.node;
    const node = this.build(object, selected, hidden, locked, k, n);
    if (entry) {
      entry.node.replaceWith(node);
      entry.node = node;
      entry.sig = sig;
    } else {
      entry = { node, sig };
      this.groups.set(object.id, entry);
    }
    return node;
  }

  build(object, selected, hidden, locked, k, n) {
    const cls = ["obj"];
    if (selected) cls.push("selected");
    if (object.errors.length) cls.push("has-error");
    if (object.prelabel) cls.push("prelabel");
    if (locked) cls.push("locked");
    if (hidden) cls.push("hidden");
    const group = s("g", { class: cls.join(" "), "data-id": object.id });
    if (object.prelabel) group.setAttribute("data-prelabel", object.prelabel);
    group.style.setProperty("--c", object.tool.color);
    const name = `${object.tool.name} ${n}`;
    const title = s("title");
    title.textContent = object.prelabel ? `${name} (${modelLabel(object)})` : name;
    group.append(title);
    const g = object.geom;
    let anchor = null;
    switch (object.tool.tool) {
      case "bbox":
        group.append(s("rect", { class: "shape", x: g.left, y: g.top, width: g.width, height: g.height }));
        anchor = { x: g.left, y: g.top };
        break;
      case "polygon":
        group.append(s("polygon", { class: "shape", points: pointsAttr(g.points) }));
        anchor = topLeftPoint(g.points);
        break;
      case "polyline":
        group.append(s("polyline", { class: "shape line", points: pointsAttr(g.points) }));
        anchor = topLeftPoint(g.points);
        break;
      case "point":
        group.append(s("circle", { class: "shape point", cx: g.x, cy: g.y }));
        anchor = { x: g.x, y: g.y };
        break;
    }
    if (anchor) {
      // Above the top-left corner (inside the image when the object touches its top edge); font size and halo
      // follow the zoom through the --k custom property, so zooming does not rebuild the labels.
      const label = s("text", { class: "label", x: anchor.x, y: anchor.y, dy: anchor.y < 1 ? "1.1em" : "-0.35em" });
      label.textContent = locked ? `${name} (locked)` : name;
      group.append(label);
    }
    if (selected && !locked && object.tool.tool === "bbox") {
      const size = 9 * k;
      const corners = {
        nw: [g.left, g.top],
        ne: [g.left + g.width, g.top],
        sw: [g.left, g.top + g.height],
        se: [g.left + g.width, g.top + g.height],
      };
      for (const [corner, [x, y]] of Object.entries(corners)) {
        group.append(
          s("rect", {
            class: `handle handle-${corner}`,
            "data-handle": corner,
            x: x - size / 2,
            y: y - size / 2,
            width: size,
            height: size,
          }),
        );
      }
    } else if (selected && !locked && g.points) {
      g.points.forEach((q, i) => {
        group.append(s("circle", { class: "vertex editable", "data-vertex": i, cx: q.x, cy: q.y, r: 4.5 * k }));
      });
    }
    return group;
  }

  /** The shape being drawn (dashed), on top of everything. */
  renderDrawing(d, k) {
    if (this.drawingNode) {
      this.drawingNode.remove();
      this.drawingNode = null;
    }
    if (!d) return;
    const group = s("g", { class: "drawing" });
    group.style.setProperty("--c", d.tool.color);
    if (d.kind === "bbox") {
      const box = boxFrom(d.from, d.to);
      group.append(s("rect", { class: "shape", x: box.left, y: box.top, width: box.width, height: box.height }));
    } else if (d.points) {
      const pts = d.points.concat(d.cursor ? [d.cursor] : []);
      const shape = d.kind === "polygon" && pts.length >= 3 ? "polygon" : "polyline";
      group.append(s(shape, { class: "shape line", points: pointsAttr(pts) }));
      d.points.forEach((q, i) => {
        const closing = i === 0 && d.kind === "polygon" && d.points.length >= 3;
        const r = (closing ? 6 : 3.5) * k;
        group.append(s("circle", { class: closing ? "vertex closing" : "vertex", cx: q.x, cy: q.y, r }));
      });
    }
    this.svg.append(group);
    this.drawingNode = group;
  }
}

function topLeftPoint(points) {
  let best = points[0];
  for (const p of points) if (p.y < best.y || (p.y === best.y && p.x < best.x)) best = p;
  return best;
}
