// Draw every plot whose figure JSON rides in its data-plot attribute. Plotly (~500 KB) is not part of
// the page: it is fetched (from <meta name="convscope-plotly"> in base.html) only when a figure comes
// within a screen or so of the viewport, so a first view that shows no figure never loads it.
// Figures are fitted to their column, re-inked for the theme, and redrawn after each htmx swap.
(function () {
  "use strict";
  const meta = document.querySelector('meta[name="convscope-plotly"]');
  let loading = null;
  function loadPlotly() {
    if (window.Plotly) return Promise.resolve();
    if (!loading) {
      loading = new Promise((resolve, reject) => {
        const script = document.createElement("script");
        script.src = meta.content;
        script.async = true;
        script.dataset.plotly = "";
        script.addEventListener("load", resolve);
        script.addEventListener("error", () => { loading = null; reject(new Error("plotly did not load")); });
        document.head.append(script);
      });
    }
    return loading;
  }

  const css = (name) => getComputedStyle(document.body).getPropertyValue(name).trim();
  const log = (v) => Math.log10(Math.max(v, 1e-12));

  // A figure built with a fixed pixel size (the heatmap grids of app/figures.py) takes its column's
  // width: up to twice as large, or down to half when the column is narrower; past that it scrolls.
  function fit(el, layout) {
    if (!layout.width || !layout.coloraxis) return;
    const room = el.clientWidth;
    if (!room) return;
    const maxByHeight = Math.max(1, (window.innerHeight * 0.8) / layout.height);
    const scale = Math.max(0.5, Math.min(room / layout.width, 2, maxByHeight));
    layout.width = Math.floor(layout.width * scale);
    layout.height = Math.floor(layout.height * scale);
    const bar = Object.assign({}, layout.coloraxis.colorbar);
    bar.len = Math.min(1, 220 / layout.height);
    // one tick per 40 px of colour bar at most: small embeds' bars no longer pile their labels up
    bar.nticks = Math.max(2, Math.min(6, Math.floor((bar.len * layout.height) / 40)));
    bar.tickfont = Object.assign({}, bar.tickfont, { size: 10 });
    layout.coloraxis = Object.assign({}, layout.coloraxis, { colorbar: bar });
  }

  // Text labels of markers that sit close together (the roofline's pointwise and separable points)
  // go to alternate sides of their points, away from the rising roof line.
  function separateLabels(data, layout) {
    const labelled = data.filter((t) => t.type === "scatter" && /text/.test(t.mode || "") && t.x && t.x.length === 1);
    if (labelled.length < 2) return;
    const lx = layout.xaxis && layout.xaxis.type === "log" ? log : (v) => v;
    const ly = layout.yaxis && layout.yaxis.type === "log" ? log : (v) => v;
    const sorted = labelled.slice().sort((a, b) => lx(a.x[0]) - lx(b.x[0]));
    for (let i = 1; i < sorted.length; i++) {
      const a = sorted[i - 1], b = sorted[i];
      if (Math.abs(lx(a.x[0]) - lx(b.x[0])) < 0.45 && Math.abs(ly(a.y[0]) - ly(b.y[0])) < 0.45) {
        a.textposition = "top left";
        b.textposition = "bottom right";
      }
    }
  }

  function draw(el) {
    if (!window.Plotly || !el.isConnected) return;
    const fig = JSON.parse(el.dataset.plot);
    const layout = fig.layout;
    const ink = css("--fg") || getComputedStyle(document.body).color, line = css("--line") || "#ccc";
    // text, axes and dark lines in the page's own colours, so the dark theme reads too
    layout.font = Object.assign({}, layout.font, { color: ink });
    layout.plot_bgcolor = layout.plot_bgcolor || "rgba(0,0,0,0)";
    Object.keys(layout).filter((k) => /^[xy]axis\d*$/.test(k)).forEach((k) => {
      layout[k] = Object.assign({ gridcolor: line, linecolor: line, zerolinecolor: line }, layout[k]);
    });
    fig.data.forEach((t) => { if (t.line && t.line.color === "#1d2330") t.line = Object.assign({}, t.line, { color: ink }); });
    fit(el, layout);
    separateLabels(fig.data, layout);
    window.Plotly.react(el, fig.data, layout, { displayModeBar: false, responsive: true }).then(() => {
      // wider than its column even at half size: it scrolls in its box, which the keyboard must reach
      if (el.scrollWidth > el.clientWidth + 1 && !el.hasAttribute("tabindex")) el.setAttribute("tabindex", "0");
    });
    el.setAttribute("data-rendered", "");
  }

  const near = "IntersectionObserver" in window ? new IntersectionObserver((entries) => {
    entries.forEach((entry) => {
      if (!entry.isIntersecting) return;
      near.unobserve(entry.target);
      loadPlotly().then(() => draw(entry.target), () => {});
    });
  }, { rootMargin: "800px 0px" }) : null;

  function watch(root) {
    const plots = root.matches && root.matches("[data-plot]") ? [root] : root.querySelectorAll ? root.querySelectorAll("[data-plot]") : [];
    plots.forEach((el) => {
      if (near) near.observe(el);
      else loadPlotly().then(() => draw(el), () => {});
    });
  }
  // after a swap has painted: the numbers show first, the figures a frame later
  htmx.onLoad((elt) => setTimeout(() => watch(elt), 0));
  document.addEventListener("convscope:theme", () => document.querySelectorAll("[data-plot][data-rendered]").forEach(draw));
  let resized = null, width = window.innerWidth;
  window.addEventListener("resize", () => {
    if (window.innerWidth === width) return; // a phone's toolbar hiding changes only the height
    width = window.innerWidth;
    clearTimeout(resized);
    resized = setTimeout(() => document.querySelectorAll("[data-plot][data-rendered]").forEach(draw), 250);
  });
})();
