// /im2col: keep each matrix's lit column (or row, or cell) in view inside its own scrolling box, on
// load and after htmx swaps the live part. Positions only: the server draws and lights every cell.
(() => {
  const reveal = () => {
    for (const box of document.querySelectorAll(".im2col .matrix-wrap")) {
      const cell = box.querySelector("th.lit:not([scope=row]), td.lit");
      if (!cell) continue;
      const b = box.getBoundingClientRect(), c = cell.getBoundingClientRect();
      box.scrollLeft += c.left - b.left - (b.width - c.width) / 2;
    }
    for (const box of document.querySelectorAll(".im2col .matrix-wrap")) {
      const row = box.querySelector("tr.lit-row");
      if (!row) continue;
      const b = box.getBoundingClientRect(), r = row.getBoundingClientRect();
      box.scrollTop += r.top - b.top - (b.height - r.height) / 2;
    }
  };
  window.addEventListener("DOMContentLoaded", reveal);
  document.addEventListener("htmx:afterSettle", reveal);
})();
