/* Per-frame classification answers of a video label: {"name", "answer", "frames": [[start, end], …]} items (the
 * same question may be answered differently on other ranges). Parsed, listed with their ranges, added for a frame
 * range (default: the current frame) and deleted; serialised back unchanged. User text only via textContent. */
import { parseAnswers, serializeAnswers, summarizeAnswers } from "./answers.js";
import { h } from "./dom.js";
import { renderQuestions } from "./questions.js";

export function parseFrameAnswers(questions, items) {
  const entries = [];
  for (const item of items) {
    if (!Array.isArray(item.frames)) continue;
    const question = questions.find((q) => q.schema_id === item.schema_id || q.name === item.name);
    if (!question) continue;
    entries.push({ question, answers: parseAnswers([question], [item]), ranges: item.frames.map((r) => [r[0], r[1]]) });
  }
  return entries;
}

export function serializeFrameAnswers(entries) {
  const out = [];
  for (const entry of entries) {
    const [item] = serializeAnswers([entry.question], entry.answers);
    if (item) out.push({ ...item, frames: entry.ranges.map((r) => [r[0], r[1]]) });
  }
  return out;
}

/** The list and the "answer for frames" form. `change(mutate)` records an undoable change made by `mutate()`. */
export function renderFrameAnswers(node, { entries, questions, frame, frameCount, readOnly, change, seek }) {
  const list = h("ul", { class: "frame-answers" });
  for (const entry of entries) {
    const text = summarizeAnswers([entry.question], entry.answers).map((l) => `${l.question}: ${l.answer}`).join(" · ");
    const ranges = entry.ranges.map(([a, b]) => (a === b ? `${a}` : `${a}–${b}`)).join(", ");
    const label = h("button", { type: "button", class: "link", title: "Go to the first frame" });
    label.textContent = `${text || entry.question.name} · frames ${ranges}`;
    label.addEventListener("click", () => seek(entry.ranges[0][0]));
    const row = h("li", { class: entry.ranges.some(([a, b]) => a <= frame && frame <= b) ? "current" : "" }, label);
    if (!readOnly) {
      const remove = h("button", { type: "button", class: "secondary small", "aria-label": "Delete this frame answer" }, "×");
      remove.addEventListener("click", () => change(() => entries.splice(entries.indexOf(entry), 1)));
      row.append(remove);
    }
    list.append(row);
  }
  const parts = [h("p", { class: "panel-title small" }, "Per-frame answers"), entries.length ? list : h("p", { class: "muted small" }, "None yet.")];
  if (!readOnly && questions.length) {
    const pick = h("select", { id: "frame-question", "aria-label": "Question" }, ...questions.map((q, i) => h("option", { value: String(i) }, q.name)));
    const start = h("input", { id: "frame-start", type: "number", min: "0", max: String(frameCount - 1), value: String(frame), "aria-label": "From frame" });
    const end = h("input", { id: "frame-end", type: "number", min: "0", max: String(frameCount - 1), value: String(frame), "aria-label": "To frame" });
    const fields = h("div", { class: "questions" });
    let draft = {};
    const showQuestion = () => {
      draft = {};
      renderQuestions(fields, [questions[Number(pick.value)]], draft, "frame-answer", () => {}, null);
    };
    pick.addEventListener("change", showQuestion);
    showQuestion();
    const add = h("button", { type: "button", id: "add-frame-answer", class: "secondary small" }, "Answer for these frames");
    const problem = h("p", { class: "error small", role: "alert" });
    add.addEventListener("click", () => {
      const a = Number(start.value);
      const b = Number(end.value);
      if (!Number.isInteger(a) || !Number.isInteger(b) || a < 0 || b >= frameCount || a > b) {
        problem.textContent = `Give frames from 0 to ${frameCount - 1}, the first not after the last.`;
        return;
      }
      if (!Object.keys(draft).length) {
        problem.textContent = "Choose an answer first.";
        return;
      }
      const question = questions[Number(pick.value)];
      change(() => entries.push({ question, answers: draft, ranges: [[a, b]] }));
    });
    parts.push(h("div", { class: "frame-answer-form" }, pick, h("span", { class: "small" }, " frames "), start, h("span", { class: "small" }, "to"), end, fields, add, problem));
  }
  node.replaceChildren(...parts);
}
