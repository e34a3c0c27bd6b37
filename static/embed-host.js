// Convscope embed host script: include it once on a page with Convscope iframes (a notebook's inline
// view inlines it). Each iframe reports its content height, growing or shrinking; this sets it, so
// the frame fits its content both ways. Messages are accepted only from the window of one of our
// iframes on this page (their origin is opaque in the sandbox, so the source is what we check), and
// the height is clamped to 120–4000 px. A frame marked data-convscope-fixed keeps its own height.
// This script loads async: a frame that reported before it listened is asked again ("convscope:hello").
(function () {
  if (window.convscopeHost) return; // included twice (two notebook outputs): one listener is enough
  window.convscopeHost = true;
  window.addEventListener("message", function (event) {
    const data = event.data;
    if (!data || data.type !== "convscope:resize" || typeof data.height !== "number") return;
    const frames = document.querySelectorAll("iframe[src*='/embed/']");
    for (const frame of frames) {
      if (frame.contentWindow === event.source && !frame.hasAttribute("data-convscope-fixed")) {
        frame.style.height = Math.min(4000, Math.max(120, Math.round(data.height))) + "px";
        frame.dataset.convscopeSized = "1";
      }
    }
  });
  document.querySelectorAll("iframe[src*='/embed/']").forEach(function (frame) {
    if (frame.contentWindow) frame.contentWindow.postMessage({ type: "convscope:hello" }, "*");
  });
})();
