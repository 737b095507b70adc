/* The label document being edited: objects (tool + geometry in media coordinates + nested answers) and the answers
 * of the top-level questions. Parses the API.md annotation list, serialises it back exactly as the form posts it,
 * takes and restores snapshots (history) and places server validation errors. No DOM. */
import { findBy, keyOf, parseAnswer, parseAnswers, ref, serializeAnswers } from "./answers.js";
import { isNum, uid } from "./dom.js";
import { cloneGeom, GEOMETRY_KEY, parseGeometry, serializeGeometry } from "./geometry.js";

const clone = (value) => JSON.parse(JSON.stringify(value));

export class LabelModel {
  constructor(ontology) {
    this.tools = Array.isArray(ontology && ontology.tools) ? ontology.tools : [];
    this.questions = Array.isArray(ontology && ontology.classifications) ? ontology.classifications : [];
    this.objects = []; // {id, tool, geom, answers, src, errors, prelabel, confidence, hidden, locked}
    this.selected = null; // object id
    this.global = {}; // answers of the top-level questions
    this.globalPrelabels = {}; // question key → id of the model pre-label its answer came from
    this.globalErrors = {}; // question key → [messages]
    this.hiddenClasses = new Set(); // tool keys
    this.lockedClasses = new Set();
    this.slice = null; // an image stack (DICOM series): the slice shown; objects of other slices are not drawn
  }

  /** Make the document a stack's: objects without a slice were drawn on the row's own slice `own`. */
  setStack(own, shown) {
    for (const object of this.objects) if (object.slice == null) object.slice = own;
    this.stackOwn = own;
    this.slice = shown;
  }

  toolByKey(key) {
    return this.tools.find((t) => keyOf(t) === key) || null;
  }

  get(id) {
    return this.objects.find((o) => o.id === id) || null;
  }

  selectedObject() {
    return this.get(this.selected);
  }

  isHidden(object) {
    if (this.slice !== null && object.slice != null && object.slice !== this.slice) return true;
    return !!object.hidden || this.hiddenClasses.has(keyOf(object.tool));
  }

  isLocked(object) {
    return !!object.locked || this.lockedClasses.has(keyOf(object.tool));
  }

  newObject(tool, geom, extra) {
    const object = { id: uid("obj"), tool, geom, answers: {}, src: null, errors: [], prelabel: null, confidence: null };
    object.slice = this.slice; // null unless the row is a stack
    return Object.assign(object, { hidden: false, locked: false }, extra || {});
  }

  add(tool, geom) {
    const object = this.newObject(tool, geom);
    this.objects.push(object);
    this.selected = object.id;
    return object;
  }

  remove(id) {
    this.objects = this.objects.filter((o) => o.id !== id);
    if (this.selected === id) this.selected = null;
  }

  /** A copy of object `id` (same class, geometry shifted by `offset` image px, same answers), selected. */
  duplicate(id, offset, width, height) {
    const source = this.get(id);
    if (!source) return null;
    const geom = cloneGeom(source.geom);
    if (offset && geom.left !== undefined) {
      geom.left = Math.min(geom.left + offset, Math.max(width - geom.width, 0));
      geom.top = Math.min(geom.top + offset, Math.max(height - geom.height, 0));
    } else if (offset && geom.points) {
      geom.points = geom.points.map((p) => ({ x: Math.min(p.x + offset, width), y: Math.min(p.y + offset, height) }));
    } else if (offset && geom.x !== undefined) {
      geom.x = Math.min(geom.x + offset, width);
      geom.y = Math.min(geom.y + offset, height);
    }
    const copy = this.newObject(source.tool, geom);
    copy.answers = clone(source.answers);
    copy.slice = source.slice;
    this.objects.splice(this.objects.indexOf(source) + 1, 0, copy);
    this.selected = copy.id;
    return copy;
  }

  /** Replace everything with the annotation list `list` (API.md shape); `errors` are server validation errors. */
  load(list, errors) {
    this.objects = [];
    this.global = {};
    this.globalPrelabels = {};
    this.globalErrors = {};
    this.selected = null;
    (Array.isArray(list) ? list : []).forEach((item, index) => {
      if (!item || typeof item !== "object") return;
      const geometryKey = Object.values(GEOMETRY_KEY).find((k) => k in item);
      if (geometryKey) {
        const tool = findBy(this.tools, item, "name");
        if (!tool || GEOMETRY_KEY[tool.tool] !== geometryKey) return;
        const geom = parseGeometry(tool.tool, item[geometryKey]);
        if (!geom) return;
        this.objects.push(
          this.newObject(tool, geom, {
            answers: parseAnswers(tool.classifications || [], item.classifications),
            src: index,
            // A model pre-label: its id goes back with the annotation (the server decides accepted vs modified).
            prelabel: typeof item.prelabel === "string" ? item.prelabel : null,
            confidence: isNum(item.confidence) ? item.confidence : null,
            slice: Number.isInteger(item.slice) && item.slice > 0 ? item.slice : this.slice !== null ? this.stackOwn : null,
          }),
        );
        return;
      }
      const question = findBy(this.questions, item, "name");
      if (!question) return;
      const answer = parseAnswer(question, item.answer);
      if (answer === undefined) return;
      this.global[keyOf(question)] = answer;
      if (typeof item.prelabel === "string") this.globalPrelabels[keyOf(question)] = item.prelabel;
    });
    for (const error of Array.isArray(errors) ? errors : []) this.markError(error.path, error.message, list);
    const firstBad = this.objects.find((o) => o.errors.length);
    if (firstBad) this.selected = firstBad.id;
  }

  /** Attach a server validation message to the object or question that `path` ("annotations[3].bbox…") names in
   * the posted list `posted` (default: the document as it is now). Returns what it was attached to, or null. */
  markError(path, message, posted) {
    const match = /^(?:annotations)?\[(\d+)\](.*)$/.exec(String(path || ""));
    if (!match) return null;
    const index = Number(match[1]);
    const detail = match[2].replace(/^\./, "");
    const list = posted || this.serialize();
    const item = list[index];
    if (!item || typeof item !== "object") return null;
    // While loading, positions are those of the list the server saw; later, those of the document as it is now.
    const object = posted ? this.objects.find((o) => o.src === index) : this.objects[index];
    if (object && Object.values(GEOMETRY_KEY).some((k) => k in item)) {
      object.errors.push(detail ? `${detail}: ${message}` : String(message));
      return { object };
    }
    const question = findBy(this.questions, item, "name");
    if (!question) return null;
    const key = keyOf(question);
    (this.globalErrors[key] = this.globalErrors[key] || []).push(String(message));
    return { question };
  }

  clearErrors() {
    for (const object of this.objects) object.errors = [];
    this.globalErrors = {};
  }

  serializeObject(object) {
    const out = Object.assign(ref(object.tool, "name"), serializeGeometry(object.tool.tool, object.geom));
    const nested = serializeAnswers(object.tool.classifications || [], object.answers);
    if (nested.length) out.classifications = nested;
    if (object.prelabel) out.prelabel = object.prelabel;
    if (object.slice != null) out.slice = object.slice;
    return out;
  }

  /** The annotation list exactly as the form posts it: objects in order, then the top-level answers. */
  serialize() {
    const globals = serializeAnswers(this.questions, this.global).map((item) => {
      const question = this.questions.find((q) => q.name === item.name);
      const prelabel = question ? this.globalPrelabels[keyOf(question)] : null;
      return prelabel ? Object.assign(item, { prelabel }) : item;
    });
    return this.objects.map((o) => this.serializeObject(o)).concat(globals);
  }

  /** Everything undo needs, as plain data (ids kept, so the views update only what changed). */
  snapshot() {
    return {
      objects: this.objects.map((o) => ({
        id: o.id,
        tool: keyOf(o.tool),
        geom: cloneGeom(o.geom),
        answers: clone(o.answers),
        src: o.src,
        errors: o.errors.slice(),
        prelabel: o.prelabel,
        confidence: o.confidence,
        hidden: o.hidden,
        locked: o.locked,
        slice: o.slice,
      })),
      global: clone(this.global),
      globalPrelabels: Object.assign({}, this.globalPrelabels),
      selected: this.selected,
    };
  }

  restore(snap) {
    const current = new Map(this.objects.map((o) => [o.id, o]));
    this.objects = snap.objects
      .map((data) => {
        const tool = this.toolByKey(data.tool);
        if (!tool) return null;
        const object = current.get(data.id) || { id: data.id };
        // Unchanged answers keep their object: the object list's question form (not rebuilt when nothing it shows
        // changed) writes into it, so an answer given after an undo must land in the model's object.
        const same = object.answers && JSON.stringify(object.answers) === JSON.stringify(data.answers);
        const answers = same ? object.answers : clone(data.answers);
        return Object.assign(object, data, { tool, geom: cloneGeom(data.geom), answers });
      })
      .filter(Boolean);
    this.global = clone(snap.global);
    this.globalPrelabels = Object.assign({}, snap.globalPrelabels);
    this.selected = this.get(snap.selected) ? snap.selected : null;
  }
}
