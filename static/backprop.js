// /backprop: after the server swaps in a new step or cell, keep the lit cell of each scrolling grid in view.
// Positions only: the server draws, lights and writes every number.
(() => {
  const reveal = () => {
    for (const box of document.querySelectorAll(".backprop .window-grids > div")) {
      const cell = box.querySelector("td.lit, td.dep");
      if (!cell || box.scrollWidth <= box.clientWidth) continue;
      const b = box.getBoundingClientRect(), c = cell.getBoundingClientRect();
      box.scrollLeft += c.left - b.left - (b.width - c.width) / 2;
    }
  };
  window.addEventListener("DOMContentLoaded", reveal);
  document.addEventListener("htmx:afterSettle", reveal);
})();
