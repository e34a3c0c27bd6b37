// /image: the lens (the window's pixels, weights, products and sum) follows the pointer and the
// arrow keys from the numbers in #image-data (no request per move), and an uploaded picture is
// POSTed as the request body. Its downscaled copy lives only in this page's memory (`kept`) and
// is re-sent with each change of the knobs; it is never in the URL or stored anywhere.
(function () {
  "use strict";
  const { fmt, setParam } = window.Convscope;
  const CHANNELS = ["R", "G", "B"];
  let kept = null; // Blob of your image as the server scaled it, or null when a sample is shown

  function bytes(b64) {
    const bin = atob(b64);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  function cellText(v) { // as app/routes/image.py: cell_text (weights up to 4 decimals)
    let t = v.toFixed(4).replace(/0+$/, "").replace(/\.$/, "");
    if (t === "-0" || t === "") t = "0";
    return t;
  }
  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  }
  function table(rows, caption) {
    const t = el("table", undefined, "grid");
    t.append(el("caption", caption));
    rows.forEach((row) => {
      const tr = document.createElement("tr");
      row.forEach((v) => tr.append(el("td", v)));
      t.append(tr);
    });
    return t;
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
    fetch(f.getAttribute("action") + "?" + params, {
      method: "POST", body: blob, headers: { "HX-Request": "true", "Content-Type": "application/octet-stream" },
    }).then((r) => r.text().then((text) => ({ r, text }))).then(({ r, text }) => {
      live.classList.remove("htmx-request");
      if (r.ok) { htmx.swap(live, text, { swapStyle: "outerHTML", swapDelay: 0, settleDelay: 0 }); return; }
      if (r.status === 413) { status("Your image was not used: the file is larger than the server accepts."); return; }
      const doc = new DOMParser().parseFromString(text, "text/html");
      const alert = doc.querySelector("[role=alert]");
      status(alert ? alert.textContent.trim().replace(/\s+/g, " ") : `Your image was not used (HTTP ${r.status}).`);
    }).catch(() => { live.classList.remove("htmx-request"); status("Your image could not be sent; try again."); });
  }
  function upload(file) {
    if (!file) return;
    const input = document.getElementById("upload");
    const max = input ? Number(input.dataset.max) : 3000000;
    if (!/^image\/(png|jpeg|webp)$/.test(file.type) && file.type !== "") {
      status(`Your image was not used: ${file.type} is not a PNG, JPEG or WebP image.`); return;
    }
    if (file.size > max) {
      status(`Your image was not used: it has ${file.size.toLocaleString("en")} bytes; the limit is ${max.toLocaleString("en")}.`);
      return;
    }
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
  function setup(root) {
    kept = root.dataset.kept ? new Blob([bytes(root.dataset.kept.split(",")[1])], { type: "image/png" }) : null;
    const source = root.querySelector("#image-data");
    if (!source) return;
    const d = JSON.parse(source.dataset.image);
    const x = bytes(d.x);
    const pre = new Float32Array(bytes(d.pre).buffer);
    const [hp, wp] = d.padded, [ho, wo] = d.out, k = d.k, z = d.zoom;
    const cg = d.kind === "conv" ? 3 / d.groups : 1;
    let pinned = { at: d.at.slice(), f: d.f };

    function lensAt(at, f) {
      const rows = [], cols = [];
      for (let i = 0; i < k; i++) { rows.push(at[0] * d.stride + i * d.dilation); cols.push(at[1] * d.stride + i * d.dilation); }
      const value = pre[(f * ho + at[0]) * wo + at[1]];
      const body = root.querySelector("#lens-body");
      const chans = el("div", undefined, "lens-channels");
      const total = el("p", undefined, "lens-total");
      total.id = "lens-total";
      const first = d.kind === "conv" ? Math.floor(f / (d.maps / d.groups)) * cg : f;
      const sums = [];
      for (let lc = 0; lc < cg; lc++) {
        const c = first + lc;
        const pixels = [], weights = [], products = [];
        let sum = 0;
        rows.forEach((r, i) => {
          const pr = [], wr = [], prod = [];
          cols.forEach((col, j) => {
            const xv = x[(c * hp + r) * wp + col];
            pr.push(fmt(xv));
            if (d.kind === "conv") {
              const wv = d.w[((f * cg + lc) * k + i) * k + j];
              wr.push(cellText(wv).replace("-", "\u2212")); prod.push(fmt(xv * wv)); sum += xv * wv;
            } else { sum += xv; }
          });
          pixels.push(pr); weights.push(wr); products.push(prod);
        });
        const box = el("div", undefined, "lens-channel");
        box.append(el("h3", CHANNELS[c]), table(pixels, "pixels"));
        if (d.kind === "conv") {
          const p = el("p", "sum ");
          p.append(el("strong", fmt(sum)));
          box.append(el("span", "×", "op"), table(weights, "kernel"), el("span", "=", "op"), table(products, "products"), p);
          sums.push(fmt(sum));
        } else if (d.kind === "max") {
          total.textContent = `max = ${fmt(Math.max(...pixels.flat().map((t) => Number(t))))}`;
        } else {
          total.textContent = `${fmt(sum)} / ${k * k} = ${fmt(value)}`;
        }
        chans.append(box);
      }
      if (d.kind === "conv") {
        total.append(`${sums.join(" + ")} + bias ${fmt(d.b[f])} = `, el("strong", fmt(value)));
        if (d.relu) total.append(" → ReLU = ", el("strong", fmt(Math.max(value, 0))));
      }
      body.replaceChildren(chans, total);
      root.querySelector("#lens-title").textContent = `Under the lens: output [${at[0]}, ${at[1]}] of map ${f}`;
      const box = root.querySelector("#lens-box");
      box.style.left = `${(at[1] * d.stride - d.pad[1]) * z}px`;
      box.style.top = `${(at[0] * d.stride - d.pad[0]) * z}px`;
      root.querySelectorAll(".out-pic").forEach((pic) => {
        const m = pic.querySelector(".marker");
        m.style.left = `${at[1] * z}px`; m.style.top = `${at[0] * z}px`;
        m.classList.toggle("current", Number(pic.dataset.f) === f);
      });
    }
    function pin(at, f) {
      pinned = { at, f };
      lensAt(at, f);
      setParam("at", `${at[0]},${at[1]}`);
      setParam("f", f);
      const field = document.getElementById("lens-field"); // the next knob change keeps the lens here
      if (field) field.value = `${at[0]},${at[1]},${f}`;
    }
    function pointAt(pic, e) {
      const rect = pic.querySelector("img").getBoundingClientRect();
      const oy = Math.floor((e.clientY - rect.top) / rect.height * ho), ox = Math.floor((e.clientX - rect.left) / rect.width * wo);
      return oy >= 0 && oy < ho && ox >= 0 && ox < wo ? [oy, ox] : null;
    }
    root.querySelectorAll(".out-pic").forEach((pic) => {
      const f = Number(pic.dataset.f);
      pic.addEventListener("pointermove", (e) => { const at = pointAt(pic, e); if (at) lensAt(at, f); });
      pic.addEventListener("pointerleave", () => lensAt(pinned.at, pinned.f));
      pic.addEventListener("click", (e) => { const at = pointAt(pic, e); if (at) pin(at, f); });
      pic.addEventListener("focus", () => { if (pinned.f !== f) pin(pinned.at, f); });
      pic.addEventListener("keydown", (e) => {
        const step = e.shiftKey ? 10 : 1;
        const moves = { ArrowUp: [-step, 0], ArrowDown: [step, 0], ArrowLeft: [0, -step], ArrowRight: [0, step] };
        const m = moves[e.key];
        if (!m) return;
        e.preventDefault();
        pin([Math.min(ho - 1, Math.max(0, pinned.at[0] + m[0])), Math.min(wo - 1, Math.max(0, pinned.at[1] + m[1]))], f);
      });
    });
    lensAt(pinned.at, pinned.f);
  }

  htmx.onLoad((elt) => {
    const root = elt.id === "live" ? elt : elt.querySelector && elt.querySelector("#live.image-view");
    if (root && root.classList.contains("image-view")) setup(root);
  });
})();
