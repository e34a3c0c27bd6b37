// The stage (templates with data-stage): keep the window in view inside rows that scroll, and the
// presentation mode (a Present button or ?present=1): the stage fills the screen (Fullscreen API
// where allowed), space plays or pauses, the arrows step, Esc leaves; the knob strip stays reachable.
(function () {
  "use strict";
  const body = document.body;
  const presenting = () => body.classList.contains("presenting");

  function markButtons() {
    document.querySelectorAll("[data-present]").forEach((b) => {
      b.setAttribute("aria-pressed", String(presenting()));
      b.textContent = presenting() ? "Leave presentation" : "Present";
    });
  }
  function markUrl() { // the address says present=1 while presenting (a reload or a shared link presents too)
    const url = new URL(window.location.href);
    if (presenting()) url.searchParams.set("present", "1"); else url.searchParams.delete("present");
    history.replaceState(history.state, "", url);
  }
  function setPresenting(on) {
    body.classList.toggle("presenting", on);
    markUrl();
    if (on && document.fullscreenEnabled && !document.fullscreenElement) {
      document.documentElement.requestFullscreen().catch(() => {}); // refused without a gesture: CSS alone
    } else if (!on && document.fullscreenElement) {
      document.exitFullscreen().catch(() => {});
    }
    markButtons();
    tellFrames();
    if (!queued) { queued = true; requestAnimationFrame(follow); } // a link to a step far along a row
  }
  // a lesson's embedded view presents with its page: the page tells it (the frame is sandboxed: a message)
  function tellFrames() {
    document.querySelectorAll("iframe.lesson-view").forEach((frame) => frame.contentWindow &&
      frame.contentWindow.postMessage({ type: "convscope:present", on: presenting() }, "*"));
  }
  document.querySelectorAll("iframe.lesson-view").forEach((frame) => frame.addEventListener("load", () => { if (presenting()) tellFrames(); }));
  window.addEventListener("message", (e) => {
    if (e.source !== window.parent || window.parent === window || !e.data || e.data.type !== "convscope:present") return;
    body.classList.toggle("presenting", e.data.on === true);
    markButtons();
  });
  document.addEventListener("click", (e) => {
    const button = e.target.closest && e.target.closest("[data-present]");
    if (button) setPresenting(!presenting());
  });
  // a knob's answer replaces the address with the view's canonical URL, which knows nothing of presenting
  document.body.addEventListener("htmx:replacedInHistory", () => { if (presenting()) markUrl(); });
  document.addEventListener("fullscreenchange", () => { if (!document.fullscreenElement && presenting()) setPresenting(false); });
  document.addEventListener("keydown", (e) => {
    if (!presenting() || e.altKey || e.ctrlKey || e.metaKey) return;
    const typing = e.target.closest && e.target.closest("input, select, textarea, [contenteditable]");
    const click = (id) => { const el = document.getElementById(id); if (el) { e.preventDefault(); el.click(); } };
    if (e.key === "Escape") { setPresenting(false); return; }
    if (typing) return; // a focused knob keeps its own keys
    if (e.key === " ") click("play");
    else if (e.key === "ArrowRight") click("step-forward");
    else if (e.key === "ArrowLeft") click("step-back");
  });

  // follow the window: where a lit or current cell is outside its scrolling row, the row brings its first such
  // cell (the window's start: a 3D window's first depth slice) to a third of its width
  let queued = false;
  function follow() {
    queued = false;
    const rows = new Map(); // scrolling row -> [its first lit cell's box, whether any of its lit cells is out of view]
    document.querySelectorAll("[data-stage] .lit, [data-stage] .current").forEach((cell) => {
      let box = cell.parentElement;
      while (box && !box.hasAttribute("data-stage")) {
        if (box.scrollWidth > box.clientWidth + 1 && getComputedStyle(box).overflowX !== "visible") break;
        box = box.parentElement;
      }
      if (!box || box.hasAttribute("data-stage")) return;
      const c = cell.getBoundingClientRect(), b = box.getBoundingClientRect(), row = rows.get(box) || [c, false];
      row[1] = row[1] || c.left < b.left || c.right > b.right;
      rows.set(box, row);
    });
    rows.forEach(([c, out], box) => {
      if (out) box.scrollLeft += c.left - box.getBoundingClientRect().left - box.clientWidth / 3;
    });
  }
  const watch = new MutationObserver(() => { if (!queued) { queued = true; requestAnimationFrame(follow); } });
  function setup(root) {
    (root.matches && root.matches("[data-stage]") ? [root] : root.querySelectorAll("[data-stage]")).forEach((stage) =>
      watch.observe(stage, { subtree: true, attributes: true, attributeFilter: ["class"] }));
    markButtons();
    if (!queued) { queued = true; requestAnimationFrame(follow); } // a link to a step far along a row
  }
  if (new URL(window.location.href).searchParams.get("present") === "1") body.classList.add("presenting");
  if (window.htmx) htmx.onLoad(setup); else setup(document);
})();
