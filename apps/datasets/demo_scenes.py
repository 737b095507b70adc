"""Procedurally drawn street scenes for the demo (Pillow, no network, deterministic).

`scene_spec(i)` describes scene `i` (sensor, split, time, weather, every object with its exact box, the lane lines
and the crosswalk) from a fixed seed; `render(spec)` draws it as a 640×480 RGB image. The ground truth of the demo
is the spec itself, so a box in a label is exactly the extent of what was drawn (clipped to the image).

The view is a street seen from the kerb: sky and buildings, a far sidewalk, a two-lane road with its edge and centre
lines (and sometimes a zebra crossing), a near sidewalk. Vehicles are drawn in profile (cars, taxis, police cars,
trucks, buses, ambulances with their light bar on or off), people walk on the sidewalks and crossings, bicycles are
ridden in the road or parked.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from PIL import Image, ImageDraw, ImageFilter

WIDTH, HEIGHT = 640, 480
SEED = 20261207
SENSORS = ("north-cam", "south-cam", "west-cam", "east-cam")
WORSE_SENSOR = "east-cam"  # a smudged lens: blurred, low contrast, and the simulated detector does worse there
SPLITS = (("train", 0.7), ("valid", 0.15), ("test", 0.15))
STREETS = {
    "north-cam": "Harbor Road",
    "south-cam": "Market Street",
    "west-cam": "Station Square",
    "east-cam": "Elm Avenue",
}
EPOCH = datetime(2026, 9, 1, 6, 0, tzinfo=UTC)

Box = tuple[float, float, float, float]  # left, top, width, height
Point = tuple[float, float]


@dataclass
class Thing:
    """One drawn object: its class (`car`, `truck`, `bus`, `ambulance`, `bicycle`, `person`), its exact box and its
    attributes (`kind` of a car, `lights_on` of an ambulance or police car)."""

    cls: str
    box: Box
    attrs: dict[str, str] = field(default_factory=dict)


@dataclass
class Scene:
    index: int
    global_key: str
    sensor: str
    split: str
    captured_at: datetime
    time_of_day: str  # day, dusk, night
    weather: str  # sunny, overcast, rain
    things: list[Thing]
    lanes: list[list[Point]]
    crosswalk: list[Point] | None
    seed: int
    draw: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    @property
    def tags(self) -> list[str]:
        tags = []
        if len(self.things) >= 9:
            tags.append("crowded")
        if any(_overlap(a.box, b.box) for n, a in enumerate(self.things) for b in self.things[n + 1 :]):
            tags.append("occlusion")
        if self.sensor == WORSE_SENSOR:
            tags.append("blurry")
        return tags

    @property
    def caption(self) -> str:
        counts: dict[str, int] = {}
        for thing in self.things:
            counts[thing.cls] = counts.get(thing.cls, 0) + 1
        parts = [f"{n} {cls if n == 1 else _plural(cls)}" for cls, n in sorted(counts.items(), key=lambda x: -x[1])]
        return f"{', '.join(parts[:3])} on {STREETS[self.sensor]}, {self.weather}, {self.time_of_day}"


def _plural(cls: str) -> str:
    return {"bus": "buses", "person": "people"}.get(cls, cls + "s")


def _overlap(a: Box, b: Box) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def _pick(rng: random.Random, weighted: list[tuple[str, float]]) -> str:
    roll, total = rng.random(), 0.0
    for value, weight in weighted:
        total += weight
        if roll < total:
            return value
    return weighted[-1][0]


# --- sizes (at scale 1: width, height) -----------------------------------------------------------------------------
SIZES = {"car": (150, 58), "truck": (215, 100), "bus": (265, 105), "ambulance": (170, 90), "bicycle": (62, 40)}
PERSON = (22, 66)


def _clip(box: Box) -> Box:
    left, top = max(0.0, box[0]), max(0.0, box[1])
    right, bottom = min(float(WIDTH), box[0] + box[2]), min(float(HEIGHT), box[1] + box[3])
    return (round(left, 1), round(top, 1), round(right - left, 1), round(bottom - top, 1))


def scene_spec(index: int, seed: int = SEED) -> Scene:
    """The description of scene `index`: everything `render` draws, with exact boxes."""
    rng = random.Random(seed * 100_003 + index)  # noqa: S311 - a drawing, not a secret
    sensor = SENSORS[index % len(SENSORS)]
    split = _pick(rng, list(SPLITS))
    time_of_day = _pick(rng, [("day", 0.6), ("dusk", 0.2), ("night", 0.2)])
    weather = _pick(rng, [("sunny", 0.5), ("overcast", 0.3), ("rain", 0.2)])
    if time_of_day == "night" and weather == "sunny":
        weather = "overcast" if rng.random() < 0.6 else "rain"
    hour = {"day": rng.randint(8, 16), "dusk": rng.randint(17, 18), "night": rng.choice([20, 21, 22, 23, 5])}[
        time_of_day
    ]
    captured_at = EPOCH + timedelta(days=index // 8, hours=hour - 6, minutes=rng.randint(0, 59))
    dy, slope = rng.uniform(-14, 14), rng.uniform(-0.035, 0.035)

    def road_y(y0: float, x: float) -> float:
        return y0 + dy + slope * (x - WIDTH / 2)

    lanes = [[(0.0, round(road_y(y, 0), 1)), (float(WIDTH), round(road_y(y, WIDTH), 1))] for y in (254, 322, 398)]
    things: list[Thing] = []
    draw: list[tuple[str, dict[str, Any]]] = []
    crosswalk = None
    if rng.random() < 0.4:
        x0 = rng.uniform(140, 430)
        top_l, top_r = (x0, road_y(256, x0)), (x0 + 80, road_y(256, x0 + 80))
        bot_l, bot_r = (x0 + 26, road_y(396, x0 + 26)), (x0 + 106, road_y(396, x0 + 106))
        crosswalk = [(round(x, 1), round(y, 1)) for x, y in (top_l, top_r, bot_r, bot_l)]
    # Far sidewalk people (small), then the far lane, the near lane, the near sidewalk.
    for _ in range(rng.randint(0, 3)):
        x = rng.uniform(10, WIDTH - 30)
        _person(things, draw, rng, x, road_y(250, x), 0.55)
    for lane_y, scale, direction in ((314, 0.6, -1), (390, 0.9, 1)):
        x = rng.uniform(-20, 60)
        while True:
            cls = _pick(rng, [("car", 0.55), ("truck", 0.15), ("bus", 0.12), ("ambulance", 0.1), ("bicycle", 0.08)])
            w, h = SIZES[cls][0] * scale, SIZES[cls][1] * scale
            if x + w > WIDTH - 8:
                break
            if x >= 4:
                base = road_y(lane_y, x + w / 2)
                attrs: dict[str, str] = {}
                if cls == "car":
                    attrs["kind"] = _pick(rng, [("sedan", 0.6), ("taxi", 0.25), ("police", 0.15)])
                    if attrs["kind"] == "police":
                        attrs["lights_on"] = "yes" if rng.random() < 0.5 else "no"
                if cls == "ambulance":
                    attrs["lights_on"] = "yes" if rng.random() < 0.6 else "no"
                color = rng.choice(CAR_COLORS) if cls == "car" else rng.choice(BODY_COLORS)
                if cls == "bicycle":
                    things.append(Thing("bicycle", _clip((x, base - h, w, h))))
                    draw.append(("bicycle", {"x": x, "base": base, "s": scale, "dir": direction, "depth": base}))
                    _person(things, draw, rng, x + w * 0.3, base - h * 0.5, scale, riding=True, depth=base + 0.1)
                else:
                    things.append(Thing(cls, _clip((x, base - h, w, h)), attrs))
                    params = {"x": x, "base": base, "s": scale, "dir": direction, "color": color, "depth": base}
                    draw.append((cls, params | attrs))
            x += w + rng.uniform(25, 170)
    if crosswalk is not None:
        for _ in range(rng.randint(0, 2)):
            t = rng.uniform(0.15, 0.85)
            x = crosswalk[0][0] + 26 * t + rng.uniform(20, 60)
            _person(things, draw, rng, x, road_y(256 + 140 * t, x), 0.6 + 0.35 * t)
    for _ in range(rng.randint(1, 4)):
        x = rng.uniform(10, WIDTH - 40)
        _person(things, draw, rng, x, rng.uniform(455, 474), 1.0)
    if rng.random() < 0.35:
        x, base = rng.uniform(20, WIDTH - 90), rng.uniform(448, 470)
        w, h = SIZES["bicycle"]
        things.append(Thing("bicycle", _clip((x, base - h, w, h))))
        draw.append(("bicycle", {"x": x, "base": base, "s": 1.0, "dir": rng.choice([-1, 1]), "depth": base}))
    scene = Scene(
        index=index,
        global_key=f"street-{index:04d}",
        sensor=sensor,
        split=split,
        captured_at=captured_at,
        time_of_day=time_of_day,
        weather=weather,
        things=things,
        lanes=lanes,
        crosswalk=crosswalk,
        seed=rng.randint(0, 2**31),
        draw=draw,
    )
    return scene


def _person(
    things: list[Thing],
    draw: list[tuple[str, dict[str, Any]]],
    rng: random.Random,
    x: float,
    base: float,
    s: float,
    *,
    riding: bool = False,
    depth: float | None = None,
) -> None:
    w, h = PERSON[0] * s, PERSON[1] * s * (0.8 if riding else 1.0)
    things.append(Thing("person", _clip((x, base - h, w, h))))
    shirt, pants = rng.choice(SHIRTS), rng.choice(PANTS)
    draw.append(
        (
            "person",
            {
                "x": x,
                "base": base,
                "s": s,
                "shirt": shirt,
                "pants": pants,
                "riding": riding,
                "stride": rng.uniform(0.2, 1.0),
                "depth": base if depth is None else depth,
            },
        )
    )


# --- drawing --------------------------------------------------------------------------------------------------------
CAR_COLORS = [(200, 30, 40), (30, 70, 160), (235, 235, 235), (40, 40, 45), (120, 125, 135), (20, 110, 70)]
BODY_COLORS = [(235, 235, 230), (70, 110, 170), (200, 60, 40), (230, 180, 40), (90, 150, 90)]
SHIRTS = [(200, 50, 50), (50, 90, 200), (240, 200, 60), (60, 160, 90), (230, 230, 230), (150, 60, 160), (30, 30, 30)]
PANTS = [(40, 40, 60), (70, 60, 50), (30, 30, 35), (90, 100, 130)]
SKIES = {
    ("day", "sunny"): ((110, 170, 235), (190, 225, 250)),
    ("day", "overcast"): ((165, 170, 178), (200, 203, 208)),
    ("day", "rain"): ((120, 125, 135), (160, 163, 170)),
    ("dusk", "sunny"): ((70, 60, 130), (250, 160, 90)),
    ("dusk", "overcast"): ((90, 85, 110), (190, 140, 120)),
    ("dusk", "rain"): ((70, 70, 90), (140, 115, 110)),
    ("night", "overcast"): ((10, 14, 35), (35, 40, 70)),
    ("night", "rain"): ((12, 14, 28), (30, 34, 55)),
}


class Painter:
    def __init__(self, scene: Scene) -> None:
        self.scene = scene
        self.rng = random.Random(scene.seed)  # noqa: S311
        self.image = Image.new("RGB", (WIDTH, HEIGHT))
        self.d = ImageDraw.Draw(self.image)
        self.glow: list[tuple[str, Any, tuple[int, int, int]]] = []  # drawn after the night overlay

    def emissive(self, kind: str, xy: Any, color: tuple[int, int, int]) -> None:
        self.glow.append((kind, xy, color))

    def sky_and_buildings(self) -> None:
        top, bottom = SKIES[(self.scene.time_of_day, self.scene.weather)]
        for y in range(260):
            t = y / 260
            self.d.line(
                [(0, y), (WIDTH, y)], fill=tuple(int(a + (b - a) * t) for a, b in zip(top, bottom, strict=True))
            )
        if self.scene.time_of_day == "day" and self.scene.weather == "sunny":
            x = self.rng.uniform(60, 580)
            self.d.ellipse([x - 22, 30, x + 22, 74], fill=(255, 244, 200))
        x = -self.rng.uniform(0, 40)
        while x < WIDTH:
            w, h = self.rng.uniform(60, 140), self.rng.uniform(70, 200)
            base = 250
            shade = self.rng.choice(
                [(150, 120, 100), (180, 170, 150), (120, 110, 115), (170, 100, 80), (110, 130, 150)]
            )
            self.d.rectangle([x, base - h, x + w, base], fill=shade, outline=tuple(c - 30 for c in shade))
            for wy in range(int(base - h + 12), int(base - 20), 22):
                for wx in range(int(x + 8), int(x + w - 14), 18):
                    lit = self.scene.time_of_day != "day" and self.rng.random() < 0.45
                    box = [wx, wy, wx + 9, wy + 12]
                    if lit:
                        self.emissive("rect", box, (255, 220, 130))
                    else:
                        self.d.rectangle(box, fill=(90, 110, 130) if self.scene.time_of_day == "day" else (40, 45, 60))
            x += w + self.rng.uniform(-5, 10)

    def street(self) -> None:
        lanes = self.scene.lanes
        (_, y_top0), (_, y_top1) = lanes[0]
        (_, y_bot0), (_, y_bot1) = lanes[2]
        self.d.polygon([(0, y_top0 - 10), (WIDTH, y_top1 - 10), (WIDTH, y_top1), (0, y_top0)], fill=(165, 160, 152))
        asphalt = (70, 72, 76) if self.scene.weather != "rain" else (52, 55, 62)
        self.d.polygon([(0, y_top0), (WIDTH, y_top1), (WIDTH, y_bot1), (0, y_bot0)], fill=asphalt)
        self.d.polygon([(0, y_bot0), (WIDTH, y_bot1), (WIDTH, HEIGHT), (0, HEIGHT)], fill=(178, 174, 166))
        for x in range(0, WIDTH, 48):  # paving joints
            self.d.line([(x, y_bot0 + 4 + (y_bot1 - y_bot0) * x / WIDTH), (x - 30, HEIGHT)], fill=(160, 156, 148))
        for n, line in enumerate(lanes):
            (ax, ay), (bx, by) = line
            if n == 1:
                for start in range(0, WIDTH, 40):
                    t0, t1 = start / WIDTH, (start + 22) / WIDTH
                    self.d.line(
                        [(ax + (bx - ax) * t0, ay + (by - ay) * t0), (ax + (bx - ax) * t1, ay + (by - ay) * t1)],
                        fill=(240, 240, 235),
                        width=3,
                    )
            else:
                self.d.line([(ax, ay), (bx, by)], fill=(235, 235, 230), width=3)
        if self.scene.crosswalk:
            tl, tr, br, bl = self.scene.crosswalk
            for k in range(7):
                t0, t1 = k / 7 + 0.02, (k + 1) / 7 - 0.03
                quad = [_lerp(tl, bl, t0), _lerp(tr, br, t0), _lerp(tr, br, t1), _lerp(tl, bl, t1)]
                self.d.polygon(quad, fill=(232, 232, 226))

    def wheel(self, cx: float, cy: float, r: float) -> None:
        self.d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=(25, 25, 28))
        self.d.ellipse([cx - r * 0.5, cy - r * 0.5, cx + r * 0.5, cy + r * 0.5], fill=(150, 150, 155))

    def vehicle(self, cls: str, p: dict[str, Any]) -> None:
        x, base, s, direction = p["x"], p["base"], p["s"], p["dir"]
        w, h = SIZES[cls][0] * s, SIZES[cls][1] * s

        def X(u: float) -> float:
            return x + (u if direction > 0 else 1 - u) * w

        def Y(v: float) -> float:
            return base - v * h

        color = p["color"]
        if cls == "car":
            kind = p.get("kind", "sedan")
            color = {"taxi": (245, 200, 30), "police": (245, 245, 245)}.get(kind, color)
            self.d.rounded_rectangle(
                _rect(X(0), Y(0.72), X(1), Y(0.18)), radius=6 * s, fill=color, outline=(20, 20, 20)
            )
            self.d.polygon(
                [
                    (X(0.22), Y(0.7)),
                    (X(0.33), Y(1.0 if kind != "police" else 0.9)),
                    (X(0.68), Y(1.0 if kind != "police" else 0.9)),
                    (X(0.82), Y(0.7)),
                ],
                fill=color,
                outline=(20, 20, 20),
            )
            top = 0.97 if kind != "police" else 0.87
            self.d.polygon(
                [(X(0.27), Y(0.72)), (X(0.35), Y(top - 0.04)), (X(0.49), Y(top - 0.04)), (X(0.49), Y(0.72))],
                fill=(150, 190, 215),
            )
            self.d.polygon(
                [(X(0.52), Y(0.72)), (X(0.52), Y(top - 0.04)), (X(0.66), Y(top - 0.04)), (X(0.77), Y(0.72))],
                fill=(150, 190, 215),
            )
            if kind == "taxi":
                self.d.rectangle(_rect(X(0.44), Y(1.0), X(0.57), Y(1.0) - 6 * s), fill=(30, 30, 30))
            if kind == "police":
                self.d.rectangle(_rect(X(0.2), Y(0.52), X(0.85), Y(0.36)), fill=(20, 50, 150))
                bar = (X(0.4), Y(0.9) - 7 * s, X(0.6), Y(0.9))
                self._lightbar(bar, p.get("lights_on") == "yes")
            self.wheel(X(0.2), Y(0.18), 10.4 * s)
            self.wheel(X(0.8), Y(0.18), 10.4 * s)
            self._lamps(X, Y, 0.5, s)
        elif cls == "truck":
            self.d.rectangle(_rect(X(0), Y(1.0), X(0.7), Y(0.2)), fill=color, outline=(30, 30, 30))
            self.d.rectangle(_rect(X(0.0), Y(0.22), X(1.0), Y(0.14)), fill=(60, 60, 60))
            self.d.polygon(
                [(X(0.73), Y(0.2)), (X(0.73), Y(0.75)), (X(0.88), Y(0.75)), (X(1.0), Y(0.5)), (X(1.0), Y(0.2))],
                fill=(200, 60, 40) if color != (200, 60, 40) else (70, 110, 170),
                outline=(30, 30, 30),
            )
            self.d.polygon(
                [(X(0.78), Y(0.7)), (X(0.87), Y(0.7)), (X(0.96), Y(0.5)), (X(0.78), Y(0.5))], fill=(150, 190, 215)
            )
            for u in (0.12, 0.25, 0.85):
                self.wheel(X(u), Y(0.14), 14 * s)
            self._lamps(X, Y, 0.3, s)
        elif cls == "bus":
            self.d.rounded_rectangle(
                _rect(X(0), Y(1.0), X(1), Y(0.13)), radius=10 * s, fill=color, outline=(30, 30, 30)
            )
            for k in range(7):
                u = 0.05 + k * 0.125
                self.d.rectangle(_rect(X(u), Y(0.88), X(u + 0.1), Y(0.55)), fill=(140, 180, 205))
            self.d.rectangle(_rect(X(0.9), Y(0.88), X(0.985), Y(0.2)), fill=(120, 160, 190))
            self.d.rectangle(_rect(X(0.0), Y(0.4), X(1.0), Y(0.33)), fill=(250, 250, 250))
            self.wheel(X(0.16), Y(0.13), 14 * s)
            self.wheel(X(0.8), Y(0.13), 14 * s)
            self._lamps(X, Y, 0.25, s)
        elif cls == "ambulance":
            self.d.rectangle(_rect(X(0), Y(0.9), X(0.72), Y(0.18)), fill=(245, 245, 240), outline=(30, 30, 30))
            self.d.polygon(
                [(X(0.72), Y(0.18)), (X(0.72), Y(0.8)), (X(0.86), Y(0.8)), (X(1.0), Y(0.5)), (X(1.0), Y(0.18))],
                fill=(245, 245, 240),
                outline=(30, 30, 30),
            )
            self.d.polygon(
                [(X(0.76), Y(0.75)), (X(0.85), Y(0.75)), (X(0.95), Y(0.5)), (X(0.76), Y(0.5))], fill=(150, 190, 215)
            )
            self.d.rectangle(_rect(X(0), Y(0.45), X(1.0), Y(0.37)), fill=(210, 30, 30))
            cx, cy, r = (X(0.36)), Y(0.66), 9 * s
            self.d.rectangle([cx - r, cy - r / 3, cx + r, cy + r / 3], fill=(210, 30, 30))
            self.d.rectangle([cx - r / 3, cy - r, cx + r / 3, cy + r], fill=(210, 30, 30))
            self._lightbar((X(0.55), Y(1.0), X(0.75), Y(0.9)), p.get("lights_on") == "yes")
            self.wheel(X(0.18), Y(0.18), 13 * s)
            self.wheel(X(0.84), Y(0.18), 13 * s)
            self._lamps(X, Y, 0.35, s)

    def _lightbar(self, xy: tuple[float, float, float, float], on: bool) -> None:
        x0, y0, x1, y1 = min(xy[0], xy[2]), min(xy[1], xy[3]), max(xy[0], xy[2]), max(xy[1], xy[3])
        mid = (x0 + x1) / 2
        if on:
            self.emissive("glow", [x0, y0, mid, y1], (255, 40, 40))
            self.emissive("glow", [mid, y0, x1, y1], (60, 110, 255))
        else:
            self.d.rectangle([x0, y0, mid, y1], fill=(120, 50, 50))
            self.d.rectangle([mid, y0, x1, y1], fill=(50, 60, 120))

    def _lamps(self, X: Any, Y: Any, v: float, s: float) -> None:
        front = sorted([X(0.97), X(1.0)])
        back = sorted([X(0.0), X(0.03)])
        self.emissive(
            "rect" if self.scene.time_of_day != "day" else "plain",
            [front[0], Y(v + 0.08), front[1], Y(v)],
            (255, 240, 180),
        )
        self.d.rectangle([back[0], Y(v + 0.08), back[1], Y(v)], fill=(200, 20, 20))

    def bicycle(self, p: dict[str, Any]) -> None:
        x, base, s = p["x"], p["base"], p["s"]
        w, h = SIZES["bicycle"][0] * s, SIZES["bicycle"][1] * s
        r = h * 0.42
        back, front = (x + r, base - r), (x + w - r, base - r)
        for cx, cy in (back, front):
            self.d.ellipse([cx - r, cy - r, cx + r, cy + r], outline=(20, 20, 20), width=max(2, int(3 * s)))
        seat, bar = (x + w * 0.4, base - h * 0.92), (x + w * 0.68, base - h)
        frame = [back, (x + w * 0.47, base - r), seat, back]
        self.d.line(frame, fill=(180, 30, 30), width=max(2, int(3 * s)))
        self.d.line(
            [(x + w * 0.47, base - r), (x + w * 0.66, base - h * 0.78), seat],
            fill=(180, 30, 30),
            width=max(2, int(3 * s)),
        )
        self.d.line([front, bar], fill=(40, 40, 40), width=max(2, int(3 * s)))
        self.d.line([(bar[0] - 5 * s, bar[1]), (bar[0] + 4 * s, bar[1])], fill=(40, 40, 40), width=max(2, int(3 * s)))

    def person(self, p: dict[str, Any]) -> None:
        x, base, s = p["x"], p["base"], p["s"]
        w, h = PERSON[0] * s, PERSON[1] * s * (0.8 if p["riding"] else 1.0)
        head = w * 0.36
        cx = x + w / 2
        self.d.ellipse([cx - head, base - h, cx + head, base - h + 2 * head], fill=(225, 180, 145))
        self.d.ellipse([cx - head, base - h, cx + head, base - h + head], fill=(60, 40, 30))
        torso_top, torso_bottom = base - h + 2 * head, base - h * (0.42 if not p["riding"] else 0.3)
        self.d.rounded_rectangle([x + w * 0.18, torso_top, x + w * 0.82, torso_bottom], radius=3 * s, fill=p["shirt"])
        stride = p["stride"] * w * 0.35
        legs = max(2, int(w * 0.22))
        self.d.line([(cx - 1, torso_bottom), (cx - stride, base)], fill=p["pants"], width=legs)
        self.d.line([(cx + 1, torso_bottom), (cx + stride, base)], fill=p["pants"], width=legs)
        arm = max(2, int(w * 0.16))
        self.d.line([(x + w * 0.2, torso_top + 2), (x + w * 0.02, torso_bottom - 2)], fill=p["shirt"], width=arm)
        self.d.line([(x + w * 0.8, torso_top + 2), (x + w * 0.98, torso_bottom - 2)], fill=p["shirt"], width=arm)

    def weather_and_light(self) -> None:
        scene = self.scene
        if scene.time_of_day == "night":
            self.image = Image.blend(self.image, Image.new("RGB", self.image.size, (8, 12, 35)), 0.55)
        elif scene.time_of_day == "dusk":
            self.image = Image.blend(self.image, Image.new("RGB", self.image.size, (90, 50, 60)), 0.2)
        self.d = ImageDraw.Draw(self.image)
        for kind, xy, color in self.glow:
            if kind == "glow":
                x0, y0, x1, y1 = xy
                pad = 5 if scene.time_of_day == "day" else 9
                halo = tuple(min(255, c // 2 + 90) for c in color)
                self.d.ellipse([x0 - pad, y0 - pad, x1 + pad, y1 + pad], fill=halo)
            self.d.rectangle(xy, fill=color)
        if scene.weather == "rain":
            rain = ImageDraw.Draw(self.image, "RGBA")
            for _ in range(420):
                x, y = self.rng.uniform(0, WIDTH), self.rng.uniform(0, HEIGHT)
                rain.line([(x, y), (x - 4, y + 14)], fill=(210, 215, 230, 90), width=1)
        if scene.sensor == WORSE_SENSOR:
            self.image = self.image.filter(ImageFilter.GaussianBlur(1.6))
            self.image = Image.blend(self.image, Image.new("RGB", self.image.size, (200, 200, 190)), 0.22)

    def paint(self) -> Image.Image:
        self.sky_and_buildings()
        self.street()
        for kind, params in sorted(self.scene.draw, key=lambda item: item[1]["depth"]):
            if kind == "person":
                self.person(params)
            elif kind == "bicycle":
                self.bicycle(params)
            else:
                self.vehicle(kind, params)
        self.weather_and_light()
        return self.image


def _rect(x0: float, y0: float, x1: float, y1: float) -> list[float]:
    return [min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)]


def _lerp(a: Point, b: Point, t: float) -> Point:
    return (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t)


def render(scene: Scene) -> Image.Image:
    """Draw the scene (640×480 RGB)."""
    return Painter(scene).paint()


def thing_annotation(thing: Thing, box: Box | None = None) -> dict[str, Any]:
    """The label annotation of one drawn object (API.md's format), optionally with another box."""
    left, top, width, height = box or thing.box
    item: dict[str, Any] = {
        "name": thing.cls,
        "bbox": {"left": round(left, 1), "top": round(top, 1), "width": round(width, 1), "height": round(height, 1)},
    }
    if thing.cls == "car":
        kind: dict[str, Any] = {"name": thing.attrs["kind"]}
        if thing.attrs["kind"] == "police":
            kind["classifications"] = [{"name": "lights_on", "answer": {"name": thing.attrs["lights_on"]}}]
        item["classifications"] = [{"name": "kind", "answer": kind}]
    elif thing.cls == "ambulance":
        item["classifications"] = [{"name": "lights_on", "answer": {"name": thing.attrs["lights_on"]}}]
    return item


def ground_truth(scene: Scene) -> list[dict[str, Any]]:
    """The exact label of a scene: every drawn object, lane line and crosswalk, and the global answers."""
    document = [thing_annotation(thing) for thing in scene.things]
    document += [{"name": "lane", "line": [{"x": x, "y": y} for x, y in line]} for line in scene.lanes]
    if scene.crosswalk:
        document.append({"name": "crosswalk", "polygon": [{"x": x, "y": y} for x, y in scene.crosswalk]})
    document.append({"name": "weather", "answer": {"name": scene.weather}})
    document.append({"name": "time_of_day", "answer": {"name": scene.time_of_day}})
    if scene.tags:
        document.append({"name": "tags", "answer": [{"name": tag} for tag in scene.tags]})
    document.append({"name": "caption", "answer": scene.caption})
    return document


def scene_index(global_key: str) -> int | None:
    """The scene number of a demo row's global key (`street-0042` → 42), or None for other rows."""
    if not global_key.startswith("street-"):
        return None
    try:
        return int(global_key[len("street-") :])
    except ValueError:
        return None
