// /pointwise: the 1×1 convolution played position by position in the browser, from #pointwise-data,
// which the server wrote with the functions that render ?step=n (app/routes/pointwise.py: played_steps):
// per position the cells lit and every text already written. Here: look up, toggle, set text.
(function () {
  "use strict";
  const { strong, setParam, player } = window.Convscope;

  function setup(root) {
    const source = root.querySelector("#pointwise-data");
    if (!source) return;
    const d = JSON.parse(source.dataset.pointwise);
    const T = d.texts, L = d.steps.length;
    const $ = (id) => root.querySelector("#" + id);
    let t = d.step, lit = [];

    // the framework links sit outside the swapped part: point them at the state shown now
    const links = JSON.parse(root.dataset.links || "{}");
    document.querySelectorAll("#framework-links a[data-framework]").forEach((a) => {
      if (links[a.dataset.framework]) a.search = "?" + links[a.dataset.framework]; // the path (prefix, /embed) stays
    });

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
