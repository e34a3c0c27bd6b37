// Draw every plot whose figure JSON rides in its data-plot attribute, on the first load and after
// each htmx swap. Plotly loads deferred: if it is not
// there yet, the figures wait for it.
(function () {
  function draw(root) {
    const plots = root.matches && root.matches("[data-plot]") ? [root] : root.querySelectorAll ? root.querySelectorAll("[data-plot]") : [];
    plots.forEach((el) => {
      if (!window.Plotly) return;
      const fig = JSON.parse(el.dataset.plot);
      // text in the page's own colour, so dark themes read too
      fig.layout.font = Object.assign({}, fig.layout.font, { color: getComputedStyle(document.body).color });
      window.Plotly.react(el, fig.data, fig.layout, { displayModeBar: false, responsive: true });
      el.setAttribute("data-rendered", "");
    });
  }
  // after the swap has painted: the numbers show first, the figures a frame later
  htmx.onLoad((elt) => setTimeout(() => draw(elt), 0));
  // plotly loads async (it must not hold up the first render): draw what waited once it is here
  const plotly = document.querySelector("script[data-plotly]");
  if (plotly) plotly.addEventListener("load", () => draw(document));
  window.addEventListener("load", () => draw(document));
})();
