// /transposed: the scatter played input value by input value, and the direct convolution's window
// stepped position by position, in the browser from #transposed-data, which the server wrote with the
// functions that render ?step=n and ?pos=n (app/routes/transposed.py: _played_scatter, _played_direct):
// the cells each step lights, the texts it changes, every sentence. Here: look up, toggle, set text.
(function () {
  "use strict";
  const { strong, setParam, player } = window.Convscope;

  // rich text as the server wrote it (app/routes/transposed.py: rich): pieces {kind, text} by name
  const PIECE = {
    text: (t) => t,
    value: (t) => strong(t),
    product: (t) => { const span = document.createElement("span"); span.textContent = t; return span; },
    zero: (t) => { const span = document.createElement("span"); span.className = "zero"; span.textContent = t; return span; },
  };
  function rich(el, pieces, T) {
    el.replaceChildren(...pieces.map((p) => PIECE[p.kind](T[p.text])));
  }

  // picture level (templates/_partials/stage.html, static/picture.js): the played block of steps by name (label,
  // channel, stamp, contribs) and the boxes the server placed; a step outside the block is the server's
  // fragment (playing, a click) or its lens (pointing: GET /transposed/lens).
  function setupPicture(root, d) {
    const S = d.scatter_texts, total = d.total, $ = (id) => root.querySelector("#" + CSS.escape(id));
    let step = d.step, asked = false;
    const inBlock = (s) => s >= d.first && s < d.first + d.scatter.length;
    let focus = d.scatter[step - d.first].channel; // the channel drawn large: the step's, or the deck's choice
    const focused = () => { const t = root.querySelector("[data-part=input] .thumb[aria-pressed=true]"); return t ? Number(t.dataset.channel) : focus; };
    function focusOn(c) { // the input picture and kernel of channel c (the step's), as a deck click does
      if (c === focused()) return;
      focus = c;
      const src = d.sources[c];
      if (src) $("input-pic").src = src;
      $("input-caption").textContent = `channel ${c}`;
      root.querySelectorAll("[data-part=input] .thumb").forEach((t) => t.setAttribute("aria-pressed", String(Number(t.dataset.channel) === c)));
      root.querySelectorAll(".kernel-card").forEach((k) => { k.hidden = Number(k.dataset.channel) !== c; });
    }
    function paint(s) {
      const st = d.scatter[s - d.first];
      focusOn(st.channel);
      pic.show({ boxes: d.picture.boxes[s - d.first], marker: d.picture.markers[s - d.first], pending: d.picture.pending[s - d.first] });
      rich($("stamp-text"), st.stamp, S);
      st.contribs.forEach((text, t) => { const k = $(`k-${t}`); if (k) k.textContent = S[text]; });
    }
    function show(s) {
      if (asked) return;
      const next = ((s % total) + total) % total;
      step = next;
      if (!inBlock(next)) {
        asked = true;
        const url = new URL(window.location.href);
        url.searchParams.set("step", next);
        htmx.ajax("GET", url.pathname + url.search, { target: root, swap: "outerHTML" }).finally(() => { asked = false; });
        return;
      }
      paint(step);
      $("scrub").value = step;
      $("step-label").textContent = S[d.scatter[step - d.first].label];
      setParam("step", step);
    }
    const { stop, autoplay } = player(root, show, () => step);
    // pointing: the step's stamp from the block, or the server's (GET /transposed/lens: static/picture.js)
    const pic = window.Convscope.pictureStage(root, {
      total, current: () => step, part: "#stamp",
      toStep: (i) => d.channels.indexOf(focused()) * d.positions + i, // the pointed input value's step
      preview(s) {
        const s2 = s === null ? step : s;
        if (inBlock(s2)) paint(s2); else pic.fromServer(s2);
      },
      pin(s) { stop(); show(s); },
    });
    show(step);
    root.dataset.ready = "1";
    autoplay();
  }

  function setup(root) {
    const source = root.querySelector("#transposed-data");
    if (!source) return;
    const d = JSON.parse(source.dataset.transposed);
    const shown = document.getElementById("o"); // the form sits outside the swapped part: keep its bound current
    if (shown) shown.max = String(d.filters - 1);
    if (d.picture) { setupPicture(root, d); return; }
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
        const st = d.scatter[k];
        st.canvas_cells.forEach((cell, i) => { const el = $(`s-${cell}`); if (el) el.textContent = S[st.canvas_texts[i]]; });
        st.out_cells.forEach((cell, i) => { const el = $(`y-${cell}`); if (el) el.textContent = S[st.out_texts[i]]; });
      }
      for (let k = 0; k < d.last.length; k++) { const el = $(`y-${k}`); if (el) el.classList.toggle("pending", d.last[k] > step); }
      const st = d.scatter[step], [ch, i] = st.input;
      lit = clear(lit, "lit");
      mark(lit, "lit", [$(`x${ch}-${i}`), ...st.stamped.map((cell) => $(`s-${cell}`))]);
      st.contribs.forEach((text, t) => { const k = $(`k-${t}`); if (k) k.textContent = S[text]; });
      rich($("stamp-text"), st.stamp, S);
      $("scrub").value = step;
      $("step-label").textContent = S[st.label];
      setParam("step", step);
    }
    const { autoplay } = player(root, show, () => step);

    // ---- 2. the direct conv's window at output position p
    function showPos(p) {
      pos = ((p % outs) + outs) % outs;
      const w = d.direct[pos];
      winLit = clear(winLit, "lit");
      for (let k = 0; k < outs; k++) { const el = $(`z-${k}`); if (el) el.classList.toggle("current", k === pos); }
      d.channels.forEach((ch) => mark(winLit, "lit", w.cells.map((cell) => $(`d${ch}-${cell}`))));
      const list = $("direct-lines");
      list.replaceChildren();
      w.lines.forEach((line) => { const li = document.createElement("li"); rich(li, line, D); list.append(li); });
      rich($("direct-total"), w.total, D);
      $("direct-title-pos").textContent = D[w.title];
      $("pos-scrub").value = pos;
      $("pos-label").textContent = D[w.label];
      setParam("pos", pos);
    }

    // hover or focus an output (either side): the same position in both outputs, its canvas cell,
    // and the input values whose stamps reach it
    function link(k) {
      linked = clear(linked, "linked");
      if (k === null) return;
      const cell = d.window[k];
      mark(linked, "linked", [$(`y-${k}`), $(`z-${k}`), $(`s-${cell}`)]);
      d.scatter.forEach((st) => { if (st.stamped.includes(cell)) mark(linked, "linked", [$(`x${st.input[0]}-${st.input[1]}`)]); });
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
