// The stage at picture level (templates/_partials/stage.html): pictures are server PNGs, the window, the
// output marker and the outputs still to come are boxes whose places (percentages) the server wrote; the
// lens (one output's arithmetic) is the page's or a server fragment. Here: place boxes, swap image URLs,
// find which output the pointer is on (layout only, from data-layout), ask for a lens. No number is
// formatted and no window is computed in the browser.
(function () {
  "use strict";

  function place(container, list, cls) {
    if (!container) return;
    container.replaceChildren(...list.map((b) => {
      const s = document.createElement("span");
      s.className = cls;
      Object.assign(s.style, { top: b[0] + "%", left: b[1] + "%", height: b[2] + "%", width: b[3] + "%" });
      return s;
    }));
  }

  // The output under the pointer as its step number (row-major), from the drawn picture's layout:
  // 1D a row, 2D the grid, 3D its depth slices tiled (app/core/picture.py: tiles, GAP); null in a gap.
  function stepAt(frame, layout, e) {
    const rect = frame.querySelector("img").getBoundingClientRect();
    const out = layout.out, [tr, tc] = layout.tiles, gap = layout.gap;
    const fy = (e.clientY - rect.top) / rect.height, fx = (e.clientX - rect.left) / rect.width;
    if (fx < 0 || fx >= 1 || fy < 0 || fy >= 1) return null;
    if (out.length === 1) return Math.floor(fx * out[0]);
    const h = out[out.length - 2], w = out[out.length - 1];
    if (out.length === 2) return Math.floor(fy * h) * w + Math.floor(fx * w);
    const py = Math.floor(fy * (tr * h + (tr - 1) * gap)), px = Math.floor(fx * (tc * w + (tc - 1) * gap));
    const y = py % (h + gap), x = px % (w + gap);
    const z = Math.floor(py / (h + gap)) * tc + Math.floor(px / (w + gap));
    if (y >= h || x >= w || z >= out[0]) return null;
    return (z * h + y) * w + x;
  }

  // frame's clicks, each picking the cell its press was on (cellAt(e): the cell under a pointer event, or
  // null). A click's clientX/Y are whole pixels (a pointer event's are not): on a picture of about a pixel
  // per cell they can name the cell before the one pressed. A click with no press of its own there (from
  // the keyboard, or a press that moved) reads its own position.
  function onCellClick(frame, cellAt, pick) {
    let pressed = null; // {x, y, cell}: where the last press was, and its cell
    frame.addEventListener("pointerdown", (e) => { pressed = { x: e.clientX, y: e.clientY, cell: cellAt(e) }; });
    frame.addEventListener("click", (e) => {
      const same = pressed && Math.abs(e.clientX - pressed.x) < 2 && Math.abs(e.clientY - pressed.y) < 2;
      const cell = same ? pressed.cell : cellAt(e);
      pressed = null;
      if (cell !== null) pick(cell);
    });
  }

  // Wire root's picture stage. opts: total (steps), current() (the step shown), preview(s) (show step s's
  // lens without moving the player; null: back to current), pin(s) (go to step s); toStep(i) (optional): the
  // step of cell i of the pointed picture (data-point: the output's by default; a scatter points at its input);
  // part (optional, "#arith" by default): the part of the page a lens fragment from the server replaces.
  // Returns { show(now), showNow(now), fromServer(s, params) } (below).
  function pictureStage(root, opts) {
    const stage = root.querySelector(".picture-stage");
    if (!stage) return null;
    const point = stage.dataset.point || "output";
    const layout = JSON.parse(point === "input" ? stage.dataset.inLayout : stage.dataset.layout);
    const frame = root.querySelector(`#${point}-frame`);
    const toStep = opts.toStep || ((i) => i);
    const cellAt = (e) => { const i = stepAt(frame, layout, e); return i === null ? null : toStep(i); };

    // the deck: a thumbnail focuses its channel (its picture large, its kernel's numbers shown)
    stage.querySelectorAll("[data-part=input] .thumb").forEach((thumb) => {
      thumb.addEventListener("click", () => {
        root.querySelector("#input-pic").src = thumb.dataset.src;
        if (thumb.dataset.outputSrc) root.querySelector("#output-pic").src = thumb.dataset.outputSrc;
        const c = thumb.dataset.channel;
        root.querySelector("#input-caption").textContent = thumb.getAttribute("aria-label") || `channel ${c}`;
        stage.querySelectorAll("[data-part=input] .thumb").forEach((t) => t.setAttribute("aria-pressed", String(t === thumb)));
        stage.querySelectorAll(".kernel-card").forEach((k) => { k.hidden = k.dataset.channel !== c; });
      });
    });

    // a filter's thumbnail sets the form's filter knob and sends the form (the other knobs stay as they are);
    // without the form (or without script) it is a link to that filter
    stage.querySelectorAll("[data-part=output] .thumb[data-filter]").forEach((thumb) => {
      thumb.addEventListener("click", (e) => {
        const field = document.getElementById(thumb.dataset.field || "f");
        if (!field || !field.form || !window.htmx) return;
        e.preventDefault();
        field.value = thumb.dataset.filter;
        htmx.trigger(field.form, "submit");
      });
    });

    function show(now) { // boxes of one step: {boxes, markers, pending}, each a list of one step's entry
      place(root.querySelector("#window-boxes"), now.boxes, "window-box");
      place(root.querySelector("#pending-boxes"), now.pending, "pending-box");
      place(root.querySelector("#marker-boxes"), [now.marker], "marker-box");
    }
    // a lens fragment's data-now (its step's boxes, one entry each): placed
    const showNow = (now) => show({ boxes: now.boxes[0], marker: now.markers[0], pending: now.pending[0] });

    let pointed = null; // the step the pointer is on (null: away, or a step was pinned since)
    const preview = (s) => { pointed = s; opts.preview(s); };
    const pin = (s) => { pointed = null; opts.pin(s); };
    // The lens of step s where the page's block does not hold it: the server's fragment (GET <this page>/lens
    // ?<this page's query with params set>, {step: s} by default), whose part (opts.part) replaces the page's
    // and whose boxes are placed, if the pointer is still on s when it comes. Resolves to its data-now (null
    // when not shown), e.g. for a view's own marks.
    const part = opts.part || "#arith";
    function fromServer(s, params = { step: s }) {
      const url = new URL(window.location.href);
      for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
      return fetch(url.pathname + "/lens" + url.search).then((r) => (r.ok ? r.text() : null)).then((text) => {
        if (!text || pointed !== s || !root.isConnected) return null;
        const t = document.createElement("template");
        t.innerHTML = text;
        const next = t.content.querySelector(part);
        if (!next) return null;
        root.querySelector(part).replaceWith(next);
        const now = JSON.parse(next.dataset.now);
        showNow(now);
        return now;
      }).catch(() => null);
    }

    let hovered = null;
    frame.addEventListener("pointermove", (e) => {
      const s = cellAt(e);
      if (s !== null && s !== hovered) { hovered = s; preview(s); }
    });
    frame.addEventListener("pointerleave", () => { hovered = null; preview(null); });
    onCellClick(frame, cellAt, pin);
    // the arrow keys move on the picture (Shift: 10 at a time) and stop at its edges, as on a map: left and
    // right along a row, up and down along a column (1D: along the row)
    frame.addEventListener("keydown", (e) => {
      const moves = { ArrowLeft: [0, -1], ArrowRight: [0, 1], ArrowUp: [-1, 0], ArrowDown: [1, 0] };
      if (!(e.key in moves)) return;
      e.preventDefault();
      e.stopPropagation(); // the presentation mode's arrows step the player; here they move on the picture
      const out = layout.out, w = out[out.length - 1], h = out.length > 1 ? out[out.length - 2] : 1;
      const n = e.shiftKey ? 10 : 1, s = opts.current(), x = s % w, y = Math.floor(s / w) % h;
      const to = (v, d, top) => Math.max(0, Math.min(top - 1, v + d * n));
      pin(s + (to(y, moves[e.key][0], h) - y) * w + (to(x, moves[e.key][1], w) - x));
    });
    return { show, showNow, fromServer };
  }

  // [row, column] of cell s of a picture w cells wide (/pointwise: filter and position), and the same as
  // "row,column", how /image's URL names a position (at=y,x).
  const cellOf = (s, w) => [Math.floor(s / w), s % w];
  const rowColumn = (s, w) => cellOf(s, w).join(",");
  window.Convscope = Object.assign(window.Convscope || {}, { pictureStage, onCellClick, cellOf, rowColumn });
})();
