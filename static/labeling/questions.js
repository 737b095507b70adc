/* Classification questions as form fields (nested through the chosen options), and their read-only summary. */
import { keyOf, summarizeAnswers } from "./answers.js";
import { h, uid } from "./dom.js";

/** Render `classifications` into `container`, reading and writing `answers` in place; `onChange(key)` after each
 * edit (key: a coalescing key for history, set for typing). */
export function renderQuestions(container, classifications, answers, scope, onChange, errors) {
  container.replaceChildren();
  for (const question of classifications) {
    const key = keyOf(question);
    if (question.archived && answers[key] === undefined) continue;
    container.append(renderQuestion(question, answers, `${scope}.${key}`, onChange, errors && errors[key]));
  }
}

function renderQuestion(question, answers, scope, onChange, errors) {
  const key = keyOf(question);
  const box = h("fieldset", { class: "question", "data-question": question.name });
  const legend = h("legend", null, question.name);
  if (question.required) {
    box.classList.add("required");
    legend.append(h("span", { class: "req", title: "Required" }, " *"));
  }
  box.append(legend);
  if (question.description) box.append(h("p", { class: "muted small" }, question.description));
  if (errors && errors.length) {
    box.classList.add("has-error");
    for (const message of errors) box.append(h("p", { class: "error small" }, message));
  }

  if (question.type === "text") {
    const input = h("input", {
      type: "text",
      name: scope,
      "aria-label": question.name,
      maxlength: question.max_length || null,
    });
    input.value = typeof answers[key] === "string" ? answers[key] : "";
    input.addEventListener("input", () => {
      if (input.value === "") delete answers[key];
      else answers[key] = input.value;
      onChange(`text:${scope}`);
    });
    box.append(input);
    return box;
  }

  const isRadio = question.type === "radio";
  const nestedBoxes = new Map();
  const fill = (option, target, children) => {
    target.replaceChildren();
    const nested = option.classifications || [];
    if (nested.length) renderQuestions(target, nested, children, `${scope}.${keyOf(option)}`, onChange, null);
  };
  for (const option of question.options || []) {
    const optionKey = keyOf(option);
    const current = answers[key];
    const chosen = isRadio
      ? !!current && current.option === optionKey
      : !!current && !!current.selected && optionKey in current.selected;
    if (option.archived && !chosen) continue;
    const id = uid("q");
    const input = h("input", { type: isRadio ? "radio" : "checkbox", id, name: scope, value: optionKey });
    input.checked = chosen;
    const nested = h("div", { class: "nested" });
    nestedBoxes.set(optionKey, nested);
    box.append(h("div", { class: "option" }, input, h("label", { for: id }, option.value)), nested);
    if (chosen) fill(option, nested, isRadio ? current.children : current.selected[optionKey]);
    input.addEventListener("change", () => {
      if (isRadio) {
        const children = {};
        answers[key] = { option: optionKey, children };
        for (const other of nestedBoxes.values()) other.replaceChildren();
        fill(option, nested, children);
      } else {
        const value = answers[key] || { selected: {} };
        if (input.checked) {
          value.selected[optionKey] = {};
          fill(option, nested, value.selected[optionKey]);
        } else {
          delete value.selected[optionKey];
          nested.replaceChildren();
        }
        answers[key] = value;
        if (!Object.keys(value.selected).length) delete answers[key];
      }
      onChange(null);
    });
  }
  if (isRadio && !question.required) {
    const clear = h("button", { type: "button", class: "link clear-answer" }, "Clear");
    clear.addEventListener("click", () => {
      delete answers[key];
      for (const input of box.querySelectorAll(`input[name="${CSS.escape(scope)}"]`)) input.checked = false;
      for (const other of nestedBoxes.values()) other.replaceChildren();
      onChange(null);
    });
    box.append(clear);
  }
  return box;
}

/** The answers as text, nested answers indented under their option: what a reviewer reads without editing. */
export function renderAnswerSummary(classifications, answers) {
  const lines = summarizeAnswers(classifications, answers);
  if (!lines.length) return h("p", { class: "muted small answer-summary empty" }, "No answers.");
  const list = h("dl", { class: "answer-summary" });
  for (const line of lines) {
    const row = h("div", { class: "answer-line" }, h("dt", null, line.question), h("dd", null, line.answer));
    row.style.setProperty("--depth", String(line.depth));
    list.append(row);
  }
  return list;
}
