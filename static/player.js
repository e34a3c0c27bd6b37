// What the views that play a computation in the browser share (explore, pool, transposed,
// pointwise): the server's number format, index arithmetic, and the step player's controls
// (templates/_partials/player.html). Loaded before each view's own script.
window.Convscope = (function () {
  "use strict";

  function strong(text) { const el = document.createElement("strong"); el.textContent = text; return el; }
  function setParam(key, value) { // the address names the frame shown (0: the default, left out)
    const url = new URL(window.location.href);
    if (value) url.searchParams.set(key, value); else url.searchParams.delete(key);
    history.replaceState(history.state, "", url);
  }

  let stopCurrent = null; // pauses the player of the fragment shown now

  // Wire root's player: #play and its visible #play-state, #speed, #scrub, #step-back, #step-forward.
  // show(s) draws step s (any integer: it wraps); current() is the step drawn now.
  function player(root, show, current) {
    if (stopCurrent) stopCurrent(); // a fragment swapped in replaces the one that was playing
    const $ = (id) => root.querySelector("#" + id);
    const play = $("play"), state = $("play-state");
    let timer = null;
    function paused(yes) {
      play.textContent = yes ? "▶ Play" : "❚❚ Pause";
      play.setAttribute("aria-pressed", yes ? "false" : "true");
      state.textContent = yes ? "Paused" : "Playing";
      state.classList.toggle("playing", !yes);
    }
    function start() {
      timer = setInterval(() => show(current() + 1), 1000 / Number($("speed").value));
      paused(false);
    }
    function stop() { if (timer) clearInterval(timer); timer = null; paused(true); }
    stopCurrent = stop;
    play.addEventListener("click", () => (timer ? stop() : start()));
    $("speed").addEventListener("change", () => { if (timer) { stop(); start(); } });
    $("scrub").addEventListener("input", (e) => { stop(); show(Number(e.target.value)); });
    $("step-back").addEventListener("click", (e) => { e.preventDefault(); stop(); show(current() - 1); });
    $("step-forward").addEventListener("click", (e) => { e.preventDefault(); stop(); show(current() + 1); });
    return {
      stop,
      autoplay() { // an embed may ask to play: never when the reader prefers reduced motion
        if (document.body.dataset.autoplay === "1" && !matchMedia("(prefers-reduced-motion: reduce)").matches) start();
      },
    };
  }

  return { strong, setParam, player };
})();
