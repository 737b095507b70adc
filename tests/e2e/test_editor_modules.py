"""Unit tests of the editor's ES modules (static/labeling/*.js), run in headless Chromium: each test imports the
modules from the live server's static URL and checks them in the page (no build step, the same files the label page
loads)."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.e2e]

ONTOLOGY = {
    "tools": [
        {
            "name": "vehicle",
            "tool": "bbox",
            "color": "#ff0000",
            "classifications": [
                {
                    "name": "kind",
                    "type": "radio",
                    "required": True,
                    "options": [
                        {"value": "police"},
                        {
                            "value": "ambulance",
                            "classifications": [
                                {"name": "lights_on", "type": "radio", "options": [{"value": "yes"}, {"value": "no"}]}
                            ],
                        },
                    ],
                }
            ],
        },
        {"name": "roof", "tool": "polygon", "color": "#00aa00"},
        {"name": "wheel", "tool": "point", "color": "#0000ff"},
    ],
    "classifications": [
        {"name": "weather", "type": "radio", "options": [{"value": "sunny"}, {"value": "rain"}]},
        {"name": "tags", "type": "checklist", "options": [{"value": "night"}, {"value": "blurry"}]},
        {"name": "caption", "type": "text"},
    ],
}

DOCUMENT = [
    {
        "name": "vehicle",
        "bbox": {"top": 10, "left": 20, "height": 30, "width": 40},
        "classifications": [
            {
                "name": "kind",
                "answer": {
                    "name": "ambulance",
                    "classifications": [{"name": "lights_on", "answer": {"name": "yes"}}],
                },
            }
        ],
    },
    {"name": "roof", "polygon": [{"x": 1, "y": 2}, {"x": 30, "y": 2}, {"x": 15, "y": 25}]},
    {"name": "wheel", "point": {"x": 5.5, "y": 6.25}},
    {"name": "weather", "answer": {"name": "rain"}},
    {"name": "tags", "answer": [{"name": "night"}, {"name": "blurry"}]},
    {"name": "caption", "answer": "dusk"},
]


@pytest.fixture
def js(page, live_server):
    """Run an async JS function body with the editor modules importable as `m(name)`; returns its result."""
    page.goto(f"{live_server.url}/static/labeling/dom.js")

    def run(body: str, arg: object = None) -> object:
        script = "async (arg) => { const m = (name) => import(`/static/labeling/${name}.js`);\n" + body + "\n}"
        return page.evaluate(script, arg)

    return run


def test_viewport_maps_screen_to_image_exactly_at_any_zoom_and_pan(js):
    result = js(
        """
        const { Viewport } = await m("geometry");
        const v = new Viewport(4000, 3000);
        v.fit(1000, 800);
        const fit = { scale: v.scale, x: v.x, y: v.y };
        const before = v.toImage(612.5, 333.25);
        v.zoomTo(v.scale * 4, 612.5, 333.25);       // zoom 4x around a point: that point stays put
        const after = v.toImage(612.5, 333.25);
        v.panBy(-120, 45, 1000, 800);
        const back = v.toScreen(...Object.values(v.toImage(77, 88)));
        v.zoomTo(1000, 0, 0);                        // clamped to maxScale
        const maxed = v.scale;
        v.panBy(1e6, 1e6, 1000, 800);                // never loses the image
        return { fit, before, after, back, maxed, x: v.x, y: v.y };
        """
    )
    assert result["fit"]["scale"] == pytest.approx(min(984 / 4000, 784 / 3000))
    assert result["fit"]["x"] == pytest.approx((1000 - 4000 * result["fit"]["scale"]) / 2)
    assert result["after"]["x"] == pytest.approx(result["before"]["x"], abs=1e-9)
    assert result["after"]["y"] == pytest.approx(result["before"]["y"], abs=1e-9)
    assert result["back"] == pytest.approx({"x": 77, "y": 88})
    assert result["maxed"] == 32
    assert result["x"] == 1000 - 40 and result["y"] == 800 - 40


def test_geometry_boxes_moves_and_round_trips(js):
    result = js(
        """
        const g = await m("geometry");
        return {
          box: g.boxFrom({ x: 50, y: 40 }, { x: 10.123, y: 70 }),
          moved: g.movedGeom("bbox", { left: 10, top: 10, width: 50, height: 20 }, 500, -500, 100, 80),
          poly: g.movedGeom("polygon", { points: [{ x: 5, y: 5 }, { x: 20, y: 10 }] }, -10, 3, 100, 80),
          fixed: g.fixedCorner({ left: 10, top: 20, width: 30, height: 40 }, "nw"),
          parsed: g.parseGeometry("bbox", { top: 1, left: 2, width: 3, height: "4" }),
          line: g.serializeGeometry("polyline", g.parseGeometry("polyline", [{ x: 1, y: 2 }, { x: 3, y: 4 }])),
        };
        """
    )
    assert result["box"] == {"left": 10.123, "top": 40, "width": 39.88, "height": 30}
    assert result["moved"] == {"left": 50, "top": 0, "width": 50, "height": 20}  # kept inside the 100×80 image
    assert result["poly"] == {"points": [{"x": 0, "y": 8}, {"x": 15, "y": 13}]}
    assert result["fixed"] == {"x": 40, "y": 60}
    assert result["parsed"] is None
    assert result["line"] == {"line": [{"x": 1, "y": 2}, {"x": 3, "y": 4}]}


def test_answers_parse_serialize_missing_and_summary(js):
    result = js(
        """
        const a = await m("answers");
        const [, kind] = [null, arg.tools[0].classifications];
        const answers = a.parseAnswers(kind, arg.doc[0].classifications);
        return {
          answers,
          back: a.serializeAnswers(kind, answers),
          missingNone: a.missingRequired(kind, {}),
          missingOk: a.missingRequired(kind, answers),
          summary: a.summarizeAnswers(kind, answers),
          globals: a.serializeAnswers(arg.classifications, a.parseAnswers(arg.classifications, arg.doc.slice(3))),
        };
        """,
        {"tools": ONTOLOGY["tools"], "classifications": ONTOLOGY["classifications"], "doc": DOCUMENT},
    )
    assert result["answers"] == {
        "kind": {"option": "ambulance", "children": {"lights_on": {"option": "yes", "children": {}}}}
    }
    assert result["back"] == DOCUMENT[0]["classifications"]
    assert result["missingNone"] == 1 and result["missingOk"] == 0
    assert result["summary"] == [
        {"question": "kind", "answer": "ambulance", "depth": 0},
        {"question": "lights_on", "answer": "yes", "depth": 1},
    ]
    assert result["globals"] == DOCUMENT[3:]


def test_model_round_trips_the_document_and_places_server_errors(js):
    result = js(
        """
        const { LabelModel } = await m("model");
        const model = new LabelModel(arg.ontology);
        model.load(arg.doc, [{ path: "annotations[0].classifications", message: "kind is required" },
                             { path: "annotations[3]", message: "not an option" }]);
        const loaded = { doc: model.serialize(), errors: model.objects[0].errors, q: model.globalErrors,
                         selected: model.selected === model.objects[0].id };
        model.clearErrors();
        const placedObject = !!model.markError("[2].point", "outside the image").object;
        const placedQuestion = !!model.markError("annotations[4]", "pick one").question;
        const unknown = model.markError("annotations[99]", "x");
        const snap = model.snapshot();
        const ids = model.objects.map((o) => o.id);
        const copy = model.duplicate(ids[0], 10, 100, 100);
        const afterDup = model.serialize().length;
        model.remove(ids[1]);
        model.restore(snap);
        return { loaded, placedObject, wheelErrors: model.objects[2].errors, placedQuestion, unknown, afterDup,
                 copyGeom: copy.geom, restored: model.serialize(),
                 sameIds: model.objects.map((o) => o.id).join() === ids.join() };
        """,
        {"ontology": ONTOLOGY, "doc": DOCUMENT},
    )
    assert result["loaded"]["doc"] == DOCUMENT
    assert result["loaded"]["errors"] == ["classifications: kind is required"]
    assert result["loaded"]["q"] == {"weather": ["not an option"]}
    assert result["loaded"]["selected"] is True
    assert result["placedObject"] and result["wheelErrors"] == ["point: outside the image"]
    assert result["placedQuestion"] and result["unknown"] is None
    assert result["afterDup"] == len(DOCUMENT) + 1
    assert result["copyGeom"] == {"left": 30, "top": 20, "width": 40, "height": 30}
    assert result["restored"] == DOCUMENT and result["sameIds"]


def test_history_undo_redo_and_coalescing(js):
    result = js(
        """
        const { History } = await m("history");
        let state = { n: 0, text: "" };
        const h = new History(() => ({ ...state }), (snap) => { state = { ...snap }; });
        const seen = [];
        state.n = 1; h.commit("one");
        state.n = 2; h.commit("two");
        state.text = "a"; h.commit("answer", "text:q");
        state.text = "ab"; h.commit("answer", "text:q");   // merged with the previous step
        seen.push(h.undo(), { ...state });
        seen.push(h.undo(), { ...state });
        seen.push(h.redo(), { ...state });
        state.n = 5; h.commit("five");                       // a new change drops the redo branch
        seen.push(h.canRedo(), h.undo(), h.undo(), h.undo(), h.undo(), { ...state });
        return seen;
        """
    )
    assert result == [
        "answer",
        {"n": 2, "text": ""},
        "two",
        {"n": 1, "text": ""},
        "two",
        {"n": 2, "text": ""},
        False,
        "five",
        "two",
        "one",
        None,
        {"n": 0, "text": ""},
    ]


def test_draw_layer_rebuilds_only_what_changed(js):
    result = js(
        """
        const { LabelModel } = await m("model");
        const { DrawLayer } = await m("draw-layer");
        const { numberObjects } = await m("objects");
        const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
        document.body.append(svg);
        const model = new LabelModel(arg.ontology);
        model.load(arg.doc, []);
        const layer = new DrawLayer(svg);
        layer.render(model, 1, numberObjects(model.objects), null);
        const before = [...svg.querySelectorAll("g.obj")];
        const labels = [...svg.querySelectorAll("text.label")].map((t) => t.textContent);
        model.objects[1].geom.points[0].x = 9;
        model.objects[2].hidden = true;
        layer.render(model, 1, numberObjects(model.objects), null);
        const after = [...svg.querySelectorAll("g.obj")];
        model.selected = model.objects[0].id;
        layer.render(model, 0.5, numberObjects(model.objects), null, model.objects[0]);
        const handles = svg.querySelectorAll("g.obj.selected rect.handle").length;
        model.remove(model.objects[1].id);
        layer.render(model, 0.5, numberObjects(model.objects), {
          kind: "bbox", tool: model.tools[0], from: { x: 1, y: 1 }, to: { x: 9, y: 9 } });
        return { labels, same: after.map((g, i) => g === before[i]), hidden: after[2].classList.contains("hidden"),
                 handles, left: svg.querySelectorAll("g.obj").length,
                 drawing: svg.querySelectorAll("g.drawing rect").length };
        """,
        {"ontology": ONTOLOGY, "doc": DOCUMENT},
    )
    assert result["labels"] == ["vehicle 1", "roof 1", "wheel 1"]
    assert result["same"] == [True, False, False]  # the untouched box kept its node
    assert result["hidden"] and result["handles"] == 4
    assert result["left"] == 2 and result["drawing"] == 1


def test_questions_write_answers_and_read_only_lists_nested_answers(js):
    result = js(
        """
        const { renderQuestions } = await m("questions");
        const { ObjectList } = await m("objects");
        const { LabelModel } = await m("model");
        const box = document.createElement("div");
        document.body.append(box);
        const answers = {};
        const calls = [];
        renderQuestions(box, arg.ontology.tools[0].classifications, answers, "o1", (k) => calls.push(k), null);
        box.querySelector("input[value=ambulance]").click();
        box.querySelector("input[value=no]").click();
        const model = new LabelModel(arg.ontology);
        model.load(arg.doc, []);
        const list = document.createElement("ol");
        const count = document.createElement("span");
        document.body.append(list);
        const objects = new ObjectList({ list, count, model, isText: false, readOnly: () => true, snippet: () => "",
          actions: {} });
        objects.render();
        return { answers, calls, rows: [...list.querySelectorAll("li.object")].map((li) =>
                   [...li.querySelectorAll(".answer-line")].map((row) => [
                     row.querySelector("dt").textContent, "=", row.querySelector("dd").textContent,
                     "@", row.style.getPropertyValue("--depth")].join(""))),
                 inputs: list.querySelectorAll("input").length, count: count.textContent };
        """,
        {"ontology": ONTOLOGY, "doc": DOCUMENT},
    )
    assert result["answers"] == {
        "kind": {"option": "ambulance", "children": {"lights_on": {"option": "no", "children": {}}}}
    }
    assert result["calls"] == [None, None]
    assert result["count"] == "3" and result["inputs"] == 0
    assert result["rows"] == [["kind=ambulance@0", "lights_on=yes@1"], [], []]


def test_shortcut_overlay_lists_every_shortcut(js):
    result = js(
        """
        const { SHORTCUTS, shortcutOverlay } = await m("shortcuts");
        const overlay = shortcutOverlay();
        const hidden = overlay.node.hidden;
        overlay.toggle();
        return { n: SHORTCUTS.length, rows: overlay.node.querySelectorAll(".shortcut-row").length, hidden,
                 shown: !overlay.node.hidden, text: overlay.node.innerText };
        """
    )
    assert result["rows"] == result["n"] and result["hidden"] and result["shown"]
    for words in ("undo", "redo", "submit", "zoom around the pointer", "pan", "duplicate", "fit the image"):
        assert words in result["text"]


def test_canvas_hit_test_finds_the_topmost_visible_object(js):
    result = js(
        """
        const { hitTest } = await m("canvas-layer");
        const { LabelModel } = await m("model");
        const model = new LabelModel(arg.ontology);
        model.load(arg.doc, []);
        const extra = model.add(model.tools[0], { left: 30, top: 20, width: 10, height: 10 });  // on top of box 1
        const name = (p, k = 1) => {
          const o = hitTest(model, p, k);
          return o ? `${o.tool.name}:${o.id === extra.id}` : null;
        };
        const out = { top: name({ x: 35, y: 25 }), under: name({ x: 50, y: 35 }), roof: name({ x: 15, y: 8 }),
                      wheel: name({ x: 9, y: 9 }), wheelFar: name({ x: 30, y: 60 }), nothing: name({ x: 90, y: 90 }) };
        extra.hidden = true;
        out.hidden = name({ x: 35, y: 25 });
        return out;
        """,
        {"ontology": ONTOLOGY, "doc": DOCUMENT},
    )
    assert result == {
        "top": "vehicle:true",
        "under": "vehicle:false",
        "roof": "roof:false",
        "wheel": "wheel:false",  # within 7 screen px of the point at (5.5, 6.25)
        "wheelFar": None,
        "nothing": None,
        "hidden": "vehicle:false",
    }


def test_long_object_list_renders_only_the_rows_near_the_view(js):
    """Above 120 rows the list is windowed: rows away from the scrolled view are unrendered boxes (no per-frame cost);
    scrolling or selecting renders them; every row stays in the DOM; a short list is not windowed."""
    result = js(
        """
        const { LabelModel } = await m("model");
        const { ObjectList } = await m("objects");
        const css = document.createElement("link");
        css.rel = "stylesheet";
        css.href = "/static/labeling/label.css";
        await new Promise((resolve) => { css.onload = resolve; document.head.append(css); });
        const frame = () => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
        const make = (n) => {
          const scroller = document.createElement("div");
          scroller.className = "panel-scroll";
          scroller.style.cssText = "height: 300px; overflow-y: auto; width: 320px";
          const list = document.createElement("ol");
          list.id = "objects";
          list.className = "objects";
          scroller.append(list);
          document.body.replaceChildren(scroller);
          const model = new LabelModel(arg.ontology);
          model.load([], []);
          for (let i = 0; i < n; i += 1) model.add(model.tools[0], { left: i, top: 1, width: 5, height: 5 });
          model.selected = null;
          const objects = new ObjectList({ list, count: document.createElement("span"), model, isText: false,
            readOnly: () => false, snippet: () => "", actions: {} });
          objects.render();
          const rows = () => [...list.querySelectorAll("li.object")];
          const shown = (i) => rows()[i].querySelector(".object-name").checkVisibility();
          return { scroller, list, model, objects, rows, shown };
        };
        const long = make(300);
        const out = { windowed: long.list.classList.contains("windowed"), rows: long.rows().length,
                      first: long.shown(0), tenth: long.shown(9), far: long.shown(250),
                      near: long.rows().filter((r) => r.classList.contains("near")).length };
        long.scroller.scrollTop = long.rows()[250].offsetTop - long.list.offsetTop;
        await frame();
        await frame();
        out.farAfterScroll = long.shown(250);
        out.firstAfterScroll = long.shown(0);
        long.model.selected = long.model.objects[20].id;  // far above the view now
        long.objects.render();
        await frame();
        out.selectedShown = long.shown(20) && long.rows()[20].classList.contains("selected");
        out.nameOfFar = long.rows()[250].querySelector(".object-name").textContent;
        const short = make(10);
        out.shortWindowed = short.list.classList.contains("windowed");
        out.shortAll = short.rows().every((r, i) => short.shown(i));
        return out;
        """,
        {"ontology": ONTOLOGY},
    )
    assert result["windowed"] is True and result["rows"] == 300
    assert result["first"] is True and result["tenth"] is True and result["far"] is False
    assert 8 <= result["near"] <= 40  # the view (about 9 rows of 300 px) plus the margin, not 300
    assert result["farAfterScroll"] is True and result["firstAfterScroll"] is False
    assert result["selectedShown"] is True
    assert result["nameOfFar"] == "vehicle 251"  # unrendered rows keep their content in the DOM
    assert result["shortWindowed"] is False and result["shortAll"] is True
