/* Undo/redo over model snapshots. `commit(label)` is called after every finished change (draw, move, resize, delete,
 * answer, point edit); changes with the same `coalesce` key within a second (typing in a text answer) merge into
 * one step. */
export class History {
  constructor(take, apply, limit = 200) {
    this.take = take; // () => snapshot
    this.apply = apply; // (snapshot) => void
    this.limit = limit;
    this.past = [];
    this.future = [];
    this.current = take();
    this.lastKey = null;
    this.lastAt = 0;
  }

  /** Record the state after a change. */
  commit(label, coalesce) {
    const now = Date.now();
    const merge = coalesce && coalesce === this.lastKey && now - this.lastAt < 1000 && this.past.length;
    if (!merge) {
      this.past.push({ snap: this.current, label });
      if (this.past.length > this.limit) this.past.shift();
    }
    this.current = this.take();
    this.future = [];
    this.lastKey = coalesce || null;
    this.lastAt = now;
  }

  /** Forget everything (a document loaded from elsewhere). */
  reset() {
    this.past = [];
    this.future = [];
    this.current = this.take();
    this.lastKey = null;
  }

  canUndo() {
    return this.past.length > 0;
  }

  canRedo() {
    return this.future.length > 0;
  }

  /** Step back; returns the label of the undone change, or null. */
  undo() {
    const step = this.past.pop();
    if (!step) return null;
    this.future.push({ snap: this.current, label: step.label });
    this.current = step.snap;
    this.apply(step.snap);
    this.lastKey = null;
    return step.label;
  }

  redo() {
    const step = this.future.pop();
    if (!step) return null;
    this.past.push({ snap: this.current, label: step.label });
    this.current = step.snap;
    this.apply(step.snap);
    this.lastKey = null;
    return step.label;
  }
}
