/* Tile-service rows (XYZ/TMS, issue #27) in the editor: the service's tiles, fetched through the server
 * (`/api/v1/data_rows/<id>/xyz/<z>/<x>/<y>`, which only serves tiles of the row's bounds and zoom range through the
 * SSRF guard), placed in a layer under the drawing layers. The row's pixel space is the slippy-map world at the
 * row's maximum zoom cropped to its bounds (apps/imagery/domain/xyz.py); its origin in world pixels comes from the
 * row's EPSG:3857 transform. Our Viewport stays the one source of zoom and pan: after every change the layer shows
 * the tiles of the visible rectangle at the zoom that matches the screen scale (never more than MAX_TILES). */
import { clamp, h } from "./dom.js";

const HALF_WORLD = Math.PI * 6378137;
const MAX_TILES = 400;

export function xyzOrigin(transform) {
  const res = transform[1];
  return { x: Math.round((transform[0] + HALF_WORLD) / res), y: Math.round((HALF_WORLD - transform[3]) / res) };
}

/** The service zoom for a screen scale (screen px per row px at the max zoom): the sharpest not coarser than it. */
export function zoomFor(scale, minZoom, maxZoom) {
  return clamp(Math.ceil(maxZoom + Math.log2(Math.max(scale, 1e-9)) - 1e-9), minZoom, maxZoom);
}

export class XyzLayer {
  constructor(viewer, rowId, info) {
    this.viewer = viewer;
    this.rowId = rowId;
    this.minZoom = info.xyz.min_zoom;
    this.maxZoom = info.xyz.max_zoom;
    this.size = info.xyz.tile_size;
    this.origin = xyzOrigin(info.geo.transform);
    this.tiles = new Map();
    this.failed = 0;
    this.node = h("div", { class: "tile-layer xyz-layer", id: "tile-layer", "aria-hidden": "true" });
    viewer.asset.insertBefore(this.node, viewer.stage);
    viewer.asset.classList.add("tiled");
    viewer.asset.dataset.tiles = "ready";
  }

  url(z, x, y) {
    return `/api/v1/data_rows/${encodeURIComponent(this.rowId)}/xyz/${z}/${x}/${y}`;
  }

  /** Show the tiles of the visible rectangle; drop the others. */
  update() {
    const viewer = this.viewer;
    const v = viewer.viewport;
    const f = viewer.frame();
    if (!v.imageW || !f.width) return;
    const left = Math.max(-v.x / v.scale, 0);
    const top = Math.max(-v.y / v.scale, 0);
    const right = Math.min((f.width - v.x) / v.scale, v.imageW);
    const bottom = Math.min((f.height - v.y) / v.scale, v.imageH);
    const z = zoomFor(v.scale, this.minZoom, this.maxZoom);
    const span = this.size * 2 ** (this.maxZoom - z); // row px a tile of zoom z covers
    const o = this.origin;
    const x0 = Math.floor((o.x + left) / span);
    const x1 = Math.floor((o.x + Math.max(right, left) - 1e-6) / span);
    const y0 = Math.floor((o.y + top) / span);
    const y1 = Math.floor((o.y + Math.max(bottom, top) - 1e-6) / span);
    const wanted = new Set();
    if ((x1 - x0 + 1) * (y1 - y0 + 1) <= MAX_TILES && right > left && bottom > top) {
      for (let x = x0; x <= x1; x += 1) {
        for (let y = y0; y <= y1; y += 1) {
          const key = `${z}/${x}/${y}`;
          wanted.add(key);
          let img = this.tiles.get(key);
          if (!img) {
            img = h("img", { class: "xyz-tile", alt: "", draggable: "false", "data-tile": key });
            img.addEventListener("error", () => this.tileFailed());
            img.src = this.url(z, x, y);
            this.tiles.set(key, img);
            this.node.append(img);
          }
          const size = span * v.scale;
          img.style.left = `${(x * span - o.x) * v.scale + v.x}px`;
          img.style.top = `${(y * span - o.y) * v.scale + v.y}px`;
          img.style.width = `${size}px`;
          img.style.height = `${size}px`;
        }
      }
    }
    for (const [key, img] of this.tiles) {
      if (!wanted.has(key)) {
        img.remove();
        this.tiles.delete(key);
      }
    }
    this.node.dataset.zoom = String(z);
  }

  tileFailed() {
    this.failed += 1;
    this.viewer.tileNote("Some tiles could not be loaded from the tile service.", "warning");
  }

  /** Whether every tile of the view has loaded (for tests and diagnostics). */
  loaded() {
    return [...this.tiles.values()].every((img) => img.complete && img.naturalWidth > 0);
  }
}
