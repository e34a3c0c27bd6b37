// Convscope embed host script: include it once on a page with Convscope iframes. Each iframe
// reports its content height; this sets it. Messages are accepted only from the window of one of
// our iframes on this page (their origin is opaque in the sandbox, so the source is what we check),
// and the height is clamped to 120–4000 px.
(function () {
  window.addEventListener("message", function (event) {
    const data = event.data;
    if (!data || data.type !== "convscope:resize" || typeof data.height !== "number") return;
    const frames = document.querySelectorAll("iframe[src*='/embed/']");
    for (const frame of frames) {
      if (frame.contentWindow === event.source) {
        frame.style.height = Math.min(4000, Math.max(120, Math.round(data.height))) + "px";
        frame.dataset.convscopeSized = "1";
      }
    }
  });
})();
