// Runs in <head>, before the first paint (not deferred): the reader's chosen theme, if any, and the
// "js" class that lets the header show its Menu and theme buttons. app.js wires the buttons.
(function () {
  "use strict";
  const root = document.documentElement;
  root.classList.add("js");
  try {
    const chosen = localStorage.getItem("convscope-theme");
    if (chosen === "dark" || chosen === "light") root.dataset.theme = chosen;
  } catch (e) { /* storage blocked: follow the system */ }
})();
