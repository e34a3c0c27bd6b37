// /pointwise: the 1×1 convolution played position by position in the browser, from #pointwise-data,
// which the server wrote with the functions that render ?step=n (app/routes/pointwise.py: played_steps):
// per position the cells lit and every text already written. Here: look up, toggle, set text.
// At picture level (a layer too large to print) the lens writes out one (position, filter) from a block of
// positions the fragment carries; a position outside it is the server's fragment, a filter or position
// pointed at is the server's lens (app/routes/stage.py), as /explore does.
(function () {
  "use strict";
  const { strong, setParam, player } = window.Convscope;

  function setup(root) {
    const source = root.querySelector("#pointwise-data");
    if (!source) return;
    const d = JSON.parse(source.dataset.pointwise);
    pointFrameworkLinks(root);
    // the knobs sit outside the swapped part: the positions slider's end grows with it, the lens's filter < filters
    Object.entries(JSON.parse(source.dataset.limits || "{}")).forEach(([id, bounds]) => {
      const input = document.getElementById(id);
      if (input) Object.entries(bounds).forEach(([k, v]) => input.setAttribute(k, v));
    });
    if (d.level === "picture") { setupPicture(root, d); return; }
    const T = d.texts, L = d.steps.length;
    const $ = (id) => root.querySelector("#" + id);
    let t = d.step, lit = [];

    function show(s) {
      t = ((s % L) + L) % L;
      const [label, xs, ys, lines, side] = d.steps[t];
      lit.forEach((el) => el.classList.remove("lit")); // the input column read and the output column written
      lit = [$(`x-table-col-${t}`), $(`y-table-col-${t}`), ...xs.map((i) => $(`x-${i}`)), ...ys.map((i) => $(`y-${i}`))]
        .filter(Boolean);
      lit.forEach((el) => el.classList.add("lit"));
      outline(root, t);
      const list = $("arith-lines"); // each detailed output channel written out, as the server writes it
      list.replaceChildren();
      for (let i = 0; i < lines.length; i += 4) {
        const li = document.createElement("li");
        li.append(T[lines[i]], strong(T[lines[i + 1]]));
        if (T[lines[i + 2]]) li.append(T[lines[i + 2]], strong(T[lines[i + 3]]));
        list.append(li);
      }
      for (let o = 0; o < side.length / 2; o++) {
        $(`conv-${o}`).textContent = T[side[2 * o]];
        $(`dense-${o}`).textContent = T[side[2 * o + 1]];
      }
      root.querySelectorAll(".pw-t").forEach((el) => { el.textContent = t; });
      $("scrub").value = t;
      $("step-label").textContent = T[label];
      setParam("step", t); // the address names the position shown
    }
    const { stop, autoplay } = player(root, show, () => t);
    // a click on any input or output cell (or its column header) moves to that position
    const column = new Map(); // cell id -> the position it belongs to, from the lit columns
    d.steps.forEach(([, xs, ys], s) => {
      xs.forEach((i) => column.set(`x-${i}`, s));
      ys.forEach((i) => column.set(`y-${i}`, s));
      column.set(`x-table-col-${s}`, s).set(`y-table-col-${s}`, s);
    });
    ["x-table", "y-table"].forEach((id) => $(id).addEventListener("click", (e) => {
      const cell = e.target.closest("td[id], th[id]");
      if (cell && column.has(cell.id)) { stop(); show(column.get(cell.id)); }
    }));
    show(t);
    autoplay();
  }

  function pointFrameworkLinks(root) { // they sit outside the swapped part: point them at the state shown now
    const links = JSON.parse(root.dataset.links || "{}");
    document.querySelectorAll("#framework-links a[data-framework]").forEach((a) => {
      if (links[a.dataset.framework]) a.search = "?" + links[a.dataset.framework]; // the path (prefix, /embed) stays
    });
  }

  function setupPicture(root, d) {
    const T = d.texts, L = d.positions, F = d.filters;
    const f = d.f;
    let t = d.step, asked = false;
    const inBlock = (s) => s >= d.first && s < d.first + d.steps.length;
    const at = (s, filter) => { // this page's URL at position s (and filter)
      const url = new URL(window.location.href);
      url.searchParams.set("step", s);
      if (filter !== undefined) url.searchParams.set("f", filter);
      return url;
    };

    function lens(entry) { // the block's texts, written as the server writes the lens
      root.querySelector("#arith-title").textContent = T[entry.title];
      root.querySelector("#lens-products").textContent = T[entry.products]; // a line per channel: one text node
      const total = root.querySelector("#lens-total");
      total.replaceChildren(...entry.total.map((i, k) => (k % 2 ? strong(T[i]) : T[i])));
    }
    function boxes(i) { return { boxes: d.picture.boxes[i], marker: d.picture.markers[i], pending: d.picture.pending[i] }; }
    function row(box) { // the lens's filter's row of W, where the server placed it
      const span = root.querySelector("#w-boxes span");
      if (span) Object.assign(span.style, { top: box[0] + "%", left: box[1] + "%", height: box[2] + "%", width: box[3] + "%" });
    }
    function paint(s) { lens(d.steps[s - d.first]); pic.show(boxes(s - d.first)); row(d.picture.row); }
    function fetchStep(s, filter) { // the server writes that block: swap in its fragment, as the form does
      const url = at(s, filter);
      const focused = document.activeElement && document.activeElement.id === "output-frame"; // arrow keys: stay on it
      htmx.ajax("GET", url.pathname + url.search, { target: root, swap: "outerHTML" }).finally(() => {
        asked = false;
        const frame = document.getElementById("output-frame");
        if (focused && frame) frame.focus();
      });
    }
    function fromServer(filter, s) { // the lens of a (filter, position) this block does not hold (picture.js)
      pic.fromServer(filter * L + s, { step: s, f: filter }).then((now) => { if (now) row(now.row); });
    }
    function show(s) {
      if (asked) return; // a playing player waits for the next block: its fragment's player goes on
      const next = ((s % L) + L) % L;
      t = next;
      if (!inBlock(next)) { asked = true; fetchStep(next); return; }
      paint(t);
      root.querySelector("#scrub").value = t;
      root.querySelector("#step-label").textContent = T[d.steps[t - d.first].label];
      setParam("step", t);
    }
    const pic = window.Convscope.pictureStage(root, {
      total: F * L, current: () => f * L + t,
      preview(s) { // pointing: that output's lens, the player stays where it is
        if (s === null) { if (inBlock(t)) paint(t); else fromServer(f, t); return; }
        const [pf, ps] = window.Convscope.cellOf(s, L);
        if (pf === f && inBlock(ps)) paint(ps); else fromServer(pf, ps);
      },
      pin(s) { // a click or an arrow key: go there (another filter: the server's fragment for it)
        stop();
        const [pf, ps] = window.Convscope.cellOf(s, L);
        if (pf === f) { show(ps); return; }
        const field = document.getElementById("f");
        if (field) field.value = pf;
        asked = true;
        fetchStep(ps, pf);
      },
    });
    const { stop, autoplay } = player(root, show, () => t);
    autoplay();
  }

  function outline(root, s) { // the column t outlined in the input and output heatmaps, once plotly drew them
    root.querySelectorAll(".plot[data-column][data-rendered]").forEach((el) => {
      if (window.Plotly) window.Plotly.relayout(el, { "shapes[0].x0": s - 0.5, "shapes[0].x1": s + 0.5 });
    });
  }

  htmx.onLoad((elt) => {
    const root = elt.id === "live" ? elt : elt.querySelector && elt.querySelector("#live.pointwise");
    if (root) setup(root);
  });
  // plots.js draws the figures again on window load, from the server's position: outline the current one
  window.addEventListener("load", () => {
    const root = document.querySelector("#live.pointwise");
    const scrub = root && root.querySelector("#scrub");
    if (scrub) outline(root, Number(scrub.value));
  });
})();
