// Inside an embedded view: tell the host page our height (it resizes the iframe, see embed-host.js).
// The iframe is sandboxed with an opaque origin, so the message goes to "*"; it carries only a number.
(function () {
  if (window.parent === window) return;
  let last = 0;
  function report() {
    const height = Math.ceil(document.documentElement.scrollHeight);
    if (height !== last) {
      last = height;
      window.parent.postMessage({ type: "convscope:resize", height }, "*");
    }
  }
  new ResizeObserver(report).observe(document.documentElement);
  document.addEventListener("htmx:afterSettle", report);
  report();
})();
