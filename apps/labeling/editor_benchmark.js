// In-page part of `python manage.py benchmark editor` (apps/labeling/editor_benchmark.py): evaluated by Playwright.
async ({ repeat, size }) => {
  // Run `fn` at the start of an animation frame; resolve with [ms to the end of that frame's rendering (a task
  // queued from the rAF callback runs after the frame's style, layout and paint), ms of `fn` alone].
  const inFrame = (fn) =>
    new Promise((resolve) =>
      requestAnimationFrame(() => {
        const t0 = performance.now();
        fn();
        const t1 = performance.now();
        setTimeout(() => resolve([performance.now() - t0, t1 - t0]), 0);
      }),
    );
  while (
    document.documentElement.dataset.editorReady !== "true" ||
    document.querySelectorAll("#overlay g.obj").length < size
  ) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const [, ready] = await inFrame(() => performance.now()).then(() => [0, performance.now()]);
  const editor = window.tdpEditor;
  editor.setTool(null); // select mode: pressing a box moves it
  const pointer = (type, target, x, y) =>
    target.dispatchEvent(
      new PointerEvent(type, {
        bubbles: true,
        cancelable: true,
        clientX: x,
        clientY: y,
        button: 0,
        buttons: type === "pointerup" ? 0 : 1,
        pointerId: 1,
        isPrimary: true,
      }),
    );
  const drag = [];
  const handler = [];
  const undo = [];
  const redo = [];
  const select = [];
  let commit = 0;
  const moves = 10;
  const groups = () => document.querySelectorAll("#overlay g.obj");
  for (let m = 0; m < moves; m += 1) {
    const object = editor.model.objects[(m * 97) % size];
    const box = object.geom;
    const at = editor.viewer.viewport.toScreen(box.left + box.width / 2, box.top + box.height / 2);
    const frame = editor.viewer.frame();
    let x = frame.left + at.x;
    let y = frame.top + at.y;
    select.push((await inFrame(() => pointer("pointerdown", editor.viewer.element, x, y)))[0]);
    for (let i = 0; i < Math.ceil(repeat / moves); i += 1) {
      x += 3;
      y += 2;
      const [total, js] = await inFrame(() => pointer("pointermove", editor.viewer.element, x, y));
      drag.push(total);
      handler.push(js);
    }
    const [total] = await inFrame(() => pointer("pointerup", editor.viewer.element, x, y));
    commit = Math.max(commit, total);
  }
  const undoJs = [];
  for (let i = 0; i < moves; i += 1) {
    const [total, js] = await inFrame(() => editor.undo());
    undo.push(total);
    undoJs.push(js);
  }
  for (let i = 0; i < moves; i += 1) redo.push((await inFrame(() => editor.redo()))[0]);
  const doc = editor.getDocument();
  const [setDocument] = await inFrame(() => editor.setDocument(doc));
  return { ready, select, drag, handler, undo, undoJs, redo, commit, setDocument, drawn: groups().length };
}
