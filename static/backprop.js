// /backprop: after the server swaps in a new step or cell, keep the lit cell of each scrolling grid in view.
// At picture level (static/picture.js) a click on the output picture, or Enter on the marker the arrow keys
// move there, sends a gradient of 1 from that output cell: the browser asks the server for the page. Pointing
// at ∂L/∂input's picture, tapping it or the arrow keys write out that cell's sum: the lens is the server's
// (GET /backprop/lens). The browser turns a pointer position or a key into a cell index only: it formats no
// number and does no gradient arithmetic. A knob change keeps pasted numbers.
(() => {
  const reveal = () => {
    for (const box of document.querySelectorAll(".backprop .window-grids > div")) {
      const cell = box.querySelector("td.lit, td.dep");
      if (!cell || box.scrollWidth <= box.clientWidth) continue;
      const b = box.getBoundingClientRect(), c = cell.getBoundingClientRect();
      box.scrollLeft += c.left - b.left - (b.width - c.width) / 2;
    }
  };
  // A one-cell marker's place: its row and column in a picture of rows × cols cells (backprop.css places it).
  const mark = (box, row, col) => { box.style.setProperty("--row", row); box.style.setProperty("--col", col); };
  const MOVES = { ArrowLeft: [0, -1], ArrowRight: [0, 1], ArrowUp: [-1, 0], ArrowDown: [1, 0] };
  // the cell [row, col] an arrow key (Shift: 10) moves to from [row, col], stopping at the picture's edges
  const moved = (e, row, col, rows, cols) => {
    const n = e.shiftKey ? 10 : 1, [dr, dc] = MOVES[e.key];
    return [Math.max(0, Math.min(rows - 1, row + dr * n)), Math.max(0, Math.min(cols - 1, col + dc * n))];
  };
  // the [row, col] of the picture's cell under the pointer (null outside it)
  const cellAt = (frame, rows, cols, e) => {
    const r = frame.querySelector("img").getBoundingClientRect();
    const fy = (e.clientY - r.top) / r.height, fx = (e.clientX - r.left) / r.width;
    return fx < 0 || fx >= 1 || fy < 0 || fy >= 1 ? null : [Math.floor(fy * rows), Math.floor(fx * cols)];
  };

  // The forward output: a click picks the cell under the pointer (static/picture.js); focused, the arrow keys
  // move the marker and Enter picks the cell under it.
  const wireOutput = (root, picker) => {
    const url = new URL(picker.dataset.cellUrl, location.href);
    const out = picker.dataset.cellCount.split("*").map(Number);
    const total = out.reduce((a, b) => a * b, 1), cols = out[out.length - 1], rows = total / cols;
    let first = Number(picker.dataset.cellFirst), now = Number(picker.dataset.cellNow);
    // pooling: a channel's thumbnail shows that channel's output too; a click there picks a cell of that channel
    if (picker.dataset.pooling) {
      root.querySelectorAll("[data-part=input] .thumb").forEach((thumb) => thumb.addEventListener("click", () => {
        first = Number(thumb.dataset.channel) * total;
      }));
    }
    const go = (s) => {
      url.searchParams.set("cell", String(first + s));
      if (window.htmx) htmx.ajax("GET", url.pathname + url.search, { target: "#live", swap: "outerHTML" });
      else location.href = url.href;
    };
    const frame = root.querySelector("#output-frame"), status = root.querySelector("#pick-status");
    if (!frame) return;
    frame.setAttribute("aria-label", picker.dataset.label);
    const boxes = root.querySelector("#marker-boxes"), drawn = boxes.innerHTML;
    let keyed = false; // the arrow keys (or the focus) placed the marker
    const draw = (s) => { // the marker on output cell s
      const box = document.createElement("span");
      box.className = "marker-box cell-box";
      box.style.cssText = `--rows: ${rows}; --cols: ${cols}`;
      mark(box, Math.floor(s / cols), s % cols);
      boxes.replaceChildren(box);
    };
    const place = () => { // the marker on the cell `now`, said in words
      const row = Math.floor(now / cols), col = now % cols;
      keyed = true;
      draw(now);
      if (status) {
        status.textContent = picker.dataset.say.replace("{cell}", `[${out.length > 1 ? row + ", " : ""}${col}]`)
          .replace("{channel}", String(Math.floor(first / total)));
      }
    };
    frame.addEventListener("focus", place);
    frame.addEventListener("keydown", (e) => { // before picture.js's own: an arrow moves the marker, not the page
      if (e.key === "Enter") { e.preventDefault(); e.stopImmediatePropagation(); go(now); return; }
      if (!(e.key in MOVES)) return;
      e.preventDefault();
      e.stopImmediatePropagation(); // neither picture.js's arrows nor the presentation's
      const [row, col] = moved(e, Math.floor(now / cols), now % cols, rows, cols);
      now = row * cols + col;
      place();
    });
    // pointing: the marker shows the cell a click would pick; away, back to where it was
    const preview = (s) => { if (s !== null) draw(s); else if (keyed) draw(now); else boxes.innerHTML = drawn; };
    window.Convscope.pictureStage(root, { total, current: () => now, preview, pin: go });
  };

  // ∂L/∂input's picture: pointing at a cell writes out its sum in the lens (the server's /backprop/lens answer,
  // shown while the pointer is there), a click or tap keeps it (the URL's step), the arrow keys move it.
  const wireGradInput = (root) => {
    const frame = root.querySelector("#gx-frame"), lens = root.querySelector("#lens");
    if (!frame || !lens) return;
    const rows = Number(frame.dataset.rows), cols = Number(frame.dataset.cols), first = Number(frame.dataset.first);
    const marker = root.querySelector("#gx-marker"), answers = new Map();
    let pinned = Number(lens.dataset.step), wanted = pinned, timer = null;
    answers.set(pinned, lens.outerHTML);
    const put = (s, html) => { // swap the lens's content (the live region stays), and its marker
      if (s !== wanted || !lens.isConnected) return;
      const t = document.createElement("template");
      t.innerHTML = html;
      const next = t.content.querySelector("#lens");
      if (!next) return;
      lens.innerHTML = next.innerHTML;
      for (const k of ["step", "row", "col"]) lens.dataset[k] = next.dataset[k];
      if (window.htmx) htmx.process(lens);
      mark(marker, lens.dataset.row, lens.dataset.col);
    };
    const ask = (s) => { // step s's lens: asked of the server once, then kept
      wanted = s;
      if (answers.has(s)) { put(s, answers.get(s)); return; }
      const url = new URL(frame.dataset.lensUrl, location.href);
      url.searchParams.set("step", String(s));
      fetch(url.pathname + url.search).then((r) => (r.ok ? r.text() : null)).then((text) => {
        if (!text) return;
        answers.set(s, text);
        put(s, text);
      }).catch(() => {});
    };
    const stepOf = (cell) => first + cell[0] * cols + cell[1];
    const pin = (s) => {
      pinned = s;
      const here = new URL(location.href); // the address names the cell written out
      here.searchParams.set("step", String(s));
      history.replaceState(history.state, "", here);
      ask(s);
    };
    frame.addEventListener("pointermove", (e) => {
      if (e.pointerType === "touch") return; // a tap pins (click) instead
      const cell = cellAt(frame, rows, cols, e);
      if (!cell || stepOf(cell) === wanted) return;
      clearTimeout(timer);
      timer = setTimeout(() => ask(stepOf(cell)), 40); // the pointer sweeping across: ask for where it rests
    });
    frame.addEventListener("pointerleave", () => { clearTimeout(timer); if (wanted !== pinned) ask(pinned); });
    // a click or tap keeps the cell it pressed (static/picture.js)
    window.Convscope.onCellClick(frame, (e) => cellAt(frame, rows, cols, e), (cell) => {
      clearTimeout(timer);
      pin(stepOf(cell));
    });
    frame.addEventListener("keydown", (e) => {
      if (!(e.key in MOVES)) return;
      e.preventDefault();
      e.stopPropagation(); // the presentation mode's arrows: here they move on the picture
      const at = pinned - first;
      pin(stepOf(moved(e, Math.floor(at / cols), at % cols, rows, cols)));
    });
  };

  const wire = () => {
    const root = document.getElementById("live"), picker = document.getElementById("cell-picker");
    if (!root || !picker || root.dataset.wired || !(window.Convscope && window.Convscope.pictureStage)) return;
    root.dataset.wired = "1";
    wireOutput(root, picker);
    wireGradInput(root);
  };
  // a knob change keeps the pasted numbers (and what they are): the knob form's request carries them
  document.addEventListener("htmx:configRequest", (e) => {
    const elt = e.detail.elt;
    if (!elt || !elt.closest || !elt.closest("#backprop-form")) return;
    const paste = document.getElementById("paste"), as = document.getElementById("paste_as");
    if (!paste || !as || !paste.value.trim()) return;
    e.detail.parameters.paste = paste.value;
    e.detail.parameters.paste_as = as.value;
  });
  window.addEventListener("DOMContentLoaded", () => { reveal(); wire(); });
  document.addEventListener("htmx:afterSettle", () => { reveal(); wire(); });
})();
