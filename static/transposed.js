// /transposed: the scatter played input value by input value, and the direct convolution's window
// stepped position by position, in the browser from the numbers in #transposed-data (no request per
// frame). The server renders ?step=n and ?pos=n the same way.
(function () {
  "use strict";
  const { fmt, term, unravel, ravel, prod, strong, setParam, player } = window.Convscope;

  function setup(root) {
    const source = root.querySelector("#transposed-data");
    if (!source) return;
    const d = JSON.parse(source.dataset.transposed);
    const shown = document.getElementById("o"); // the form sits outside the swapped part: keep its bound current
    if (shown) shown.max = String(d.filters - 1);
    const $ = (id) => root.querySelector("#" + CSS.escape(id));
    const P = prod(d.size), taps = prod(d.kernel), cg = d.channels.length;
    const total = cg * P, cells = prod(d.canvas), outs = prod(d.out), padCells = prod(d.padded);
    let step = d.step, pos = d.pos, lit = [], winLit = [], linked = [];

    // canvas cell of input position i and kernel tap t: i·stride + j·dilation
    const stampCell = (i, t) => {
      const ip = unravel(i, d.size), j = unravel(t, d.kernel);
      return ravel(ip.map((v, a) => v * d.stride[a] + j[a] * d.dilation[a]), d.canvas);
    };
    const canvasOf = (k) => ravel(unravel(k, d.out).map((v, a) => v + d.start[a]), d.canvas); // output k -> canvas
    const last = new Array(cells).fill(-1); // the last step that adds into each canvas cell
    for (let s = 0; s < total; s++) for (let t = 0; t < taps; t++) last[stampCell(s % P, t)] = s;
    const mark = (list, cls, els) => { els.filter(Boolean).forEach((el) => { el.classList.add(cls); list.push(el); }); return list; };
    const clear = (list, cls) => { list.forEach((el) => el.classList.remove(cls)); return []; };

    // ---- 1. the scatter
    function show(s) {
      step = ((s % total) + total) % total;
      const canvas = new Float64Array(cells);
      for (let k = 0; k <= step; k++) {
        const c = Math.floor(k / P), i = k % P, v = d.x[c * P + i];
        for (let t = 0; t < taps; t++) canvas[stampCell(i, t)] += v * d.w[c * taps + t];
      }
      for (let cell = 0; cell < cells; cell++) { const el = $(`s-${cell}`); if (el) el.textContent = fmt(canvas[cell]); }
      for (let k = 0; k < outs; k++) { // the kept canvas plus the bias; faded while stamps are still to come
        const el = $(`y-${k}`);
        if (!el) continue;
        el.textContent = fmt(canvas[canvasOf(k)] + d.b);
        el.classList.toggle("pending", last[canvasOf(k)] > step);
      }
      const c = Math.floor(step / P), i = step % P, ch = d.channels[c], v = d.x[c * P + i], ip = unravel(i, d.size);
      lit = clear(lit, "lit");
      mark(lit, "lit", [$(`x${ch}-${i}`)]);
      for (let t = 0; t < taps; t++) {
        mark(lit, "lit", [$(`s-${stampCell(i, t)}`)]);
        const k = $(`k-${t}`);
        if (k) k.textContent = fmt(v * d.w[c * taps + t]);
      }
      const at = ip.map((p, a) => p * d.stride[a]);
      const text = $("stamp-text");
      text.replaceChildren(`x[${ch}, ${ip.join(", ")}] = `, strong(fmt(v)),
        ` times the kernel, added at canvas [${at.join(", ")}]` + (d.dilation[0] > 1 ? ` (taps ${d.dilation[0]} apart):` : ":"));
      $("scrub").value = step;
      $("step-label").textContent = `${step} of ${total}: x[${ch}, ${ip.join(", ")}]`;
      setParam("step", step);
    }
    const { autoplay } = player(root, show, () => step);

    function showPos(p) {
      pos = ((p % outs) + outs) % outs;
      const q = unravel(pos, d.out);
      winLit = clear(winLit, "lit");
      for (let k = 0; k < outs; k++) { const el = $(`z-${k}`); if (el) el.classList.toggle("current", k === pos); }
      const lines = $("direct-lines");
      lines.replaceChildren();
      let sum = 0;
      d.channels.forEach((ch, c) => {
        const li = document.createElement("li");
        li.append(`channel ${ch}: `);
        let chSum = 0;
        for (let t = 0; t < taps; t++) {
          const j = unravel(t, d.kernel);
          const cell = ravel(q.map((v, a) => v + j[a] * d.dilation[a]), d.padded);
          const xv = d.xp[c * padCells + cell], wv = d.wd[c * taps + t];
          mark(winLit, "lit", [$(`d${ch}-${cell}`)]);
          if (t) li.append(" + ");
          const span = document.createElement("span");
          if (d.codes[cell] !== 0) span.className = "zero";
          span.textContent = term(xv, wv);
          li.append(span);
          chSum += xv * wv;
        }
        sum += chSum;
        li.append(" = ", strong(fmt(chSum)));
        lines.append(li);
      });
      $("direct-total").replaceChildren(`sum of channels + bias (${fmt(d.b)}) = `, strong(fmt(d.z[pos])));
      $("direct-title-pos").textContent = `Output [${q.join(", ")}], written out`;
      $("pos-scrub").value = pos;
      $("pos-label").textContent = `${pos} of ${outs}: output [${q.join(", ")}]`;
      setParam("pos", pos);
    }

    // hover or focus an output (either side): the same position in both outputs, its canvas cell,
    // and the input values whose stamps reach it
    function link(k) {
      linked = clear(linked, "linked");
      if (k === null) return;
      const cell = canvasOf(k);
      mark(linked, "linked", [$(`y-${k}`), $(`z-${k}`), $(`s-${cell}`)]);
      for (let s = 0; s < total; s++) {
        for (let t = 0; t < taps; t++) {
          if (stampCell(s % P, t) === cell) mark(linked, "linked", [$(`x${d.channels[Math.floor(s / P)]}-${s % P}`)]);
        }
      }
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
