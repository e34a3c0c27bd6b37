// /pool: the pooling window played in the browser from #pool-data, which the server wrote with the
// functions that render ?step=n (app/routes/pool.py: played_steps): per step the drawn cells the window
// lights, each channel's maximum, and every text already written. Here: look up, toggle, set text.
(function () {
  "use strict";
  const { player, setParam } = window.Convscope;

  function setup(root) {
    const source = root.querySelector("#pool-data");
    if (!source) return;
    const d = JSON.parse(source.dataset.pool);
    const T = d.texts, total = d.steps.length;
    const $ = (id) => root.querySelector("#" + CSS.escape(id));
    let lit = [], linked = [];
    let step = d.step;

    function clear(els, ...cls) { els.forEach((el) => el.classList.remove(...cls)); return []; }
    function markWindow(s, cls) { // step s's window, in every channel's input grid
      const els = [];
      d.steps[s][3].forEach((cell) => {
        for (let c = 0; c < d.channels; c++) {
          const el = $(`x${c}-${cell}`);
          if (el) { el.classList.add(cls); els.push(el); }
        }
      });
      return els;
    }

    function show(s) {
      step = ((s % total) + total) % total;
      const [label, title, why, , winners, lines] = d.steps[step];
      lit = clear(lit, "lit", "win");
      lit = markWindow(step, "lit");
      for (let c = 0; c < d.channels; c++) {
        for (let i = 0; i < total; i++) {
          const el = $(`y${c}-${i}`);
          if (!el) continue;
          el.classList.toggle("current", i === step);
          el.classList.toggle("pending", i > step);
        }
      }
      const ol = root.querySelector("#arith-lines");
      ol.replaceChildren();
      for (let c = 0; c < d.channels; c++) {
        const li = document.createElement("li");
        const strong = document.createElement("strong");
        strong.textContent = T[lines[3 * c + 1]];
        li.append(T[lines[3 * c]], strong, T[lines[3 * c + 2]]);
        ol.append(li);
        const el = winners[c] >= 0 && $(`x${c}-${winners[c]}`);
        if (el) { el.classList.add("win"); lit.push(el); }
      }
      root.querySelector("#arith-why").textContent = T[why];
      root.querySelector("#arith-title").textContent = T[title];
      root.querySelector("#scrub").value = step;
      root.querySelector("#step-label").textContent = T[label];
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
        linked = markWindow(i, "linked");
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
