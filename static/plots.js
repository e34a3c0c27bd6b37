// Draw every plot whose figure JSON rides in its data-plot attribute, on the first load and after
// each htmx swap. Plotly loads deferred: if it is not
// there yet, the figures wait for it.
(function () {
  function draw(root) {
    const plots = root.matches && root.matches("[data-plot]") ? [root] : root.querySelectorAll ? root.querySelectorAll("[data-plot]") : [];
    plots.forEach((el) => {
      if (!window.Plotly) return;
      const fig = JSON.parse(el.dataset.plot);
      window.Plotly.react(el, fig.data, fig.layout, { displayModeBar: false, responsive: true });
      el.setAttribute("data-rendered", "");
    });
  }
  htmx.onLoad(draw);
  window.addEventListener("load", () => draw(document));
})();
