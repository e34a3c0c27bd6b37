// /transposed: the scatter played input value by input value, and the direct convolution's window
// stepped position by position, in the browser from #transposed-data, which the server wrote with the
// functions that render ?step=n and ?pos=n (app/routes/transposed.py: _played_scatter, _played_direct):
// the cells each step lights, the texts it changes, every sentence. Here: look up, toggle, set text.
(function () {
  "use strict";
  const { strong, setParam, player } = window.Convscope;

  // rich text as the server wrote it: flat (kind, text) pairs; 0 text, 1 a product, 2 a product reading a zero, 3 a value
  function rich(el, pieces, T) {
    el.replaceChildren();
    for (let i = 0; i < pieces.length; i += 2) {
      const kind = pieces[i], text = T[pieces[i + 1]];
      if (kind === 0) { el.append(text); continue; }
      if (kind === 3) { el.append(strong(text)); continue; }
      const span = document.createElement("span");
      if (kind === 2) span.className = "zero";
      span.textContent = text;
      el.append(span);
    }
  }

  function setup(root) {
    const source = root.querySelector("#transposed-data");
    if (!source) return;
    const d = JSON.parse(source.dataset.transposed);
    const shown = document.getElementById("o"); // the form sits outside the swapped part: keep its bound current
    if (shown) shown.max = String(d.filters - 1);
    const $ = (id) => root.querySelector("#" + CSS.escape(id));
    const S = d.scatter_texts, D = d.direct_texts;
    const total = d.scatter.length, outs = d.direct.length;
    let step = d.step, pos = d.pos, lit = [], winLit = [], linked = [];
    const mark = (list, cls, els) => { els.filter(Boolean).forEach((el) => { el.classList.add(cls); list.push(el); }); return list; };
    const clear = (list, cls) => { list.forEach((el) => el.classList.remove(cls)); return []; };
    const canvasCells = root.querySelectorAll("[id^='s-']");

    // ---- 1. the scatter: the canvas and the output before any step, then each step's changes up to s
    function show(s) {
      step = ((s % total) + total) % total;
      canvasCells.forEach((el) => { el.textContent = S[d.canvas0]; });
      for (let k = 0; k < d.window.length; k++) { const el = $(`y-${k}`); if (el) el.textContent = S[d.y0]; }
      for (let k = 0; k <= step; k++) {
        const [, , , , , canvas, out] = d.scatter[k];
        for (let i = 0; i < canvas.length; i += 2) { const el = $(`s-${canvas[i]}`); if (el) el.textContent = S[canvas[i + 1]]; }
        for (let i = 0; i < out.length; i += 2) { const el = $(`y-${out[i]}`); if (el) el.textContent = S[out[i + 1]]; }
      }
      for (let k = 0; k < d.last.length; k++) { const el = $(`y-${k}`); if (el) el.classList.toggle("pending", d.last[k] > step); }
      const [label, stamp, [ch, i], contrib, stamped] = d.scatter[step];
      lit = clear(lit, "lit");
      mark(lit, "lit", [$(`x${ch}-${i}`), ...stamped.map((cell) => $(`s-${cell}`))]);
      contrib.forEach((text, t) => { const k = $(`k-${t}`); if (k) k.textContent = S[text]; });
      rich($("stamp-text"), stamp, S);
      $("scrub").value = step;
      $("step-label").textContent = S[label];
      setParam("step", step);
    }
    const { autoplay } = player(root, show, () => step);

    // ---- 2. the direct conv's window at output position p
    function showPos(p) {
      pos = ((p % outs) + outs) % outs;
      const [label, title, cells, lines, sum] = d.direct[pos];
      winLit = clear(winLit, "lit");
      for (let k = 0; k < outs; k++) { const el = $(`z-${k}`); if (el) el.classList.toggle("current", k === pos); }
      d.channels.forEach((ch) => mark(winLit, "lit", cells.map((cell) => $(`d${ch}-${cell}`))));
      const list = $("direct-lines");
      list.replaceChildren();
      lines.forEach((line) => { const li = document.createElement("li"); rich(li, line, D); list.append(li); });
      rich($("direct-total"), sum, D);
      $("direct-title-pos").textContent = D[title];
      $("pos-scrub").value = pos;
      $("pos-label").textContent = D[label];
      setParam("pos", pos);
    }

    // hover or focus an output (either side): the same position in both outputs, its canvas cell,
    // and the input values whose stamps reach it
    function link(k) {
      linked = clear(linked, "linked");
      if (k === null) return;
      const cell = d.window[k];
      mark(linked, "linked", [$(`y-${k}`), $(`z-${k}`), $(`s-${cell}`)]);
      d.scatter.forEach(([, , [ch, i], , stamped]) => { if (stamped.includes(cell)) mark(linked, "linked", [$(`x${ch}-${i}`)]); });
    }
    const outputIndex = (el) => { const m = /^[yz]-(\d+)$/.exec((el && el.id) || ""); return m ? Number(m[1]) : null; };
    root.querySelectorAll("[aria-label^='scatter output'], [aria-label^='direct output']").forEach((grid) => {
      grid.addEventListener("mouseover", (e) => link(outputIndex(e.target)));
      grid.addEventListener("focusin", (e) => link(outputIndex(e.target)));
      grid.addEventListener("mouseleave", () => link(null));
      grid.addEventListener("focusout", () => link(null));
      grid.addEventListener("click", (e) => { const k = outputIndex(e.target); if (k !== null) showPos(k); });
      grid.addEventListener("keydown", (e) => {
        const k = outputIndex(e.target);
        if ((e.key === "Enter" || e.key === " ") && k !== null) { e.preventDefault(); showPos(k); }
      });
    });

    $("pos-scrub").addEventListener("input", (e) => showPos(Number(e.target.value)));
    $("pos-back").addEventListener("click", (e) => { e.preventDefault(); showPos(pos - 1); });
    $("pos-forward").addEventListener("click", (e) => { e.preventDefault(); showPos(pos + 1); });
    show(step);
    showPos(pos);
    root.dataset.ready = "1"; // for tests and tools: the script has drawn this fragment
    // an embed may ask to play (never when the reader prefers reduced motion)
    autoplay();
  }

  htmx.onLoad((elt) => {
    const root = elt.id === "live" ? elt : elt.querySelector && elt.querySelector("#live.transposed");
    if (root) setup(root);
  });
})();
