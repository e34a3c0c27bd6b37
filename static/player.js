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
  let resume = null; // {step, speed, paused}: a player was playing (or, on a switch, shown) when its fragment was replaced
  let shown = null; // the player shown now: {root, step(), speed(), playing(), stop()}

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
    shown = { root, step: current, speed: () => $("speed").value, playing: () => timer !== null, stop };
    play.addEventListener("click", () => (timer ? stop() : start()));
    $("speed").addEventListener("change", () => { if (timer) { stop(); start(); } });
    $("scrub").addEventListener("input", (e) => { stop(); show(Number(e.target.value)); });
    $("step-back").addEventListener("click", (e) => { e.preventDefault(); stop(); show(current() - 1); });
    $("step-forward").addEventListener("click", (e) => { e.preventDefault(); stop(); show(current() + 1); });
    return {
      stop,
      autoplay() {
        if (resume) { // the reader pressed Play before the knob moved (or switched): go on from the same step
          const last = Number($("scrub").max);
          const speed = $("speed");
          if ([...speed.options].some((o) => o.value === resume.speed)) speed.value = resume.speed;
          show(Math.max(0, Math.min(resume.step, last)));
          const paused = resume.paused;
          resume = null;
          if (!paused) start();
          return;
        }
        // an embed may ask to play: never when the reader prefers reduced motion
        if (document.body.dataset.autoplay === "1" && !matchMedia("(prefers-reduced-motion: reduce)").matches) start();
      },
    };
  }

  // The view's switches (framework, dimensions, pooling kind: links, so they work without JavaScript) load
  // the other page in place, as a knob does: a playing player goes on playing, from the same step across
  // a framework or kind switch (the same positions), from step 0 across a dimension switch; a paused one
  // keeps its step. The whole <main> is swapped (the knob strip differs by framework and dimensions); the
  // address follows (present=1 kept), and Back reloads the page it names.
  document.addEventListener("click", (e) => {
    const a = e.target.closest && e.target.closest("main nav.segmented a[href]");
    if (!a || !shown || !shown.root.isConnected || e.defaultPrevented || e.button !== 0 ||
        e.metaKey || e.ctrlKey || e.shiftKey || e.altKey || !window.htmx) return;
    e.preventDefault();
    const across = a.closest("nav").getAttribute("aria-label") === "Dimensions";
    const carry = { step: across ? 0 : shown.step(), speed: shown.speed(), paused: !shown.playing() };
    const url = new URL(a.href);
    if (document.body.classList.contains("presenting")) url.searchParams.set("present", "1");
    fetch(url, { credentials: "same-origin" })
      .then((r) => (r.ok ? r.text() : Promise.reject(new Error(String(r.status)))))
      .then((html) => {
        const doc = new DOMParser().parseFromString(html, "text/html");
        if (!doc.querySelector("main#main")) throw new Error("no page");
        if (shown) shown.stop(); // the old one hands over nothing: the switch carries its state
        resume = carry;
        history.replaceState({ ...(history.state || {}), convscopeSwitch: true }, "");
        history.pushState({ convscopeSwitch: true }, "", url);
        document.title = doc.title;
        htmx.swap(document.querySelector("main#main"), html, { swapStyle: "outerHTML" }, { select: "main#main" });
      })
      .catch(() => { window.location.href = url; }); // a refused layer (422) or no answer: the plain link
  });
  window.addEventListener("popstate", (e) => { if (e.state && e.state.convscopeSwitch) window.location.reload(); });

  return { strong, setParam, player };
})();
