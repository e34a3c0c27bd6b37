// Convscope's own script: small, no framework. htmx does the requests; this keeps the
// visible values of sliders in step with them while the server answer is on its way.
document.addEventListener("input", (event) => {
  const input = event.target;
  if (input instanceof HTMLInputElement && input.type === "range") {
    const out = document.getElementById(input.id + "-value");
    if (out) out.textContent = input.value;
  }
});

// "Copy" buttons copy the text of the element named in data-copy.
document.addEventListener("click", (event) => {
  const button = event.target.closest && event.target.closest("button.copy");
  if (!button) return;
  const source = document.getElementById(button.dataset.copy);
  if (!source || !navigator.clipboard) return;
  navigator.clipboard.writeText(source.value !== undefined ? source.value : source.textContent)
    .then(() => { button.textContent = "Copied"; }, () => { button.textContent = "Select and copy"; });
});

// The header (site pages only): the theme toggle and, on a phone, the Menu button.
(function () {
  "use strict";
  const root = document.documentElement;
  const toggle = document.getElementById("theme-toggle");
  const dark = matchMedia("(prefers-color-scheme: dark)");
  const isDark = () => root.dataset.theme === "dark" || (root.dataset.theme === "auto" && dark.matches);
  // a lesson's embedded view follows the reader's choice too (embed.js applies it)
  const tell = (frame) => frame.contentWindow && frame.contentWindow.postMessage({ type: "convscope:theme", theme: root.dataset.theme }, "*");
  document.querySelectorAll("iframe.lesson-view").forEach((frame) => {
    frame.addEventListener("load", () => { if (root.dataset.theme !== "auto") tell(frame); });
    if (root.dataset.theme !== "auto") tell(frame); // in case it loaded before this script ran
  });
  const changed = () => {
    document.dispatchEvent(new CustomEvent("convscope:theme")); // plots.js redraws
    document.querySelectorAll("iframe.lesson-view").forEach(tell);
  };
  if (toggle) {
    const sync = () => toggle.setAttribute("aria-pressed", String(isDark()));
    sync();
    toggle.addEventListener("click", () => {
      const theme = isDark() ? "light" : "dark";
      root.dataset.theme = theme;
      try { localStorage.setItem("convscope-theme", theme); } catch (e) { /* remembered for this page only */ }
      sync();
      changed();
    });
    dark.addEventListener("change", () => { sync(); changed(); });
  }
  const menu = document.getElementById("menu-toggle");
  if (menu) {
    const header = menu.closest("header");
    const open = (yes) => { menu.setAttribute("aria-expanded", String(yes)); header.classList.toggle("menu-open", yes); };
    menu.addEventListener("click", () => open(menu.getAttribute("aria-expanded") !== "true"));
    header.addEventListener("keydown", (e) => {
      if (e.key === "Escape" && menu.getAttribute("aria-expanded") === "true") { open(false); menu.focus(); }
    });
  }
})();

// Wide content scrolls in its own box on a phone (app.css): the keyboard must reach each such box.
(function () {
  "use strict";
  function focusable(scope) {
    const boxes = scope.querySelectorAll ? scope.querySelectorAll("main table:not(.grid), main figure, main pre, main div") : [];
    // the cheap tests first: only a scroll box's widths are read (a read of layout), and none is written before
    const wide = [...boxes].filter((t) => !t.hasAttribute("tabindex") && /^(auto|scroll)$/.test(getComputedStyle(t).overflowX)
      && !t.querySelector("a, button, input, select, textarea, [tabindex]")).filter((t) => t.scrollWidth > t.clientWidth + 1);
    wide.forEach((t) => t.setAttribute("tabindex", "0"));
  }
  htmx.onLoad((elt) => focusable(elt.closest ? (elt.closest("main") || document) : document));
  let timer = null;
  window.addEventListener("resize", () => { clearTimeout(timer); timer = setTimeout(() => focusable(document), 200); });
})();

// /trace: after "Trace", bring the result into view (typing updates it in place, without scrolling).
document.addEventListener("htmx:afterSettle", (event) => {
  const live = document.getElementById("live");
  const trigger = event.detail.requestConfig && event.detail.requestConfig.triggeringEvent;
  if (!live || live.id !== "live" || !live.classList.contains("trace") || !trigger || trigger.type !== "submit") return;
  const box = live.getBoundingClientRect();
  if (box.top < 0 || box.top > window.innerHeight * 0.6) {
    const still = matchMedia("(prefers-reduced-motion: reduce)").matches;
    live.scrollIntoView({ behavior: still ? "auto" : "smooth", block: "start" });
  }
});
