/* COCO RLE for the mask tool (mask.js), without the DOM: the compressed counts string exactly as pycocotools writes
 * and reads it, decoding, bounds (= toBbox), brush capsules, hole filling and pycocotools' polygon rasteriser
 * (rleFrPoly, so a polygon fill here sets the same pixels as a polygon mask imported on the server). */
import { clamp } from "./dom.js";

/** counts (numbers) → the compressed string (pycocotools' rleToString). */
export function compressCounts(counts) {
  let out = "";
  for (let i = 0; i < counts.length; i += 1) {
    let x = counts[i] - (i > 2 ? counts[i - 2] : 0);
    let more = true;
    while (more) {
      let c = x & 0x1f;
      x >>= 5;
      more = c & 0x10 ? x !== -1 : x !== 0;
      if (more) c |= 0x20;
      out += String.fromCharCode(c + 48);
    }
  }
  return out;
}

/** The compressed string → counts (rleFrString). */
export function decompressCounts(s) {
  const counts = [];
  let p = 0;
  while (p < s.length) {
    let x = 0;
    let k = 0;
    let more = true;
    while (more && p < s.length) {
      const c = s.charCodeAt(p) - 48;
      x += (c & 0x1f) * 2 ** (5 * k);
      more = (c & 0x20) !== 0;
      p += 1;
      k += 1;
      if (!more && c & 0x10) x -= 2 ** (5 * k);
    }
    if (counts.length > 2) x += counts[counts.length - 2];
    counts.push(x);
  }
  return counts;
}

/** A row-major h × w array of 0/1 → {size, counts}. */
export function encodeMask(pixels, h, w) {
  const counts = [];
  let run = 0;
  let value = 0;
  for (let x = 0; x < w; x += 1) {
    for (let y = 0, i = x; y < h; y += 1, i += w) {
      const v = pixels[i] ? 1 : 0;
      if (v !== value) {
        counts.push(run);
        run = 0;
        value = v;
      }
      run += 1;
    }
  }
  counts.push(run);
  return { size: [h, w], counts: compressCounts(counts) };
}

/** {size, counts} → a row-major Uint8Array of 0/1. */
export function decodeMask(geom) {
  return decodeRuns(decompressCounts(geom.counts), geom.size[0], geom.size[1]);
}

/** Uncompressed counts (column-major runs, zeros first) → a row-major Uint8Array of 0/1 (into `pixels` if given). */
export function decodeRuns(counts, h, w, pixels = new Uint8Array(h * w)) {
  let at = 0;
  for (let r = 0; r < counts.length; r += 1) {
    const end = at + counts[r];
    if (r % 2 === 1) for (let j = at; j < end; j += 1) pixels[(j % h) * w + Math.floor(j / h)] = 1;
    at = end;
  }
  return pixels;
}

const decoded = new Map(); // counts string → pixels (a few recent masks)
/** The decoded pixels of a mask geometry (cached by its counts string: do not modify them, copy first). */
export function pixelsOf(geom) {
  let pixels = decoded.get(geom.counts);
  if (!pixels) {
    pixels = decodeMask(geom);
    if (decoded.size > 64) decoded.delete(decoded.keys().next().value);
    decoded.set(geom.counts, pixels);
  }
  return pixels;
}

/** Cache pixels just encoded as `counts` (the next render needs no decoding). */
export function remember(counts, pixels) {
  decoded.set(counts, pixels);
}

const boxes = new Map();
/** {left, top, right, bottom} of the set pixels (for labels, hit lists and "zoom to"), or null when empty. */
export function maskBounds(geom) {
  if (!geom || !Array.isArray(geom.size) || typeof geom.counts !== "string") return null;
  if (boxes.has(geom.counts)) return boxes.get(geom.counts);
  const h = geom.size[0];
  const counts = decompressCounts(geom.counts);
  let box = null;
  let at = 0;
  for (let r = 0; r < counts.length; r += 1) {
    const end = at + counts[r];
    if (r % 2 === 1 && end > at) {
      const x0 = Math.floor(at / h);
      const x1 = Math.floor((end - 1) / h);
      const y0 = x1 > x0 ? 0 : at % h;
      const y1 = x1 > x0 ? h - 1 : (end - 1) % h;
      box = box || { left: x0, top: y0, right: x1 + 1, bottom: y1 + 1 };
      box = {
        left: Math.min(box.left, x0),
        top: Math.min(box.top, y0),
        right: Math.max(box.right, x1 + 1),
        bottom: Math.max(box.bottom, y1 + 1),
      };
    }
    at = end;
  }
  if (boxes.size > 256) boxes.delete(boxes.keys().next().value);
  boxes.set(geom.counts, box);
  return box;
}

export function parseMask(raw) {
  const ok = raw && Array.isArray(raw.size) && raw.size.length === 2 && typeof raw.counts === "string";
  return ok ? { size: [raw.size[0], raw.size[1]], counts: raw.counts } : null;
}

/** Set (value 1) or clear (0) every pixel whose centre is within r of the segment a–b; returns the touched rect. */
export function stampSegment(pixels, w, h, a, b, r, value) {
  const x0 = clamp(Math.floor(Math.min(a.x, b.x) - r), 0, w);
  const x1 = clamp(Math.ceil(Math.max(a.x, b.x) + r), 0, w);
  const y0 = clamp(Math.floor(Math.min(a.y, b.y) - r), 0, h);
  const y1 = clamp(Math.ceil(Math.max(a.y, b.y) + r), 0, h);
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const len = dx * dx + dy * dy;
  const r2 = r * r;
  for (let y = y0; y < y1; y += 1) {
    const cy = y + 0.5;
    for (let x = x0; x < x1; x += 1) {
      const cx = x + 0.5;
      const t = len ? clamp(((cx - a.x) * dx + (cy - a.y) * dy) / len, 0, 1) : 0;
      const ex = cx - (a.x + t * dx);
      const ey = cy - (a.y + t * dy);
      if (ex * ex + ey * ey <= r2) pixels[y * w + x] = value;
    }
  }
  return { x0, y0, x1, y1 };
}

/** Set every unset pixel that the image border cannot reach through unset pixels (4-connected): the holes. */
export function fillHoles(pixels, w, h) {
  const out = pixels.slice();
  const seen = new Uint8Array(w * h);
  const queue = new Int32Array(w * h);
  let head = 0;
  let tail = 0;
  const push = (i) => {
    if (!out[i] && !seen[i]) {
      seen[i] = 1;
      queue[tail++] = i;
    }
  };
  for (let x = 0; x < w; x += 1) [push(x), push((h - 1) * w + x)];
  for (let y = 0; y < h; y += 1) [push(y * w), push(y * w + w - 1)];
  while (head < tail) {
    const i = queue[head++];
    const x = i % w;
    if (x > 0) push(i - 1);
    if (x < w - 1) push(i + 1);
    if (i >= w) push(i - w);
    if (i < w * (h - 1)) push(i + w);
  }
  for (let i = 0; i < out.length; i += 1) if (!out[i] && !seen[i]) out[i] = 1;
  return out;
}

/** pycocotools' rleFrPoly: the polygon [x0, y0, x1, y1, ...] (image px) → uncompressed counts of an h × w mask,
 * pixel for pixel as `frPyObjects` (and the server's `rle.from_polygon`): the outline is upsampled ×5 and walked edge
 * by edge; each column's crossings become run boundaries. */
export function polygonCounts(xy, h, w) {
  const k = Math.floor(xy.length / 2);
  if (!k) return [h * w];
  const scale = 5;
  const x = [];
  const y = [];
  for (let j = 0; j < k; j += 1) {
    x.push(Math.trunc(scale * xy[2 * j] + 0.5));
    y.push(Math.trunc(scale * xy[2 * j + 1] + 0.5));
  }
  x.push(x[0]);
  y.push(y[0]);
  const u = [];
  const v = [];
  for (let j = 0; j < k; j += 1) {
    let [xs, xe, ys, ye] = [x[j], x[j + 1], y[j], y[j + 1]];
    const dx = Math.abs(xe - xs);
    const dy = Math.abs(ys - ye);
    const flip = (dx >= dy && xs > xe) || (dx < dy && ys > ye);
    if (flip) [xs, xe, ys, ye] = [xe, xs, ye, ys];
    if (dx >= dy) {
      const s = dx ? (ye - ys) / dx : 0;
      for (let d = 0; d <= dx; d += 1) {
        const t = flip ? dx - d : d;
        u.push(t + xs);
        v.push(Math.trunc(ys + s * t + 0.5));
      }
    } else {
      const s = (xe - xs) / dy;
      for (let d = 0; d <= dy; d += 1) {
        const t = flip ? dy - d : d;
        v.push(t + ys);
        u.push(Math.trunc(xs + s * t + 0.5));
      }
    }
  }
  const a = [];
  for (let j = 1; j < u.length; j += 1) {
    if (u[j] === u[j - 1]) continue; // a crossing of a pixel column's centre happens where the column changes
    const xd = ((u[j] < u[j - 1] ? u[j] : u[j] - 1) + 0.5) / scale - 0.5;
    if (Math.floor(xd) !== xd || xd < 0 || xd > w - 1) continue;
    const yd = ((v[j] < v[j - 1] ? v[j] : v[j - 1]) + 0.5) / scale - 0.5;
    a.push(xd * h + Math.ceil(clamp(yd, 0, h)));
  }
  a.push(h * w);
  a.sort((p, q) => p - q);
  const diffs = a.map((value, i) => value - (i ? a[i - 1] : 0));
  const counts = [diffs[0]];
  for (let i = 1; i < diffs.length; ) {
    if (diffs[i] > 0) counts.push(diffs[i++]);
    else {
      i += 1; // two crossings at one pixel cancel: the next run joins the previous one
      if (i < diffs.length) counts[counts.length - 1] += diffs[i++];
    }
  }
  return counts;
}

/** The polygon's pixels set in `pixels` (row-major 0/1 of w × h), as `polygonCounts` rasterises it. */
export function fillPolygon(pixels, w, h, points) {
  return decodeRuns(polygonCounts(points.flatMap((p) => [p.x, p.y]), h, w), h, w, pixels);
}
