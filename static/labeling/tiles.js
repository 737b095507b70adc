/* Tiled large images in the editor (issue #27). `TiledImageViewer` is the image viewer with one addition: when the
 * row's content (a ≤ 256 px thumbnail of a Deep Zoom pyramid) is much smaller than the row's full-resolution size,
 * it asks `/api/v1/data_rows/<id>/imaging` and, if the pyramid is ready, shows its tiles with OpenSeadragon (vendored,
 * static/vendor/openseadragon/) in a layer under the drawing layers. Our own Viewport stays the one source of zoom
 * and pan: OpenSeadragon's input handling is off and its view is set to exactly the image rectangle our viewport
 * shows, after every change. So tools, hit-testing and stored geometry are unchanged and in full-resolution pixels,
 * and only the tiles of the visible rectangle at the needed level are ever downloaded, never the whole image.
 * Ordinary rows (content as large as the row) behave exactly like ImageViewer, without any extra request. */
import { h } from "./dom.js";
import { ImageViewer } from "./image-viewer.js";
import { XyzLayer } from "./xyz-layer.js";

const OSD_URL = new URL("../vendor/openseadragon/openseadragon.min.js", import.meta.url).href;
const SMALLER = 1.5; // content this much narrower than the row: a pyramid thumbnail
let osdLoading = null;

/** OpenSeadragon is a UMD script (window.OpenSeadragon), not an ES module: load it once with a script element. */
export function loadOpenSeadragon() {
  if (window.OpenSeadragon) return Promise.resolve(window.OpenSeadragon);
  if (!osdLoading) {
    osdLoading = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = OSD_URL;
      script.addEventListener("load", () => resolve(window.OpenSeadragon));
      script.addEventListener("error", () => {
        osdLoading = null;
        reject(new Error("OpenSeadragon could not be loaded"));
      });
      document.head.append(script);
    });
  }
  return osdLoading;
}

function rowIdOf(contentUrl) {
  const match = /\/api\/v1\/data_rows\/([^/]+)\/content/.exec(contentUrl || "");
  return match ? match[1] : null;
}

/** Deep Zoom's deepest level: ceil(log2(max(w, h))). */
export function maxLevel(width, height) {
  return Math.max(0, Math.ceil(Math.log2(Math.max(width, height, 1))));
}

export class TiledImageViewer extends ImageViewer {
  mount() {
    const id = rowIdOf(this.asset.dataset.contentUrl);
    // The row's imaging details (kind, tiles, DICOM series, tile service), asked in parallel with the image.
    this.infoReady = id ? this.imagingInfo(id) : Promise.resolve(null);
    const ready = super.mount();
    this.image.addEventListener("error", () => this.explainMissingPreview());
    return ready;
  }

  /** No preview: for a pyramid still building (or failed) say so instead of the generic error. */
  explainMissingPreview() {
    if (this.loaded) return; // a later source failed (a DICOM slice): its own module says so
    this.infoReady.then((info) => {
      const status = this.asset.querySelector(".asset-status");
      if (!status || !info || !info.tiles) return;
      if (info.tiles.status === "pending") {
        status.textContent = "This large image is still being tiled. Reload in a minute, or skip this task for now.";
      } else if (info.tiles.status === "failed") {
        status.textContent = "Tiling this large image failed: ask a project manager to upload it again.";
      }
    });
  }

  rowId() {
    return rowIdOf(this.asset.dataset.contentUrl);
  }

  imagingInfo(id) {
    return fetch(`/api/v1/data_rows/${encodeURIComponent(id)}/imaging`, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    })
      .then((response) => (response.ok ? response.json() : null))
      .catch(() => null);
  }

  /** Called by ImageViewer once the content image is loaded and sized; may return a Promise the editor waits for. */
  onLoaded() {
    const natural = this.image.naturalWidth;
    const id = rowIdOf(this.asset.dataset.contentUrl);
    const pyramid = natural && id && this.imageW >= natural * SMALLER;
    if (pyramid) loadOpenSeadragon().catch(() => null); // in parallel with the details request
    return this.infoReady.then((info) => {
      this.info = info;
      if (info && info.kind === "xyz" && info.xyz && info.geo) {
        this.xyz = new XyzLayer(this, id, info); // a tile service: its own tiles, not a pyramid
        this.xyz.update();
        return undefined;
      }
      if (!pyramid) return undefined;
      if (info && info.tiles && info.tiles.status === "ready") return this.mountTiles(id, info);
      this.tilesMissing(info && info.tiles ? info.tiles.status : info ? "" : "error");
      return undefined;
    });
  }

  tilesMissing(status) {
    const text =
      status === "pending"
        ? "This large image is still being tiled: a preview is shown. Reload in a minute for full resolution."
        : "The full-resolution tiles could not be loaded: a preview is shown. Reload to try again.";
    this.tileNote(text, "warning");
  }

  tileNote(text, kind) {
    if (!this.note) {
      this.note = h("p", { class: "tile-note", id: "tile-note", role: "status" });
      this.asset.append(this.note);
    }
    this.note.textContent = text;
    this.note.dataset.kind = kind;
  }

  mountTiles(id, info) {
    return loadOpenSeadragon().then(
      (OSD) =>
        new Promise((resolve) => {
          const size = info.tiles.tile_size;
          this.tileLayer = h("div", { class: "tile-layer", id: "tile-layer", "aria-hidden": "true" });
          this.asset.insertBefore(this.tileLayer, this.stage);
          this.OSD = OSD;
          this.osd = OSD({
            element: this.tileLayer,
            tileSources: {
              width: info.width,
              height: info.height,
              tileSize: size,
              tileOverlap: 0,
              minLevel: 0,
              maxLevel: maxLevel(info.width, info.height),
              getTileUrl: (level, x, y) => `/api/v1/data_rows/${encodeURIComponent(id)}/tiles/${level}/${x}_${y}.jpeg`,
            },
            drawer: "canvas",
            imageSmoothingEnabled: false, // at the deepest zooms a labeler sees the image's real pixels
            showNavigationControl: false,
            mouseNavEnabled: false,
            keyboardNavEnabled: false,
            animationTime: 0,
            blendTime: 0,
            springStiffness: 100,
            visibilityRatio: 0,
            minZoomImageRatio: 0,
            maxZoomPixelRatio: Infinity,
            constrainDuringPan: false,
            imageLoaderLimit: 8,
            preserveViewport: true,
          });
          this.osd.addOnceHandler("open", () => {
            this.asset.classList.add("tiled");
            this.asset.dataset.tiles = "ready";
            this.syncTiles();
            resolve();
          });
          this.osd.addOnceHandler("open-failed", () => {
            this.tilesMissing("error");
            resolve();
          });
          this.osd.addHandler("tile-load-failed", () => this.tileNote("Some tiles could not be loaded.", "warning"));
        }),
    );
  }

  apply() {
    super.apply();
    this.syncTiles();
    if (this.xyz) this.xyz.update();
  }

  /** Show in OpenSeadragon exactly the image rectangle our viewport shows (its coordinates: image width = 1). */
  syncTiles() {
    if (!this.osd || !this.osd.world.getItemCount()) return;
    const v = this.viewport;
    const f = this.frame();
    const w = this.imageW;
    const left = -v.x / v.scale / w;
    const top = -v.y / v.scale / w;
    const rect = new this.OSD.Rect(left, top, f.width / v.scale / w, f.height / v.scale / w);
    this.osd.viewport.fitBounds(rect, true);
  }

  /** Where OpenSeadragon draws an image point, in px from the viewer's top-left (for tests and diagnostics). */
  tileScreenPoint(x, y) {
    if (!this.osd) return null;
    const p = this.osd.viewport.imageToViewerElementCoordinates(new this.OSD.Point(x, y));
    return { x: p.x, y: p.y };
  }

  setFilter(brightness, contrast) {
    super.setFilter(brightness, contrast);
    if (this.tileLayer) this.tileLayer.style.filter = this.image.style.filter;
    if (this.xyz) this.xyz.node.style.filter = this.image.style.filter;
  }
}
