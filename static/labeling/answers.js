/* Classification answers: parse the API.md shape into the editor's form, serialise back, count missing required
 * answers and summarise for read-only display. Pure functions (no DOM).
 *
 * answers = {questionKey: value}; radio → {option, children}; checklist → {selected: {optionKey: children}};
 * text → string. */
export const keyOf = (node) => node.schema_id || node.name || node.value;

export function findBy(list, ref, nameKey) {
  if (!ref || typeof ref !== "object") return null;
  if (typeof ref.schema_id === "string") {
    const found = list.find((n) => n.schema_id === ref.schema_id);
    if (found) return found;
  }
  if (typeof ref.name === "string") return list.find((n) => n[nameKey] === ref.name) || null;
  return null;
}

/** Features are posted by name (unique within their scope in a version): the form of API.md, and the one the
 * server's fast validation path takes. Restoring accepts names or schema_ids. */
export function ref(node, nameKey) {
  return { name: node[nameKey] };
}

export function parseAnswers(classifications, list) {
  const answers = {};
  if (!Array.isArray(list)) return answers;
  for (const item of list) {
    const question = findBy(classifications, item, "name");
    if (!question) continue;
    const answer = parseAnswer(question, item.answer);
    if (answer !== undefined) answers[keyOf(question)] = answer;
  }
  return answers;
}

export function parseAnswer(question, raw) {
  const options = question.options || [];
  if (question.type === "text") return typeof raw === "string" ? raw : undefined;
  if (question.type === "radio") {
    const one = Array.isArray(raw) ? raw[0] : raw;
    const option = findBy(options, one, "value");
    if (!option) return undefined;
    return { option: keyOf(option), children: parseAnswers(option.classifications || [], one.classifications) };
  }
  if (question.type === "checklist") {
    const list = Array.isArray(raw) ? raw : raw && typeof raw === "object" ? [raw] : [];
    const selected = {};
    for (const one of list) {
      const option = findBy(options, one, "value");
      if (option) selected[keyOf(option)] = parseAnswers(option.classifications || [], one.classifications);
    }
    return { selected };
  }
  return undefined;
}

export function serializeAnswers(classifications, answers) {
  const out = [];
  for (const question of classifications) {
    const value = answers[keyOf(question)];
    if (value === undefined) continue;
    const answer = serializeAnswer(question, value);
    if (answer === undefined) continue;
    const item = ref(question, "name");
    item.answer = answer;
    out.push(item);
  }
  return out;
}

function serializeOption(option, children) {
  const out = ref(option, "value");
  const nested = serializeAnswers(option.classifications || [], children || {});
  if (nested.length) out.classifications = nested;
  return out;
}

export function serializeAnswer(question, value) {
  const options = question.options || [];
  if (question.type === "text") return typeof value === "string" && value.trim() !== "" ? value : undefined;
  if (question.type === "radio") {
    const option = options.find((o) => keyOf(o) === value.option);
    return option ? serializeOption(option, value.children) : undefined;
  }
  if (question.type === "checklist") {
    const chosen = value.selected || {};
    const list = options.filter((o) => keyOf(o) in chosen).map((o) => serializeOption(o, chosen[keyOf(o)]));
    return list.length ? list : undefined;
  }
  return undefined;
}

/** Required questions left unanswered (recursively through the chosen options). */
export function missingRequired(classifications, answers) {
  let missing = 0;
  for (const question of classifications) {
    if (question.archived) continue;
    const value = answers[keyOf(question)];
    const answered = value !== undefined && serializeAnswer(question, value) !== undefined;
    if (question.required && !answered) missing += 1;
    if (!answered) continue;
    const options = question.options || [];
    if (question.type === "radio") {
      const option = options.find((o) => keyOf(o) === value.option);
      if (option) missing += missingRequired(option.classifications || [], value.children || {});
    } else if (question.type === "checklist") {
      for (const option of options) {
        if (keyOf(option) in value.selected) {
          missing += missingRequired(option.classifications || [], value.selected[keyOf(option)]);
        }
      }
    }
  }
  return missing;
}

/** Read-only summary: [{question, answer, depth}] for every answered question, nested answers after their option. */
export function summarizeAnswers(classifications, answers, depth = 0) {
  const lines = [];
  for (const question of classifications) {
    const value = answers[keyOf(question)];
    if (value === undefined) continue;
    const options = question.options || [];
    if (question.type === "text") {
      if (typeof value === "string" && value.trim()) lines.push({ question: question.name, answer: value, depth });
      continue;
    }
    const chosen =
      question.type === "radio"
        ? options.filter((o) => keyOf(o) === value.option).map((o) => [o, value.children || {}])
        : options.filter((o) => keyOf(o) in (value.selected || {})).map((o) => [o, value.selected[keyOf(o)]]);
    if (!chosen.length) continue;
    lines.push({ question: question.name, answer: chosen.map(([o]) => o.value).join(", "), depth });
    for (const [option, children] of chosen) {
      lines.push(...summarizeAnswers(option.classifications || [], children || {}, depth + 1));
    }
  }
  return lines;
}
