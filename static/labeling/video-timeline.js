/* The video editor's timeline: one row per track with its keyframes (ticks) and outside ranges (hatched), the
 * playhead, and a ruler; a click anywhere jumps to that frame. Rendered as DOM (user text via textContent). */
import { h } from "./dom.js";
import { outsideRanges } from "./video-tracks.js";

const pct = (frame, count) => `${(100 * frame) / Math.max(count, 1)}%`;

export class Timeline {
  constructor(node, { frameCount, seek, select }) {
    this.node = node;
    this.frameCount = frameCount;
    this.seek = seek;
    this.select = select;
    this.playheads = [];
    node.addEventListener("pointerdown", (event) => {
      const lane = event.target.closest(".tl-lane");
      if (!lane) return;
      const rect = lane.getBoundingClientRect();
      const frame = Math.round(((event.clientX - rect.left) / rect.width) * this.frameCount);
      const row = event.target.closest("[data-track]");
      if (row) this.select(row.dataset.track);
      this.seek(Math.min(Math.max(frame, 0), this.frameCount - 1));
    });
  }

  render(tracks, selected, numbers) {
    const count = this.frameCount;
    const rows = [h("div", { class: "tl-row tl-ruler" }, h("span", { class: "tl-name" }, "Frame"), this.ruler())];
    for (const track of tracks) {
      const lane = h("div", { class: "tl-lane" });
      const first = track.keyframes.length ? track.keyframes[0].frame : 0;
      lane.append(h("span", { class: "tl-span", style: `left:${pct(first, count)};right:0` }));
      for (const [start, end] of outsideRanges(track, count)) {
        lane.append(h("span", { class: "tl-outside", title: `Outside ${start}–${end}`, style: `left:${pct(start, count)};width:${pct(end - start + 1, count)}` }));
      }
      for (const key of track.keyframes) {
        lane.append(h("span", { class: key.outside ? "tl-key outside" : "tl-key", title: `Keyframe ${key.frame}`, style: `left:${pct(key.frame, count)}` }));
      }
      const name = h("span", { class: "tl-name" });
      name.textContent = `${numbers.get(track.id) || ""} ${track.toolNode.name}`;
      rows.push(h("div", { class: track.id === selected ? "tl-row selected" : "tl-row", "data-track": track.id }, name, lane));
    }
    this.node.replaceChildren(...rows);
    this.playheads = [...this.node.querySelectorAll(".tl-lane")].map((lane) => {
      const head = h("span", { class: "tl-playhead" });
      lane.append(head);
      return head;
    });
  }

  ruler() {
    const lane = h("div", { class: "tl-lane" });
    const step = Math.max(1, Math.ceil(this.frameCount / 10 / 10) * 10);
    for (let f = 0; f < this.frameCount; f += step) {
      const tick = h("span", { class: "tl-tick", style: `left:${pct(f, this.frameCount)}` });
      tick.textContent = String(f);
      lane.append(tick);
    }
    return lane;
  }

  moveTo(frame) {
    const left = pct(frame, this.frameCount);
    for (const head of this.playheads) head.style.left = left;
  }
}
