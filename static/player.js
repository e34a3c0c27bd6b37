// What the views that play a computation in the browser share (explore, pool, transposed,
// pointwise, and image's setParam): the step player's controls and the address's frame. No script formats a
// number: every view shows only texts the server wrote (templates/_partials/player.html, image's lens
// fragment). Loaded before each view's own script.
window.Convscope = (function () {
  "use strict";

  function strong(text) { const el = document.createElement("strong"); el.textContent = text; return el; }
  function setParam(key, value) { // the address names the frame shown (0: the default, left out)
    const url = new URL(window.location.href);
    if (value) url.searchParams.set(key, value); else url.searchParams.delete(key);
    history.replaceState(history.state, "", url);
  }

  let handOver = null; // hands the player of the fragment shown now over to its successor
  let resume = null; // {step, speed}: a player was playing when its fragment was replaced

  // Wire root's player: #play and its visible #play-state, #speed, #scrub, #step-back, #step-forward.
  // show(s) draws step s (any integer: it wraps); current() is the step drawn now.
  // Playing survives a knob: when htmx swaps in a new fragment while the old one plays, the new
  // player goes on playing from the same step (clamped to its own count), at the same speed, as
  // soon as its view has drawn its first frame (autoplay(), which every view calls last).
  function player(root, show, current) {
    if (handOver) handOver(); // a fragment swapped in replaces the one that was playing
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
      timer = setInterval(() => {
        if (!root.isConnected) { retire(); return; } // swapped out: its successor, if any, plays on
        show(current() + 1);
      }, 1000 / Number($("speed").value));
      paused(false);
    }
    function stop() { if (timer) clearInterval(timer); timer = null; paused(true); }
    function retire() {
      if (timer) resume = { step: current(), speed: $("speed").value };
      stop();
      if (handOver === retire) handOver = null;
    }
    handOver = retire;
    play.addEventListener("click", () => (timer ? stop() : start()));
    $("speed").addEventListener("change", () => { if (timer) { stop(); start(); } });
    $("scrub").addEventListener("input", (e) => { stop(); show(Number(e.target.value)); });
    $("step-back").addEventListener("click", (e) => { e.preventDefault(); stop(); show(current() - 1); });
    $("step-forward").addEventListener("click", (e) => { e.preventDefault(); stop(); show(current() + 1); });
    return {
      stop,
      autoplay() {
        if (resume) { // the reader pressed Play before the knob moved: go on from the same step
          const last = Number($("scrub").max);
          const speed = $("speed");
          if ([...speed.options].some((o) => o.value === resume.speed)) speed.value = resume.speed;
          show(Math.max(0, Math.min(resume.step, last)));
          resume = null;
          start();
          return;
        }
        // an embed may ask to play: never when the reader prefers reduced motion
        if (document.body.dataset.autoplay === "1" && !matchMedia("(prefers-reduced-motion: reduce)").matches) start();
      },
    };
  }

  return { strong, setParam, player };
})();
