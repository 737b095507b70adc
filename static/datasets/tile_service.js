// A row that is a tile service (XYZ/TMS URL template, WGS 84 bounds, zoom range): the server checks the template,
// contacts the service through its SSRF guard for a thumbnail, and stores one image row (labels in pixels of the
// max zoom, with their longitudes/latitudes in the GeoJSON export).
import {errorMessage, postJson, setText, show} from "./common.js";

export function setupTileService(config, onStored) {
  const form = document.getElementById("xyz-form");
  if (!form) return;
  const button = document.getElementById("xyz-start");
  const summary = document.getElementById("xyz-summary");
  const message = document.getElementById("xyz-message");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const number = (name) => (data.get(name) === "" ? NaN : Number(data.get(name)));
    const payload = {
      global_key: String(data.get("global_key") || "").trim(),
      url_template: String(data.get("url_template") || "").trim(),
      bounds: ["west", "south", "east", "north"].map(number),
      min_zoom: number("min_zoom"),
      max_zoom: number("max_zoom"),
      tms: data.get("tms") === "on",
      tile_size: Number(data.get("tile_size") || 256),
    };
    if (payload.bounds.some((v) => !Number.isFinite(v))) {
      setText(message, "Give the four bounds (west, south, east, north) in degrees.");
      show(message, true);
      return;
    }
    button.disabled = true;
    show(message, false);
    setText(summary, "Checking the tile service…");
    let answer;
    try {
      answer = await postJson("/api/v1/datasets/" + config.dataset + "/tile_services", payload);
    } catch (error) {
      answer = null;
    }
    button.disabled = false;
    setText(summary, "");
    if (!answer) {
      setText(message, "The connection dropped. Sending it again is safe: the same key updates the row.");
      show(message, true);
      return;
    }
    if (answer.status !== 201) {
      setText(message, errorMessage(answer));
      show(message, true);
      return;
    }
    const r = answer.body;
    setText(summary, (r.created ? "Row created" : "Row updated") + ": " + payload.global_key + " · " +
      r.width.toLocaleString() + " × " + r.height.toLocaleString() + " px at zoom " + payload.max_zoom);
    onStored([payload.global_key], r.created);
  });
}
