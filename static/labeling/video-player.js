/* The video editor's frame-accurate player, built for fast frame steps.
 *
 * Seeking a <video> is slow: the browser flushes its decoder and decodes again from the previous keyframe, so a
 * step cost 60–190 ms at 1080p. Here a step never waits for a seek when the frame is decoded already:
 * - a hidden decoder <video> plays ahead of the current frame and every frame it presents
 *   (requestVideoFrameCallback, frame index from the probed frame table via mediaTime) is kept as an ImageBitmap at
 *   the displayed size: AHEAD frames after the current one and BEHIND before it (bounded by BUDGET bytes);
 * - while paused the picture is a canvas (#video-frame) painted from that cache: a cached step is one drawImage;
 * - a frame not cached (a far jump) is fetched by seeking the decoder to the middle of its display interval;
 * - playing uses the main <video> (#video-asset), shown only while it plays.
 * `onFrame(frame)` runs when the current frame changes (overlay, timeline); the html element's data-video-frame is
 * the current frame and data-video-shown the frame whose picture is on screen (and a `tdp-frame-shown` event). */
import { h } from "./dom.js";

const AHEAD = 40;
const BEHIND = 16;
const BUDGET = 360e6; // bytes of decoded frames at most (4 per pixel)
const DECODE_RATE = 1; // the decoder plays ahead at this rate (faster drops frames)
// A presented frame is identified by its own timestamp (WebCodecs' VideoFrame of the element), never by the time a
// callback ran. Without WebCodecs (a page not in a secure context) nothing is decoded ahead: each frame is fetched
// by a seek, and the paused element then holds exactly that frame.
const AHEAD_OK = typeof window.VideoFrame === "function" && "requestVideoFrameCallback" in HTMLVideoElement.prototype;

export class Player {
  constructor({ src, times, frameCount, width, height, onFrame }) {
    this.times = times;
    this.count = frameCount;
    this.width = width;
    this.height = height;
    this.onFrame = onFrame;
    this.frame = 0;
    this.shown = -1;
    this.playing = false;
    this.cache = new Map(); // frame → ImageBitmap
    this.pending = new Set(); // frames being turned into bitmaps
    this.head = -1; // the frame the decoder presented last
    this.seekingTo = -1;
    this.video = h("video", { id: "video-asset", class: "video-main", muted: true, playsinline: true, preload: "auto", src });
    this.decoder = h("video", { class: "video-decoder", muted: true, playsinline: true, preload: "auto", src, "aria-hidden": "true", tabindex: "-1" });
    this.picture = h("canvas", { id: "video-frame", class: "video-frame" });
    this.ctx = this.picture.getContext("2d", { alpha: false });
    this.video.muted = this.decoder.muted = true; // the attribute alone does not mute a created element
    this.decoder.playbackRate = DECODE_RATE;
    // The frame a seek lands on is presented (requestVideoFrameCallback) after `seeked`: wait for it, or take the
    // element's frame if no callback comes.
    this.decoder.addEventListener("seeked", () => {
      const sought = this.seekingTo;
      if (sought < 0) this.pump(); // its frame came already: go on
      else window.setTimeout(() => this.seekingTo === sought && this.decoded(null), 250);
    });
    const onDecoded = (_now, meta) => {
      this.decoded(meta);
      this.decoder.requestVideoFrameCallback(onDecoded);
    };
    this.decoder.requestVideoFrameCallback(onDecoded);
    this.decoder.addEventListener("ended", () => this.pump());
    if (AHEAD_OK) {
      this.worker = new Worker(new URL("./video-frame-worker.js", import.meta.url));
      this.worker.onmessage = (event) => this.converted(event.data);
    }
  }

  /** The frame shown at `seconds`: the last frame whose start time is at or before it. */
  frameOf(seconds) {
    let lo = 0;
    let hi = this.count - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.times[mid] <= seconds + 1e-6) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  middleOf(f) {
    return f + 1 < this.count ? (this.times[f] + this.times[f + 1]) / 2 : this.times[f] + 0.001;
  }

  /** Size the picture and the cached frames like the displayed video (never larger than the video itself). */
  fit(cssWidth, cssHeight) {
    const w = Math.max(1, Math.min(Math.round(cssWidth), this.width));
    const hgt = Math.max(1, Math.min(Math.round(cssHeight), this.height));
    if (w === this.picture.width && hgt === this.picture.height) return;
    this.picture.width = w;
    this.picture.height = hgt;
    this.clear();
    this.shown = -1;
    this.paint();
    this.pump();
  }

  clear() {
    for (const bitmap of this.cache.values()) bitmap.close();
    this.cache.clear();
  }

  /** How many frames fit the memory budget around the current frame. */
  window() {
    const per = Math.max(1, this.picture.width * this.picture.height * 4);
    const total = Math.max(8, Math.min(AHEAD + BEHIND + 1, Math.floor(BUDGET / per)));
    const ahead = Math.round((total * AHEAD) / (AHEAD + BEHIND + 1));
    return [Math.max(0, this.frame - (total - ahead - 1)), Math.min(this.count - 1, this.frame + ahead)];
  }

  /** Go to frame `target` (paused); the picture follows as soon as the frame is decoded (at once when cached). */
  goTo(target) {
    const f = Math.min(Math.max(Math.round(Number(target) || 0), 0), this.count - 1);
    if (this.playing) this.pause(false);
    this.frame = f;
    this.setFrame(f);
    this.paint();
    this.evict();
    this.pump();
    return f;
  }

  setFrame(f) {
    this.frame = f;
    document.documentElement.dataset.videoFrame = String(f);
    this.onFrame(f);
  }

  paint() {
    const bitmap = this.cache.get(this.frame);
    if (!bitmap || this.playing) return false;
    this.ctx.drawImage(bitmap, 0, 0, this.picture.width, this.picture.height);
    this.shown = this.frame;
    document.documentElement.dataset.videoShown = String(this.frame);
    document.dispatchEvent(new CustomEvent("tdp-frame-shown", { detail: { frame: this.frame } }));
    return true;
  }

  evict() {
    const [lo, hi] = this.window();
    for (const [f, bitmap] of this.cache) {
      if (f < lo || f > hi) {
        bitmap.close();
        this.cache.delete(f);
      }
    }
  }

  /** Keep the decoder busy with the first frame missing from the current frame onwards. */
  pump() {
    if (this.playing || !this.decoder.readyState) return;
    const hi = AHEAD_OK ? this.window()[1] : this.frame;
    let missing = -1;
    for (let f = this.frame; f <= hi; f += 1) {
      if (!this.cache.has(f) && !this.pending.has(f)) {
        missing = f;
        break;
      }
    }
    if (missing < 0) {
      if (!this.decoder.paused) this.decoder.pause();
      return;
    }
    if (this.decoder.seeking || this.seekingTo >= 0) return; // its seek ends in decoded(), which pumps again
    if (this.pending.size >= 4) {
      this.decoder.pause(); // the worker is behind: converted() pumps again
      return;
    }
    if (AHEAD_OK && this.head >= this.frame - 1 && this.head < missing && missing - this.head <= 6 && !this.decoder.ended) {
      if (this.decoder.paused) this.decoder.play().catch(() => null); // it stands just before: play on
      return;
    }
    this.decoder.pause();
    this.seekingTo = missing;
    this.decoder.currentTime = this.middleOf(missing);
  }

  /** The decoder presents a frame (`meta` of requestVideoFrameCallback, null when none came after a seek). */
  decoded(meta) {
    const decoder = this.decoder;
    let known = -1;
    if (!AHEAD_OK) {
      if (decoder.seeking || !decoder.paused) return; // without the frame's own timestamp: only a settled seek
      known = meta ? this.frameOf(meta.mediaTime) : this.seekingTo;
    }
    const f = this.capture(decoder, known); // identified by its own timestamp (the frame the bitmap is made of)
    if (f >= 0) this.head = f;
    if (f === this.seekingTo || !meta) this.seekingTo = -1; // the sought frame (presented before `seeked` fires)
    this.pump();
  }

  /** Keep the frame `source` holds (`known`: its index when the element was paused by a seek to it); its index.
   * With WebCodecs the frame goes to the worker, which returns it scaled (converted()). */
  capture(source, known = -1) {
    let frame = null;
    let f = known;
    if (AHEAD_OK) {
      try {
        frame = new VideoFrame(source);
        f = this.frameOf(frame.timestamp / 1e6);
      } catch (err) {
        return -1; // nothing decoded yet
      }
    }
    const [lo, hi] = this.window();
    if (f < lo || f > hi || this.cache.has(f) || this.pending.has(f)) {
      if (frame) frame.close();
      return f;
    }
    this.pending.add(f);
    const width = this.picture.width;
    const height = this.picture.height;
    if (frame) {
      this.worker.postMessage({ frame, f, width, height }, [frame]);
      return f;
    }
    createImageBitmap(source, { resizeWidth: width, resizeHeight: height, resizeQuality: "medium" })
      .then((bitmap) => this.converted({ f, width, height, bitmap }))
      .catch(() => this.converted({ f, width, height }));
    return f;
  }

  /** A frame came back as a bitmap (or an error). */
  converted({ f, width, height, bitmap }) {
    this.pending.delete(f);
    const [lo, hi] = this.window();
    const fits = width === this.picture.width && height === this.picture.height;
    if (!bitmap || f < lo || f > hi || this.cache.has(f) || !fits) {
      if (bitmap) bitmap.close();
    } else {
      this.cache.set(f, bitmap);
      if (f === this.frame && this.shown !== f) this.paint();
    }
    this.pump();
  }

  toggle(rate) {
    if (this.playing) this.pause(true);
    else this.play(rate);
    return this.playing;
  }

  play(rate) {
    this.playing = true;
    this.decoder.pause();
    const video = this.video;
    video.playbackRate = rate;
    video.currentTime = this.middleOf(this.frame);
    video.classList.add("playing");
    this.picture.hidden = true;
    video.play().catch(() => null);
    const onFrame = (_now, meta) => {
      if (!this.playing) return;
      this.setFrame(this.frameOf(meta.mediaTime));
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
  }

  /** Stop playing; `keep`: stay on the frame the video shows (else the caller goes to another frame). */
  pause(keep) {
    this.playing = false;
    const video = this.video;
    video.pause();
    video.classList.remove("playing");
    this.picture.hidden = false;
    if (!keep) return;
    const f = this.frameOf(video.currentTime);
    this.shown = -1;
    if (!this.cache.has(f) && video.readyState >= 2) this.capture(video, AHEAD_OK ? -1 : f);
    this.goTo(f);
  }

  setRate(rate) {
    this.video.playbackRate = rate;
  }
}
