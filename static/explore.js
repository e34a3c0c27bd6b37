// The explorer's sliding window, played in the browser from #explore-data, which the server wrote with
// the functions that render ?step=n (app/routes/explore.py: played_steps): each step's window as cell
// numbers and every text already written. Here: look up, toggle, set text; no request per frame, except
// that a layer too large to write out every step at once comes in blocks: a step outside this fragment's
// block is asked of the server (the fragment for ?step=n, as the form's requests are).
(function () {
  "use strict";
  const { player, setParam, strong } = window.Convscope;

  function setup(root) {
    const source = root.querySelector("#explore-data");
    if (!source) return;
    const d = JSON.parse(source.dataset.explore);
    // keep the sliders where the layer runs (ezyang's visualizer does the same)
    Object.entries(JSON.parse(source.dataset.limits || "{}")).forEach(([id, bounds]) => {
      const input = document.getElementById(id);
      if (input) Object.entries(bounds).forEach(([k, v]) => input.setAttribute(k, v));
    });
    const T = d.texts, total = d.total;
    const $ = (id) => root.querySelector("#" + CSS.escape(id));
    let lit = [], linked = [];
    let step = d.step;

    // step s's window: drawn cell origins[s] + offsets[t] of every channel's input, and kernel tap t
    function mark(list, cls, s) {
      if (!d.offsets) return list; // picture level: the window is a box (paint)
      const els = [];
      d.offsets.forEach((offset, t) => {
        d.channels.forEach((c) => {
          [$(`x${c}-${d.origins[s] + offset}`), $(`w${c}-${t}`)].forEach((el) => { if (el) { el.classList.add(cls); els.push(el); } });
        });
      });
      return list.concat(els);
    }
    function clear(list, cls) { list.forEach((el) => el.classList.remove(cls)); return []; }

    function fetchStep(s) { // the server writes this step's block: swap in its fragment, as the form does
      const url = new URL(window.location.href);
      url.searchParams.set("step", s);
      htmx.ajax("GET", url.pathname + url.search, { target: root, swap: "outerHTML" }).finally(() => { asked = false; });
    }

    let asked = false; // the fragment of a step outside this block is on its way
    function show(s) {
      if (asked) return; // a playing player waits for it: the new fragment's player goes on from `step`
      const next = ((s % total) + total) % total;
      const entry = d.steps[next - d.first];
      if (next < d.first || !entry) { // playing or not, the swap hands the player over (player.js: resume)
        step = next;
        asked = true;
        fetchStep(next);
        return;
      }
      step = next;
      paint(step);
      root.querySelector("#scrub").value = step;
      root.querySelector("#step-label").textContent = T[entry[0]];
      setParam("step", step); // a link to this very step
    }

    // step s's window, output and arithmetic from this block's data (the player's step, or one pointed at)
    function paint(s) {
      const [, title, lines, sum] = d.steps[s - d.first];
      lit = clear(lit, "lit");
      lit = mark(lit, "lit", s);
      if (pic) pic.show({ boxes: d.picture.boxes[s - d.first], marker: d.picture.markers[s - d.first],
        pending: d.picture.pending[s - d.first] });
      for (let i = 0; d.offsets && i < total; i++) {
        const el = $(`y-${i}`);
        if (!el) continue;
        el.classList.toggle("current", i === s);
        el.classList.toggle("pending", i > s);
      }
      const current = $(`y-${s}`);
      if (current) current.classList.add("lit"), lit.push(current);
      const list = root.querySelector("#arith-lines");
      list.replaceChildren();
      for (let i = 0; i < lines.length; i += 2) {
        const li = document.createElement("li");
        li.append(T[lines[i]], strong(T[lines[i + 1]]));
        list.append(li);
      }
      const totalP = root.querySelector("#arith-total");
      totalP.replaceChildren(T[sum[0]], strong(T[sum[1]]));
      if (T[sum[2]]) totalP.append(T[sum[2]], strong(T[sum[3]]));
      root.querySelector("#arith h3").textContent = T[title];
    }

    const { stop, autoplay } = player(root, show, () => step);

    // picture level: pointing at an output shows its lens (from the block, or the server's fragment for a
    // step outside it: static/picture.js); a click or an arrow key goes to that step
    const inBlock = (s) => s >= d.first && s < d.first + d.steps.length;
    const pic = window.Convscope.pictureStage && window.Convscope.pictureStage(root, {
      total, current: () => step,
      preview(s) {
        const s2 = s === null ? step : s;
        if (inBlock(s2)) paint(s2); else pic.fromServer(s2);
      },
      pin(s) { stop(); show(s); },
    });

    // hover or focus an output cell: its window lights up; hover an input cell: the outputs that read it
    const out = root.querySelector("[aria-label^='output of filter']") || document.createElement("div");
    function onOutput(e) {
      const id = e.target.id && e.target.id.startsWith("y-") ? Number(e.target.id.slice(2)) : null;
      linked = clear(linked, "linked");
      if (id !== null) {
        linked = mark(linked, "linked", id);
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
        const cell = Number(m[1]);
        for (let i = 0; i < total; i++) { // the outputs whose window holds this cell
          if (d.offsets.some((offset) => d.origins[i] + offset === cell)) {
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
