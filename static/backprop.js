// /backprop: after the server swaps in a new step or cell, keep the lit cell of each scrolling grid in view.
// At picture level (static/picture.js) a click on the output picture sends a gradient of 1 from the output
// cell under the pointer: the browser turns the pointer's position into that cell's index and asks the server
// for the page; it formats no number and does no gradient arithmetic. A knob change keeps pasted numbers.
(() => {
  const reveal = () => {
    for (const box of document.querySelectorAll(".backprop .window-grids > div")) {
      const cell = box.querySelector("td.lit, td.dep");
      if (!cell || box.scrollWidth <= box.clientWidth) continue;
      const b = box.getBoundingClientRect(), c = cell.getBoundingClientRect();
      box.scrollLeft += c.left - b.left - (b.width - c.width) / 2;
    }
  };
  const wire = () => {
    const root = document.getElementById("live"), picker = document.getElementById("cell-picker");
    if (!root || !picker || root.dataset.wired || !(window.Convscope && window.Convscope.pictureStage)) return;
    root.dataset.wired = "1";
    const url = new URL(picker.dataset.cellUrl, location.href);
    const total = picker.dataset.cellCount.split("*").reduce((a, b) => a * Number(b), 1);
    let first = Number(picker.dataset.cellFirst);
    const current = Number(url.searchParams.get("cell")) - first;
    // pooling: a channel's thumbnail shows that channel's output too; a click there picks a cell of that channel
    if (picker.dataset.pooling) {
      root.querySelectorAll("[data-part=input] .thumb").forEach((thumb) => thumb.addEventListener("click", () => {
        first = Number(thumb.dataset.channel) * total;
      }));
    }
    const go = (s) => {
      url.searchParams.set("cell", String(first + s));
      if (window.htmx) htmx.ajax("GET", url.pathname + url.search, { target: "#live", swap: "outerHTML" });
      else location.href = url.href;
    };
    window.Convscope.pictureStage(root, { total, current: () => current, preview: () => {}, pin: go });
  };
  // a knob change keeps the pasted numbers (and what they are): the knob form's request carries them
  document.addEventListener("htmx:configRequest", (e) => {
    const elt = e.detail.elt;
    if (!elt || !elt.closest || !elt.closest("#backprop-form")) return;
    const paste = document.getElementById("paste"), as = document.getElementById("paste_as");
    if (!paste || !as || !paste.value.trim()) return;
    e.detail.parameters.paste = paste.value;
    e.detail.parameters.paste_as = as.value;
  });
  window.addEventListener("DOMContentLoaded", () => { reveal(); wire(); });
  document.addEventListener("htmx:afterSettle", () => { reveal(); wire(); });
})();
