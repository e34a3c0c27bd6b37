// /pointwise: the 1×1 convolution played position by position in the browser, from the numbers in
// #pointwise-data (no request per frame). The server renders ?step=n the same way.
(function () {
  "use strict";
  const { fmt, term, strong, setParam, player } = window.Convscope;

  function setup(root) {
    const source = root.querySelector("#pointwise-data");
    if (!source) return;
    const d = JSON.parse(source.dataset.pointwise);
    const L = d.positions, shown = Math.min(d.detail, d.cin);
    const $ = (id) => root.querySelector("#" + id);
    let t = d.step, lit = [];

    // the framework links sit outside the swapped part: point them at the state shown now
    const links = JSON.parse(root.dataset.links || "{}");
    document.querySelectorAll("#framework-links a[data-framework]").forEach((a) => {
      if (links[a.dataset.framework]) a.href = "/pointwise?" + links[a.dataset.framework];
    });

    function light(s) { // the input column read and the output column written
      lit.forEach((el) => el.classList.remove("lit"));
      lit = [$(`x-table-col-${s}`), $(`y-table-col-${s}`)];
      root.querySelectorAll("#x-table tbody tr").forEach((_, c) => lit.push($(`x-${c * L + s}`)));
      root.querySelectorAll("#y-table tbody tr").forEach((_, o) => lit.push($(`y-${o * L + s}`)));
      lit = lit.filter(Boolean);
      lit.forEach((el) => el.classList.add("lit"));
    }
    function lines(s) { // each detailed output channel written out, as the server writes it
      const list = $("arith-lines");
      list.replaceChildren();
      for (let o = 0; o < Math.min(d.detail, d.cout); o++) {
        const terms = [];
        let partial = 0;
        for (let c = 0; c < shown; c++) {
          const w = d.w[o * d.cin + c], x = d.x[c * L + s];
          terms.push(term(w, x));
          partial += w * x;
        }
        const pre = d.pre[o * L + s], b = d.b[o];
        let text = `y[${o}, ${s}] = ${terms.join(" + ")}`;
        if (d.cin > d.detail) {
          text += ` + (${d.cin - d.detail} more products, channels ${d.detail}–${d.cin - 1}: ${fmt(pre - b - partial)})`;
        }
        if (d.bias) text += ` + bias (${fmt(b)})`;
        const li = document.createElement("li");
        li.append(text + " = ", strong(fmt(pre)));
        if (d.activation !== "linear") li.append(` → ${d.activation}(${fmt(pre)}) = `, strong(fmt(d.y[o * L + s])));
        list.append(li);
      }
    }
    function sideBySide(s) {
      for (let o = 0; o < d.rows; o++) {
        $(`conv-${o}`).textContent = fmt(d.y[o * L + s]);
        $(`dense-${o}`).textContent = fmt(d.dense[o * L + s]);
      }
    }

    function show(s) {
      t = ((s % L) + L) % L;
      light(t);
      outline(root, t);
      lines(t);
      sideBySide(t);
      root.querySelectorAll(".pw-t").forEach((el) => { el.textContent = t; });
      $("scrub").value = t;
      $("step-label").textContent = `t = ${t} of 0–${L - 1}`;
      setParam("step", t); // the address names the position shown
    }
    const { stop, autoplay } = player(root, show, () => t);
    // a click on any input or output cell (or its column header) moves to that position
    ["x-table", "y-table"].forEach((id) => $(id).addEventListener("click", (e) => {
      const cell = e.target.closest("td[id], th[id]");
      if (!cell) return;
      const m = /-col-(\d+)$/.exec(cell.id) || /^[xy]-(\d+)$/.exec(cell.id);
      if (m) { stop(); show(cell.tagName === "TH" ? Number(m[1]) : Number(m[1]) % L); }
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
