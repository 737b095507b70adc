/* Video tracks in the browser (pure, no DOM): the same rules as apps/ontologies/domain/video.py.
 * A track = {trackId, tool, keyframes: [{frame, geom} | {frame, outside: true}] sorted by frame, answers}.
 * The object appears at its first keyframe and stays until the video ends unless a keyframe says `outside`.
 * Between two keyframes with shapes, boxes and points are interpolated linearly (polygons with equal vertex counts
 * too); otherwise the earlier shape holds. */

const lerp = (a, b, t) => (t === 0 || a === b ? a : a + (b - a) * t);

export function interpolate(tool, a, b, t) {
  if (tool === "bbox") {
    return { left: lerp(a.left, b.left, t), top: lerp(a.top, b.top, t), width: lerp(a.width, b.width, t), height: lerp(a.height, b.height, t) };
  }
  if (tool === "point") return { x: lerp(a.x, b.x, t), y: lerp(a.y, b.y, t) };
  if ((tool === "polygon" || tool === "polyline") && a.length === b.length) {
    return a.map((p, i) => ({ x: lerp(p.x, b[i].x, t), y: lerp(p.y, b[i].y, t) }));
  }
  return a;
}

/** Index of the last keyframe at or before `frame` (-1 when none). */
function before(track, frame) {
  let lo = 0;
  let hi = track.keyframes.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (track.keyframes[mid].frame <= frame) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/** {geom, keyframe} at `frame`, or null when the object is not visible there. */
export function shapeAt(track, frame) {
  const i = before(track, frame);
  if (i < 0) return null;
  const a = track.keyframes[i];
  if (a.outside) return null;
  if (a.frame === frame) return { geom: a.geom, keyframe: true };
  const b = track.keyframes[i + 1];
  if (b && !b.outside) return { geom: interpolate(track.tool, a.geom, b.geom, (frame - a.frame) / (b.frame - a.frame)), keyframe: false };
  return { geom: a.geom, keyframe: false };
}

/** Set (or replace) the keyframe at `frame`. */
export function setKeyframe(track, frame, geom) {
  const i = before(track, frame);
  if (i >= 0 && track.keyframes[i].frame === frame) track.keyframes[i] = { frame, geom };
  else track.keyframes.splice(i + 1, 0, { frame, geom });
}

/** Mark the object outside from `frame` (or, on an outside keyframe, remove that mark). */
export function toggleOutside(track, frame) {
  const i = before(track, frame);
  if (i >= 0 && track.keyframes[i].frame === frame && track.keyframes[i].outside) {
    track.keyframes.splice(i, 1);
    return false;
  }
  if (i >= 0 && track.keyframes[i].frame === frame) track.keyframes.splice(i, 1);
  const at = before(track, frame);
  track.keyframes.splice(at + 1, 0, { frame, outside: true });
  return true;
}

/** Inclusive [start, end] ranges where the object is hidden by an outside keyframe. */
export function outsideRanges(track, frameCount) {
  const ranges = [];
  track.keyframes.forEach((k, i) => {
    if (!k.outside) return;
    const next = track.keyframes[i + 1];
    const end = next ? next.frame - 1 : frameCount - 1;
    const last = ranges[ranges.length - 1];
    if (last && last[1] === k.frame - 1) last[1] = end;
    else ranges.push([k.frame, end]);
  });
  return ranges;
}

const GEOMETRY_KEY = { bbox: "bbox", polygon: "polygon", polyline: "line", point: "point" };

export function serializeTrack(track) {
  const key = GEOMETRY_KEY[track.tool];
  return track.keyframes.map((k) => (k.outside ? { frame: k.frame, outside: true } : { frame: k.frame, [key]: k.geom }));
}

export function parseKeyframes(tool, list) {
  const key = GEOMETRY_KEY[tool];
  return (Array.isArray(list) ? list : [])
    .map((k) => (k.outside ? { frame: k.frame, outside: true } : { frame: k.frame, geom: k[key] }))
    .sort((a, b) => a.frame - b.frame);
}

/** Keyframes of two tracks merged into one (the rule the editor's Merge button documents): the track that starts
 * first keeps its keyframes before the other's first keyframe (an outside mark there keeps a gap hidden); from that
 * frame on, the later track's keyframes hold. Overlapping frames therefore follow the later track. */
export function mergeKeyframes(first, second) {
  const [early, late] = first.keyframes[0].frame <= second.keyframes[0].frame ? [first, second] : [second, first];
  const from = late.keyframes[0].frame;
  return early.keyframes.filter((k) => k.frame < from).concat(late.keyframes.map((k) => ({ ...k })));
}

/** The track of `tracks` that appears first (its id and answers are kept by a merge). */
export function earlier(a, b) {
  return a.keyframes[0].frame <= b.keyframes[0].frame ? a : b;
}
