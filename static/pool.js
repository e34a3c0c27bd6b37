// /pool: the pooling window played in the browser from #pool-data, which the server wrote with the
// functions that render ?step=n (app/routes/pool.py: played_steps): per step, by name, every text already
// written (label, title, why, each channel's heads/values/afters) and at the numbers level the drawn cells the
// window lights (cells) and each channel's maximum (winners). Here: look up, toggle, set text. A layer too
// large to write out every step comes in blocks (first .. first + steps.length − 1): a step outside the
// block is asked of the server (the fragment for ?step=n); at picture level (static/picture.js) pointing at
// an output shows its lens (from the block, or GET /pool/lens).
(function () {
  "use strict";
  const { player, setParam, strong } = window.Convscope;

  function setup(root) {
    const source = root.querySelector("#pool-data");
    if (!source) return;
    const d = JSON.parse(source.dataset.pool);
    const T = d.texts, total = d.total;
    const $ = (id) => root.querySelector("#" + CSS.escape(id));
    let lit = [], linked = [];
    let step = d.step;
    const entry = (s) => d.steps[s - d.first];
    const inBlock = (s) => s >= d.first && s < d.first + d.steps.length;

    function clear(els, ...cls) { els.forEach((el) => el.classList.remove(...cls)); return []; }
    function markWindow(s, cls) { // step s's window, in every channel's input grid (numbers level)
      const els = [];
      (entry(s).cells || []).forEach((cell) => {
        for (let c = 0; c < d.channels; c++) {
          const el = $(`x${c}-${cell}`);
          if (el) { el.classList.add(cls); els.push(el); }
        }
      });
      return els;
    }

    // step s's window, output and arithmetic from this block's data (the player's step, or one pointed at)
    function paint(s) {
      const st = entry(s);
      lit = clear(lit, "lit", "win");
      lit = markWindow(s, "lit");
      if (pic) pic.show({ boxes: d.picture.boxes[s - d.first], marker: d.picture.markers[s - d.first],
        pending: d.picture.pending[s - d.first] });
      for (let c = 0; st.cells && c < d.channels; c++) {
        for (let i = 0; i < total; i++) {
          const el = $(`y${c}-${i}`);
          if (!el) continue;
          el.classList.toggle("current", i === s);
          el.classList.toggle("pending", i > s);
        }
      }
      const ol = root.querySelector("#arith-lines");
      ol.replaceChildren();
      st.heads.forEach((head, c) => {
        const li = document.createElement("li");
        li.append(T[head], strong(T[st.values[c]]), T[st.afters[c]]);
        ol.append(li);
        const el = st.winners && st.winners[c] >= 0 && $(`x${c}-${st.winners[c]}`);
        if (el) { el.classList.add("win"); lit.push(el); }
      });
      root.querySelector("#arith-why").textContent = T[st.why];
      root.querySelector("#arith-title").textContent = T[st.title];
    }

    let asked = false; // the fragment of a step outside this block is on its way
    function show(s) {
      if (asked) return; // a playing player waits for it: the new fragment's player goes on from `step`
      const next = ((s % total) + total) % total;
      step = next;
      if (!inBlock(next)) { // the server writes that step's block: swap in its fragment, as the form does
        asked = true;
        const url = new URL(window.location.href);
        url.searchParams.set("step", next);
        htmx.ajax("GET", url.pathname + url.search, { target: root, swap: "outerHTML" }).finally(() => { asked = false; });
        return;
      }
      paint(step);
      root.querySelector("#scrub").value = step;
      root.querySelector("#step-label").textContent = T[entry(step).label];
      setParam("step", step); // a link to this very step
    }

    const { stop, autoplay } = player(root, show, () => step);

    // picture level: pointing at an output shows its lens (from the block, or the server's fragment:
    // static/picture.js); a click or an arrow key goes to that step
    const pic = window.Convscope.pictureStage && window.Convscope.pictureStage(root, {
      total, current: () => step,
      preview(s) {
        const s2 = s === null ? step : s;
        if (inBlock(s2)) paint(s2); else pic.fromServer(s2);
      },
      pin(s) { stop(); show(s); },
    });

    // numbers level: hover an output: its window is outlined in every channel; click it to go to its step
    const outputIndex = (el) => { const m = /^y\d+-(\d+)$/.exec((el && el.id) || ""); return m ? Number(m[1]) : null; };
    root.querySelectorAll(".pool-grids [aria-label^='output channel']").forEach((g) => {
      g.addEventListener("mouseover", (e) => {
        linked = clear(linked, "linked");
        const i = outputIndex(e.target);
        if (i === null || !inBlock(i)) return;
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
