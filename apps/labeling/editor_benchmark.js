// In-page part of `python manage.py benchmark editor` (apps/labeling/editor_benchmark.py): evaluated by Playwright.
async ({ repeat, size }) => {
  const frame = () => new Promise((resolve) => requestAnimationFrame(() => resolve()));
  // Resolves in a task queued from the next frame's rAF: after that frame's style, layout and paint.
  const painted = () =>
    new Promise((resolve) => requestAnimationFrame(() => setTimeout(() => resolve(performance.now()), 0)));
  while (document.documentElement.dataset.editorReady !== "true" || document.querySelectorAll("#overlay g.obj").length < size) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const ready = await painted();
  const editor = window.tdpEditor;
  editor.setTool(null); // select mode: pressing a box moves it
  const pointer = (type, target, x, y) =>
    target.dispatchEvent(new PointerEvent(type, { bubbles: true, cancelable: true, clientX: x, clientY: y, button: 0, buttons: type === "pointerup" ? 0 : 1, pointerId: 1, isPrimary: true }));
  const drag = [];
  const handler = [];
  const undo = [];
  const redo = [];
  let commit = 0;
  const moves = 10;
  for (let m = 0; m < moves; m += 1) {
    const group = document.querySelectorAll("#overlay g.obj")[(m * 97) % size];
    const rect = group.querySelector("rect.shape").getBoundingClientRect();
    let x = rect.left + rect.width / 2;
    let y = rect.top + rect.height / 2;
    pointer("pointerdown", group.querySelector("rect.shape"), x, y);
    await painted();
    for (let i = 0; i < Math.ceil(repeat / moves); i += 1) {
      await frame();
      const t0 = performance.now();
      x += 3;
      y += 2;
      pointer("pointermove", editor.viewer.element, x, y);
      handler.push(performance.now() - t0);
      drag.push((await painted()) - t0);
    }
    const t0 = performance.now();
    pointer("pointerup", editor.viewer.element, x, y);
    commit = Math.max(commit, (await painted()) - t0);
  }
  for (let i = 0; i < moves; i += 1) {
    await frame();
    const t0 = performance.now();
    editor.undo();
    undo.push((await painted()) - t0);
  }
  for (let i = 0; i < moves; i += 1) {
    await frame();
    const t0 = performance.now();
    editor.redo();
    redo.push((await painted()) - t0);
  }
  const doc = editor.getDocument();
  await frame();
  const t0 = performance.now();
  editor.setDocument(doc);
  const setDocument = (await painted()) - t0;
  return { ready, drag, handler, undo, redo, commit, setDocument, drawn: document.querySelectorAll("#overlay g.obj").length };
}
