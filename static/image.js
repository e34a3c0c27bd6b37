// /image: the lens (the window's pixels, weights, products and sum, as the server writes them) follows
// the pointer and the arrow keys, and an uploaded picture is POSTed as the request body. Its downscaled
// copy lives only in this page's memory (`kept`) and is re-sent with each change of the knobs and each
// lens asked for; it is never in the URL or stored anywhere.
(function () {
  "use strict";
  const { setParam } = window.Convscope;
  let kept = null; // Blob of your image as the server scaled it, or null when a sample is shown
  let sending = null; // the AbortController of the upload request in flight: a newer change replaces it

  function bytes(b64) {
    const bin = atob(b64);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  const form = () => document.getElementById("image-form");
  const status = (text) => { const s = document.getElementById("upload-status"); if (s) s.textContent = text; };

  // --- uploads: the file is the body, the knobs are the query -------------------------------------
  function send(blob, query) {
    const f = form();
    const live = document.getElementById("live");
    if (!f || !live) return;
    const params = query !== undefined ? query : new URLSearchParams(new FormData(f)).toString();
    status("Working on your image…");
    live.classList.add("htmx-request");
    if (sending) sending.abort(); // like the form's hx-sync="this:replace": the last change wins
    const mine = sending = new AbortController();
    fetch(f.getAttribute("action") + "?" + params, {
      method: "POST", body: blob, signal: mine.signal,
      headers: { "HX-Request": "true", "Content-Type": "application/octet-stream" },
    }).then((r) => r.text().then((text) => ({ r, text }))).catch(() => null).then((answer) => {
      if (mine !== sending) return; // replaced by a newer change
      sending = null;
      live.classList.remove("htmx-request");
      if (!answer) { status("Your image could not be sent; try again."); return; }
      const { r, text } = answer;
      if (r.ok) { htmx.swap(live, text, { swapStyle: "outerHTML", swapDelay: 0, settleDelay: 0 }); return; }
      if (r.status === 413) { status("Your image was not used: the file is larger than the server accepts."); return; }
      const doc = new DOMParser().parseFromString(text, "text/html");
      const alert = doc.querySelector("[role=alert]");
      status(alert ? alert.textContent.trim().replace(/\s+/g, " ") : `Your image was not used (HTTP ${r.status}).`);
    });
  }
  function upload(file) {
    if (!file) return;
    const input = document.getElementById("upload");
    if (!input) return;
    if (!/^image\/(png|jpeg|webp)$/.test(file.type) && file.type !== "") {
      status(`Your image was not used: ${file.type} is not a PNG, JPEG or WebP image.`); return;
    }
    if (file.size > Number(input.dataset.max)) { status(input.dataset.tooBig); return; } // the server's sentence
    send(file);
  }
  document.addEventListener("change", (e) => {
    if (e.target.id === "upload") upload(e.target.files[0]);
    if (e.target.matches && e.target.matches(".kernel-cells input") && form()) htmx.trigger(form(), "submit");
  });
  document.addEventListener("input", (e) => { if (e.target.id === "image") kept = null; }); // a sample chosen
  document.addEventListener("paste", (e) => {
    const files = e.clipboardData ? Array.from(e.clipboardData.files) : [];
    const file = files.find((f) => f.type.startsWith("image/"));
    if (file && document.getElementById("upload")) { e.preventDefault(); upload(file); }
  });
  // with your image shown, the knobs (and the framework switch) re-send it instead of asking for a sample
  document.addEventListener("htmx:confirm", (e) => {
    if (kept && e.target === form()) { e.preventDefault(); send(kept); }
  });
  document.addEventListener("click", (e) => {
    const a = e.target.closest && e.target.closest("#live .segmented a");
    if (a && kept) { e.preventDefault(); send(kept, a.getAttribute("href").split("?")[1] || ""); }
  });

  // --- the lens ---------------------------------------------------------------------------------
  // Each position's lens is the server's fragment (GET {view}/lens?<the view's query>&at=y,x&f=n, or a POST
  // of your kept image with that query): this script writes no number and knows no stride, padding or
  // window. It finds the output pixel under the pointer, keeps arrow-key moves inside the map, and swaps in
  // what the server wrote, placing the window and the markers where the fragment says (data-box-*, data-marker-*).
  const SAVED = 200; // answers kept per fragment (hovering back over a pixel asks again only past this)
  function setup(root) {
    kept = root.dataset.kept ? new Blob([bytes(root.dataset.kept.split(",")[1])], { type: "image/png" }) : null;
    const picture = kept, stage = root.querySelector("#stage"), lens = root.querySelector("#lens");
    if (!stage || !lens) return;
    const answers = new Map(); // "y,x,f" -> the fragment's text
    const here = (at, f) => `${at[0]},${at[1]},${f}`;
    let pinned = { at: lens.dataset.at.split(",").map(Number), f: Number(lens.dataset.f) };
    let wanted = here(pinned.at, pinned.f), asking = null;
    answers.set(wanted, lens.outerHTML);

    function show(text) { // the server's lens, into the section the page has (its live region stays)
      const t = document.createElement("template");
      t.innerHTML = text;
      const next = t.content.querySelector("#lens");
      if (!next) { // refused: the server's words stand in for the numbers
        const alert = t.content.querySelector("[role=alert]");
        if (alert) lens.querySelector("#lens-body").replaceChildren(alert);
        return;
      }
      lens.querySelector("#lens-title").replaceWith(next.querySelector("#lens-title"));
      lens.querySelector("#lens-body").replaceChildren(...next.querySelector("#lens-body").childNodes);
      Object.assign(lens.dataset, next.dataset);
      const box = root.querySelector("#lens-box");
      box.style.left = next.dataset.boxLeft;
      box.style.top = next.dataset.boxTop;
      root.querySelectorAll(".out-pic").forEach((pic) => {
        const m = pic.querySelector(".marker");
        m.style.left = next.dataset.markerLeft;
        m.style.top = next.dataset.markerTop;
        m.classList.toggle("current", pic.dataset.f === next.dataset.f);
      });
    }
    // One request at a time; an answer for a position the reader has left is kept, not shown, and the
    // position wanted now is asked next (so a moving pointer costs one request in flight, never a queue).
    function ask(key) {
      asking = key;
      const [y, x, f] = key.split(",");
      const url = `${stage.dataset.lens}&at=${y},${x}&f=${f}`;
      const sent = picture
        ? fetch(url, { method: "POST", body: picture, headers: { "Content-Type": "application/octet-stream" } })
        : fetch(url);
      sent.then((r) => r.text()).then((text) => {
        asking = null;
        if (!root.isConnected) return; // a knob swapped the view: this lens is gone
        answers.set(key, text);
        if (answers.size > SAVED) answers.delete(answers.keys().next().value);
        want(wanted);
      }).catch(() => { asking = null; });
    }
    function want(key) {
      wanted = key;
      if (answers.has(key)) { if (lens.dataset.at + "," + lens.dataset.f !== key) show(answers.get(key)); }
      else if (asking === null) ask(key);
    }
    function pin(at, f) {
      pinned = { at, f };
      want(here(at, f));
      setParam("at", `${at[0]},${at[1]}`);
      setParam("f", f);
      const field = document.getElementById("lens-field"); // the next knob change keeps the lens here
      if (field) field.value = here(at, f);
    }
    function pointAt(pic, e) { // the output pixel under the pointer: where it is across the drawn map
      const rect = pic.querySelector("img").getBoundingClientRect();
      const rows = Number(pic.dataset.rows), cols = Number(pic.dataset.cols);
      const at = [Math.floor((e.clientY - rect.top) / rect.height * rows), Math.floor((e.clientX - rect.left) / rect.width * cols)];
      return at[0] >= 0 && at[0] < rows && at[1] >= 0 && at[1] < cols ? at : null;
    }
    const inside = (v, n) => Math.min(n - 1, Math.max(0, v));
    root.querySelectorAll(".out-pic").forEach((pic) => {
      const f = Number(pic.dataset.f);
      pic.addEventListener("pointermove", (e) => { const at = pointAt(pic, e); if (at) want(here(at, f)); });
      pic.addEventListener("pointerleave", () => want(here(pinned.at, pinned.f)));
      pic.addEventListener("click", (e) => { const at = pointAt(pic, e); if (at) pin(at, f); });
      pic.addEventListener("focus", () => { if (pinned.f !== f) pin(pinned.at, f); });
      pic.addEventListener("keydown", (e) => {
        const step = e.shiftKey ? 10 : 1;
        const moves = { ArrowUp: [-step, 0], ArrowDown: [step, 0], ArrowLeft: [0, -step], ArrowRight: [0, step] };
        const m = moves[e.key];
        if (!m) return;
        e.preventDefault();
        pin([inside(pinned.at[0] + m[0], Number(pic.dataset.rows)), inside(pinned.at[1] + m[1], Number(pic.dataset.cols))], f);
      });
    });
  }

  htmx.onLoad((elt) => {
    const root = elt.id === "live" ? elt : elt.querySelector && elt.querySelector("#live.image-view");
    if (root && root.classList.contains("image-view")) setup(root);
  });
})();
