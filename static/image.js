// /image: the stage component (static/picture.js) draws the photo, the kernel and the focused map, finds the
// output under the pointer and moves along it with the arrow keys; here the lens (the window's pixels, weights,
// products and sum, as the server writes them) follows it, and an uploaded picture is POSTed as the request body.
// Its downscaled copy lives only in this page's memory (`kept`) and is re-sent with each change of the knobs and
// each lens asked for; it is never in the URL or stored anywhere.
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
  // The stage component (static/picture.js) finds the output under the pointer and moves along it with the
  // arrow keys, as a step number (row-major); each position's lens is the server's fragment (GET
  // {view}/lens?<the view's query>&at=y,x, or a POST of your kept image with that query): this script writes
  // no number and knows no stride, padding or window. It swaps in what the server wrote, and places the window
  // and the marker where the fragment says (data-now).
  const SAVED = 200; // answers kept per fragment (hovering back over a pixel asks again only past this)
  function setup(root) {
    kept = root.dataset.kept ? new Blob([bytes(root.dataset.kept.split(",")[1])], { type: "image/png" }) : null;
    const picture = kept, stage = root.querySelector("#stage"), lens = root.querySelector("#lens");
    if (!stage || !lens) return;
    const width = JSON.parse(stage.querySelector(".picture-stage").dataset.layout).out[1];
    const stepOf = (at) => at[0] * width + at[1];
    const answers = new Map(); // step -> the fragment's text
    let pinned = stepOf(lens.dataset.at.split(",").map(Number));
    let wanted = pinned, asking = null, shown = pinned;
    answers.set(pinned, lens.outerHTML);

    function show(s, text) { // the server's lens, into the section the page has (its live region stays)
      shown = s;
      const t = document.createElement("template");
      t.innerHTML = text;
      const next = t.content.querySelector("#lens");
      const body = lens.querySelector("#lens-body");
      if (!next) { // refused: the server's words (plain text) stand in for the numbers
        const alert = document.createElement("p");
        alert.className = "error";
        alert.setAttribute("role", "alert");
        alert.textContent = text;
        body.replaceChildren(alert);
        return;
      }
      lens.querySelector("#lens-title").replaceWith(next.querySelector("#lens-title"));
      body.replaceChildren(...next.querySelector("#lens-body").childNodes);
      Object.assign(lens.dataset, next.dataset);
      const now = JSON.parse(next.dataset.now);
      if (pic) pic.showNow(now);
    }
    // One request at a time; an answer for a position the reader has left is kept, not shown, and the
    // position wanted now is asked next (so a moving pointer costs one request in flight, never a queue).
    function ask(s) {
      asking = s;
      const url = `${stage.dataset.lens}&at=${window.Convscope.rowColumn(s, width)}`;
      const sent = picture
        ? fetch(url, { method: "POST", body: picture, headers: { "Content-Type": "application/octet-stream" } })
        : fetch(url);
      sent.then((r) => r.text()).then((text) => {
        asking = null;
        if (!root.isConnected) return; // a knob swapped the view: this lens is gone
        answers.set(s, text);
        if (answers.size > SAVED) answers.delete(answers.keys().next().value);
        want(wanted);
      }).catch(() => { asking = null; });
    }
    function want(s) {
      wanted = s;
      if (answers.has(s)) { if (shown !== s) show(s, answers.get(s)); }
      else if (asking === null) ask(s);
    }
    const pic = window.Convscope.pictureStage(root, {
      total: Number(stage.dataset.total), current: () => pinned,
      preview(s) { want(s === null ? pinned : s); },
      pin(s) {
        pinned = s;
        want(s);
        const at = window.Convscope.rowColumn(s, width);
        setParam("at", at);
        const field = document.getElementById("lens-field"); // the next knob change keeps the lens here
        if (field) field.value = `${at},${lens.dataset.f}`;
      },
    });
  }

  htmx.onLoad((elt) => {
    const root = elt.id === "live" ? elt : elt.querySelector && elt.querySelector("#live.image-view");
    if (root && root.classList.contains("image-view")) setup(root);
  });
})();
