// /pool: the pooling window played in the browser from the numbers in #pool-data (the input, the output
// and the geometry): no request per frame. Index arithmetic finds each window, as app/routes/pool.py
// does for ?step=n; the texts here are the same as the server's (tests compare them).
(function () {
  "use strict";
  const { fmt, wrap, unravel, ravel, prod, player, setParam } = window.Convscope;
  const plural = (n, word) => `${n} ${word}${n > 1 ? "s" : ""}`;
  const list = (pos) => `[${pos.join(", ")}]`;

  function setup(root) {
    const source = root.querySelector("#pool-data");
    if (!source) return;
    const d = JSON.parse(source.dataset.pool);
    const taps = prod(d.kernel), total = prod(d.out), cells = prod(d.size);
    const $ = (id) => root.querySelector("#" + CSS.escape(id));
    let lit = [], linked = [];
    let step = d.step;

    // the window of output o: tap j reads input position o·stride − pad_before + j·dilation (app/routes/pool.py: window_taps)
    function windowOf(o) {
      const out = [];
      for (let t = 0; t < taps; t++) {
        const j = unravel(t, d.kernel);
        const pos = j.map((jj, a) => o[a] * d.stride[a] - d.padding[a][0] + jj * d.dilation[a]);
        let where = "real";
        if (pos.some((q, a) => q >= d.size[a] + d.padding[a][1])) where = "past";
        else if (pos.some((q, a) => q < 0 || q >= d.size[a])) where = "pad";
        out.push({ pos, where, cell: ravel(pos.map((q, a) => q - d.lo[a]), d.drawn) });
      }
      return out;
    }
    const value = (c, pos) => d.x[c * cells + ravel(pos, d.size)];

    function divisorReason(win) { // as app/routes/pool.py: divisor_reason
      const real = win.filter((t) => t.where === "real").length;
      const pad = win.filter((t) => t.where === "pad").length;
      const past = win.filter((t) => t.where === "past").length;
      const tail = past ? ` The ${plural(past, "cell")} past the padded input (ceil_mode's last window) never count${past > 1 ? "" : "s"}.` : "";
      const padsAddNothing = `${pad} padding cell${pad > 1 ? "s add 0 and do not" : " adds 0 and does not"} count`;
      if (d.divisor) return [d.divisor, `divisor ${d.divisor}: divisor_override=${d.divisor} replaces the count, whatever the window holds.${tail}`];
      if (d.framework === "keras") {
        if (pad) return [real, `divisor ${real}: Keras 'same' average pooling divides by the real cells only; the window's ${padsAddNothing}.`];
        return [real, `divisor ${real}: the window's ${real} cells, all real input.`];
      }
      if (d.include_pad) {
        if (pad) return [real + pad, `divisor ${real + pad}: count_include_pad=True counts every cell inside the padded input: ${real} real + ${pad} padding (padding adds 0).${tail}`];
        return [real, `divisor ${real}: the window's ${real} cells, all real input.${tail}`];
      }
      if (pad) return [real, `divisor ${real}: count_include_pad=False counts only the ${real} real cells; the ${padsAddNothing}.${tail}`];
      return [real, `divisor ${real}: the window's ${real} cells, all real input.${tail}`];
    }

    // every channel's line at output o: [text before the value, value, text after], and the note under them
    function arithmetic(win) {
      const read = win.filter((t) => t.where !== "past");
      const lines = [];
      if (d.kind === "max") {
        for (let c = 0; c < d.channels; c++) {
          const values = read.map((t) => (t.where === "real" ? value(c, t.pos) : -Infinity));
          const best = Math.max(...values);
          const shown = values.map((v) => (v === -Infinity ? "−∞" : fmt(v))).join(", ");
          const ties = values.filter((v) => v === best).length;
          const first = values.indexOf(best);
          let after = "";
          if (best > -Infinity) after = `, at input position ${list(read[first].pos)}` + (ties > 1 ? ` (the first of ${ties} equal values)` : "");
          lines.push({ c, head: `channel ${c}: max(${shown}) = `, value: fmt(best), after, winner: best > -Infinity ? read[first].cell : null });
        }
        const pads = win.filter((t) => t.where === "pad").length;
        const past = win.length - read.length;
        const parts = [];
        if (pads) parts.push(`Padding is −∞ for max pooling: the window's ${plural(pads, "padding cell")} can never win.`);
        if (past) parts.push(`${plural(past, "cell")} of ceil_mode's last window lie${past > 1 ? "" : "s"} past the padded input: not read.`);
        return { lines, why: parts.join(" ") || "The window holds real input only." };
      }
      const [divisor, reason] = divisorReason(win);
      for (let c = 0; c < d.channels; c++) {
        const values = read.map((t) => (t.where === "real" ? value(c, t.pos) : 0));
        const sum = values.reduce((a, b) => a + b, 0);
        lines.push({ c, head: `channel ${c}: (${values.map(wrap).join(" + ")}) / ${divisor} = ${fmt(sum)} / ${divisor} = `,
          value: fmt(sum / divisor), after: "", winner: null });
      }
      return { lines, why: reason };
    }

    function clear(els, ...cls) { els.forEach((el) => el.classList.remove(...cls)); return []; }
    function markWindow(o, cls) {
      const els = [];
      windowOf(o).forEach(({ cell }) => {
        for (let c = 0; c < d.channels; c++) {
          const el = $(`x${c}-${cell}`);
          if (el) { el.classList.add(cls); els.push(el); }
        }
      });
      return els;
    }

    function show(s) {
      step = (s + total) % total;
      const o = unravel(step, d.out);
      lit = clear(lit, "lit", "win");
      lit = markWindow(o, "lit");
      for (let c = 0; c < d.channels; c++) {
        for (let i = 0; i < total; i++) {
          const el = $(`y${c}-${i}`);
          if (!el) continue;
          el.classList.toggle("current", i === step);
          el.classList.toggle("pending", i > step);
        }
      }
      const win = windowOf(o);
      const { lines, why } = arithmetic(win);
      const ol = root.querySelector("#arith-lines");
      ol.replaceChildren();
      lines.forEach((line) => {
        const li = document.createElement("li");
        const strong = document.createElement("strong");
        strong.textContent = line.value;
        li.append(line.head, strong, line.after);
        ol.append(li);
        if (line.winner !== null) {
          const el = $(`x${line.c}-${line.winner}`);
          if (el) { el.classList.add("win"); lit.push(el); }
        }
      });
      root.querySelector("#arith-why").textContent = why;
      root.querySelector("#arith-title").textContent = `Output ${list(o)} of every channel, written out`;
      root.querySelector("#scrub").value = step;
      root.querySelector("#step-label").textContent = `${step} of ${total}: output ${list(o)}`;
      setParam("step", step); // a link to this very step
    }

    const { stop, autoplay } = player(root, show, () => step);

    // hover an output: its window is outlined in every channel; click it to go to its step
    const outputIndex = (el) => { const m = /^y\d+-(\d+)$/.exec((el && el.id) || ""); return m ? Number(m[1]) : null; };
    root.querySelectorAll(".pool-grids [aria-label^='output channel']").forEach((g) => {
      g.addEventListener("mouseover", (e) => {
        linked = clear(linked, "linked");
        const i = outputIndex(e.target);
        if (i === null) return;
        linked = markWindow(unravel(i, d.out), "linked");
        for (let c = 0; c < d.channels; c++) { const y = $(`y${c}-${i}`); if (y) { y.classList.add("linked"); linked.push(y); } }
      });
      g.addEventListener("mouseleave", () => { linked = clear(linked, "linked"); });
      g.addEventListener("click", (e) => { const i = outputIndex(e.target); if (i !== null) { stop(); show(i); } });
    });
    show(step);
    autoplay();
  }

  htmx.onLoad((elt) => {
    const root = elt.id === "live" ? elt : elt.querySelector && elt.querySelector("#live.pool");
    if (root) setup(root);
  });
})();
