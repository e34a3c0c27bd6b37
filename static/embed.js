// Inside an embedded view: tell the host page our content's height, whenever it grows or shrinks (it
// resizes the iframe, see embed-host.js). The height is the root element's box, not its scrollHeight:
// scrollHeight is never less than the frame's own height, so a frame could grow but never shrink.
// The iframe is sandboxed with an opaque origin, so the message goes to "*"; it carries only a number.
(function () {
  if (window.parent === window) return;
  let last = 0;
  function report() {
    const height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (height !== last) {
      last = height;
      window.parent.postMessage({ type: "convscope:resize", height }, "*");
    }
  }
  new ResizeObserver(report).observe(document.documentElement);
  document.addEventListener("htmx:afterSettle", report);
  document.addEventListener("toggle", report, true); // a <details> opened or closed
  // the host's script (async) may start listening after our first report: when it says hello, report again
  window.addEventListener("message", (event) => {
    if (event.source !== window.parent || !event.data || event.data.type !== "convscope:hello") return;
    last = 0;
    report();
  });
  report();
})();

// The page that embeds us may pass on its reader's theme (the site's lessons do: app.js).
window.addEventListener("message", (event) => {
  const data = event.data;
  if (event.source !== window.parent || !data || data.type !== "convscope:theme") return;
  if (!["auto", "light", "dark"].includes(data.theme)) return;
  document.documentElement.dataset.theme = data.theme;
  document.dispatchEvent(new CustomEvent("convscope:theme")); // plots.js redraws in the new ink
});
