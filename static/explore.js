// The explorer's sliding window, played in the browser from the numbers in #explore-data:
// no request per frame. Index arithmetic finds each window; the server renders ?step=n the same way.
(function () {
  "use strict";
  const { fmt, term, unravel, ravel, prod, player, setParam } = window.Convscope;

  function setup(root) {
    const source = root.querySelector("#explore-data");
    if (!source) return;
    const d = JSON.parse(source.dataset.explore);
    // keep the sliders where the layer runs (ezyang's visualizer does the same)
    Object.entries(JSON.parse(source.dataset.limits || "{}")).forEach(([id, bounds]) => {
      const input = document.getElementById(id);
      if (input) Object.entries(bounds).forEach(([k, v]) => input.setAttribute(k, v));
    });
    const taps = prod(d.kernel), cells = prod(d.padded), total = prod(d.out);
    const $ = (id) => root.querySelector("#" + CSS.escape(id));
    let lit = [], linked = [];
    let step = d.step;

    function windowOf(o) { // padded coordinates read by each tap, for output position o
      const list = [];
      for (let t = 0; t < taps; t++) {
        const j = unravel(t, d.kernel);
        list.push({ t, cell: ravel(j.map((jj, a) => o[a] * d.stride[a] + jj * d.dilation[a]), d.padded) });
      }
      return list;
    }
    function mark(list, cls, o) {
      const els = [];
      windowOf(o).forEach(({ t, cell }) => {
        d.channels.forEach((c) => {
          [$(`x${c}-${cell}`), $(`w${c}-${t}`)].forEach((el) => { if (el) { el.classList.add(cls); els.push(el); } });
        });
      });
      return list.concat(els);
    }
    function clear(list, cls) { list.forEach((el) => el.classList.remove(cls)); return []; }

    function show(s) {
      step = (s + total) % total;
      const o = unravel(step, d.out);
      lit = clear(lit, "lit");
      lit = mark(lit, "lit", o);
      for (let i = 0; i < total; i++) {
        const el = $(`y-${i}`);
        if (!el) continue;
        el.classList.toggle("current", i === step);
        el.classList.toggle("pending", i > step);
      }
      const current = $(`y-${step}`);
      if (current) current.classList.add("lit"), lit.push(current);
      // the arithmetic, from the shown channels; any others arrive as one sum
      const lines = root.querySelector("#arith-lines");
      lines.replaceChildren();
      let shownSum = 0;
      d.channels.forEach((c, ci) => {
        const terms = [];
        let sum = 0;
        windowOf(o).forEach(({ t, cell }) => {
          const xv = d.x[ci * cells + cell], wv = d.w[ci * taps + t];
          terms.push(term(xv, wv));
          sum += xv * wv;
        });
        shownSum += sum;
        const li = document.createElement("li");
        const strong = document.createElement("strong");
        strong.textContent = fmt(sum);
        li.append(`channel ${c}: ${terms.join(" + ")} = `, strong);
        lines.append(li);
      });
      const pre = d.pre[step];
      const rest = pre - d.b - shownSum;
      if (root.querySelector("#arith").dataset.more === "1") {
        const li = document.createElement("li");
        const strong = document.createElement("strong");
        strong.textContent = fmt(rest);
        li.append(`${root.querySelector("#arith").dataset.moreLabel}: = `, strong);
        lines.append(li);
      }
      const totalP = root.querySelector("#arith-total");
      const value = fmt(d.y[step]);
      totalP.textContent = "";
      const sPre = document.createElement("strong"); sPre.textContent = fmt(pre);
      const sVal = document.createElement("strong"); sVal.textContent = value;
      totalP.append(`sum of channels + bias (${fmt(d.b)}) = `, sPre);
      if (d.activation !== "linear") totalP.append(` → ${d.activation}(${fmt(pre)}) = `, sVal);
      root.querySelector("#arith h3").textContent = `Output [${o.join(", ")}] of filter ${root.dataset.filter}, written out`;
      const scrub = root.querySelector("#scrub");
      scrub.value = step;
      root.querySelector("#step-label").textContent = `${step} of ${total}: output [${o.join(", ")}]`;
      setParam("step", step); // a link to this very step
    }

    const { stop, autoplay } = player(root, show, () => step);

    // hover or focus an output cell: its window lights up; hover an input cell: the outputs that read it
    const out = root.querySelector("[aria-label^='output of filter']");
    function onOutput(e) {
      const id = e.target.id && e.target.id.startsWith("y-") ? Number(e.target.id.slice(2)) : null;
      linked = clear(linked, "linked");
      if (id !== null) {
        linked = mark(linked, "linked", unravel(id, d.out));
        e.target.classList.add("linked");
        linked.push(e.target);
      }
    }
    out.addEventListener("mouseover", onOutput);
    out.addEventListener("focusin", onOutput);
    out.addEventListener("mouseleave", () => { linked = clear(linked, "linked"); });
    out.addEventListener("focusout", () => { linked = clear(linked, "linked"); });
    out.addEventListener("click", (e) => { if (e.target.id && e.target.id.startsWith("y-")) { stop(); show(Number(e.target.id.slice(2))); } });
    out.addEventListener("keydown", (e) => {
      if ((e.key === "Enter" || e.key === " ") && e.target.id && e.target.id.startsWith("y-")) {
        e.preventDefault(); stop(); show(Number(e.target.id.slice(2)));
      }
    });
    root.querySelectorAll(".window-grids [aria-label^='input channel']").forEach((grid) => {
      grid.addEventListener("mouseover", (e) => {
        const m = /^x\d+-(\d+)$/.exec(e.target.id || "");
        linked = clear(linked, "linked");
        if (!m) return;
        for (let i = 0; i < total; i++) {
          const o = unravel(i, d.out);
          const hit = windowOf(o).find(({ cell }) => cell === Number(m[1]));
          if (hit) {
            const y = $(`y-${i}`);
            if (y) { y.classList.add("linked"); linked.push(y); }
          }
        }
        e.target.classList.add("linked"); linked.push(e.target);
      });
      grid.addEventListener("mouseleave", () => { linked = clear(linked, "linked"); });
    });
    show(step);
    autoplay();
  }

  htmx.onLoad((elt) => {
    const root = elt.id === "live" ? elt : elt.querySelector && elt.querySelector("#live.explore");
    if (root) setup(root);
  });
})();
