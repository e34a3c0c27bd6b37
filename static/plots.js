// Draw every plot whose figure JSON rides in its data-plot attribute, or sits at its data-plot-src URL (a view's
// cacheable /<view>/figure, fetched with plotly, so a knob move's fragment carries no figure). Plotly (~500 KB)
// is not part of the page: it is fetched (from <meta name="convscope-plotly"> in base.html) only when a figure comes
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

  // Text labels of single markers (the roofline's ops) are placed once the axes are known, in pixels:
  // each takes the first position, from its own choice on, where it neither covers another label or
  // marker nor leaves the figure. (depthwise, separable and pointwise crowd the rising roof.)
  const POSITIONS = ["top center", "middle left", "middle right", "bottom right", "top left", "bottom left",
                     "top right", "bottom center"];
  const overlap = (a, b) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
  function placeLabels(el, data) {
    const full = el._fullLayout;
    if (!full || !full.xaxis || !full.yaxis) return false;
    const xa = full.xaxis, ya = full.yaxis, size = (full.font && full.font.size) || 12;
    const points = data.filter((t) => t.type === "scatter" && /text/.test(t.mode || "") && t.x && t.x.length === 1 && t.text)
      .map((t) => ({ t, x: xa._offset + xa.d2p(t.x[0]), y: ya._offset + ya.d2p(t.y[0]),
                     w: String(t.text[0]).length * size * 0.62, h: size * 1.25, r: ((t.marker && t.marker.size) || 8) / 2 }));
    if (points.length < 2 || points.some((p) => !isFinite(p.x) || !isFinite(p.y))) return false;
    const box = (p, position) => {
      const [v, h] = position.split(" "), gap = p.r + 2;
      return { x: h === "left" ? p.x - gap - p.w : h === "right" ? p.x + gap : p.x - p.w / 2,
               y: v === "top" ? p.y - gap - p.h : v === "bottom" ? p.y + gap : p.y - p.h / 2, w: p.w, h: p.h };
    };
    const taken = points.map((p) => ({ x: p.x - p.r, y: p.y - p.r, w: 2 * p.r, h: 2 * p.r }));
    let moved = false;
    points.forEach((p) => {
      const own = p.t.textposition || "top center";
      const fits = (position) => {
        const b = box(p, position);
        return b.x >= 0 && b.y >= 0 && b.x + b.w <= full.width && b.y + b.h <= full.height && !taken.some((o) => overlap(o, b));
      };
      const position = [own, ...POSITIONS.filter((o) => o !== own)].find(fits) || own;
      if (position !== own) { p.t.textposition = position; moved = true; }
      taken.push(box(p, position));
    });
    return moved;
  }

  // the figure's JSON text: its attribute's, or its URL's answer (fetched once per element)
  function figureText(el) {
    if (el.dataset.plot) return Promise.resolve(el.dataset.plot);
    if (!el._figure) el._figure = fetch(el.dataset.plotSrc).then((r) => (r.ok ? r.text() : Promise.reject(new Error(r.statusText))))
      .catch((e) => { el._figure = null; throw e; }); // a failed fetch is asked again on the next draw
    return el._figure;
  }

  function draw(el) {
    if (!window.Plotly || !el.isConnected) return;
    figureText(el).then((text) => { if (el.isConnected) drawFigure(el, JSON.parse(text)); }, () => {});
  }

  function drawFigure(el, fig) {
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
    const config = { displayModeBar: false, responsive: true };
    window.Plotly.react(el, fig.data, layout, config)
      .then(() => (placeLabels(el, fig.data) ? window.Plotly.react(el, fig.data, layout, config) : null))
      .then(() => {
        // wider than its column even at half size: it scrolls in its box, which the keyboard must reach
        if (el.scrollWidth > el.clientWidth + 1 && !el.hasAttribute("tabindex")) el.setAttribute("tabindex", "0");
        el.setAttribute("data-rendered", "");
      });
  }

  const PLOTS = "[data-plot], [data-plot-src]";
  // 300 px: plotly (about 500 KB) starts loading a little before its figure is scrolled to, never with the stage
  const near = "IntersectionObserver" in window ? new IntersectionObserver((entries) => {
    entries.forEach((entry) => {
      if (!entry.isIntersecting) return;
      near.unobserve(entry.target);
      figureText(entry.target).catch(() => {}); // its figure's data is fetched while plotly loads
      loadPlotly().then(() => draw(entry.target), () => {});
    });
  }, { rootMargin: "300px 0px" }) : null;

  function watch(root) {
    const plots = root.matches && root.matches(PLOTS) ? [root] : root.querySelectorAll ? root.querySelectorAll(PLOTS) : [];
    plots.forEach((el) => {
      if (near) near.observe(el);
      else loadPlotly().then(() => draw(el), () => {});
    });
  }
  // after a swap has painted: the numbers show first, the figures a frame later
  htmx.onLoad((elt) => setTimeout(() => watch(elt), 0));
  document.addEventListener("convscope:theme", () => document.querySelectorAll(".plot[data-rendered]").forEach(draw));
  let resized = null, width = window.innerWidth;
  window.addEventListener("resize", () => {
    if (window.innerWidth === width) return; // a phone's toolbar hiding changes only the height
    width = window.innerWidth;
    clearTimeout(resized);
    resized = setTimeout(() => document.querySelectorAll(".plot[data-rendered]").forEach(draw), 250);
  });
})();
