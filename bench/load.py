"""HTTP under load (wrk on loopback, one uvicorn worker), page weight, and the browser's view of it.

Every row is measured side by side with a bare Starlette route on the same server in the same run,
so the ratios survive a noisy shared machine. Prints a table with targets; ``--write-readme`` puts
it in the README.

    .venv/bin/python bench/load.py [--seconds 5] [--write-readme]
"""
from __future__ import annotations

import argparse
import gzip
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.server import ROOT, uvicorn  # noqa: E402

LARGE = ("/explore?framework=torch&type=Conv2d&in_channels=4&out_channels=8&kernel_size=3,3&padding=1"
         "&input_shape=1,4,16,16")
CASES = [  # name, method, path, body, headers
    ("bare Starlette route", "GET", "/bench/bare", None, {}),
    ("/explore fragment, default", "GET", "/explore", None, {"HX-Request": "true"}),
    ("/explore fragment, large", "GET", LARGE, None, {"HX-Request": "true"}),
    ("/api/forward", "POST", "/api/forward", {"framework": "torch", "input": [[[[float((i * 7 + j) % 5) for j in range(8)]
                                                                            for i in range(8)]] * 3],
                                              "layer": {"type": "Conv2d", "in_channels": 3, "out_channels": 4,
                                                        "kernel_size": 3}}, {}),
    ("/api/trace, Q5 model", "POST", "/api/trace", None, {}),
]


def q5_body() -> dict:
    from app.routes.trace import EXAMPLES
    _, code, _, _ = EXAMPLES["Q5: Keras Conv3D model"]
    return {"code": code, "variables": {"depth_1": 16, "depth_2": 32}}


def wrk(url: str, method: str, body, headers: dict, connections: int, seconds: int) -> dict:
    lua = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
    lua.write(f"wrk.method = {json.dumps(method)}\n")
    for k, v in {**headers, **({"Content-Type": "application/json"} if body else {})}.items():
        lua.write(f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}\n")
    if body is not None:
        lua.write(f"wrk.body = {json.dumps(json.dumps(body))}\n")
    lua.close()
    out = subprocess.run(["taskset", "-c", "1", "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency",
                          "-s", lua.name, url], capture_output=True, text=True, timeout=seconds + 30).stdout
    def ms(label):
        m = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)", out)
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), "p50": ms("50"), "p99": ms("99"),
            "errors": int(errors.group(1)) if errors else 0, "socket": socket_errors.group(1) if socket_errors else ""}


def page_weight(url: str) -> dict:
    """Compressed bytes of a view's first load: the HTML and the assets it names, plotly apart."""
    html = urllib.request.urlopen(url).read()
    assets = re.findall(rb'(?:src|href|content)="(/assets/[^"]+)"', html)  # content: plotly's lazy URL
    base = url.split("/", 3)
    origin = "/".join(base[:3])
    sizes = {a.decode(): len(gzip.compress(urllib.request.urlopen(origin + a.decode()).read(), 6)) for a in assets}
    before = len(gzip.compress(html, 6)) + sum(v for k, v in sizes.items() if "plotly" not in k)
    return {"before": before, "with": before + sum(v for k, v in sizes.items() if "plotly" in k)}


def browser(url: str) -> dict:
    """Slider → updated DOM (p50/p95 of 50 changes: from the input event to the first frame after the swap,
    timed in the page; the 50 ms debounce included), and frames per second while the window plays."""
    from playwright.sync_api import sync_playwright
    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"]
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=args)
        page = b.new_page()
        page.goto(url + "/explore")
        page.get_by_label("Input width", exact=True).wait_for()
        times = []
        for i in range(50):  # timed in the page (performance.now), so Playwright's own round trips do not count
            value = 5 + i % 6
            ms = page.evaluate("""(value) => new Promise((done) => {
                const slider = document.getElementById("size-1");
                if (Number(slider.value) === value) return done(null);
                const t0 = performance.now();
                document.body.addEventListener("htmx:afterSettle",  // swapped in: the next frame paints it
                    () => requestAnimationFrame(() => done(performance.now() - t0)), { once: true });
                slider.value = value;
                slider.dispatchEvent(new Event("input", { bubbles: true }));
            })""", value)
            if ms is not None:
                times.append(ms)
            expect = f"[1, 2, 4, {value - 2}]"
            page.wait_for_selector(f"[data-output-shape='{expect}']")
        requests = []
        page.on("request", lambda r: requests.append(r.url))
        page.select_option("#speed", "10")
        page.locator("#play").click()
        frames = page.evaluate("""() => new Promise(done => { let n = 0; const t0 = performance.now();
            function tick(now) { n++; if (now - t0 < 2000) requestAnimationFrame(tick); else done(n / ((now - t0) / 1000)); }
            requestAnimationFrame(tick); })""")
        page.locator("#play").click()
        b.close()
    times.sort()
    return {"p50": statistics.median(times), "p95": times[int(0.95 * (len(times) - 1))], "fps": frames,
            "requests": len(requests)}


def run(seconds: int) -> list[tuple[str, str, str, bool]]:
    rows = []
    with uvicorn() as (url, _):
        for name, method, path, body, headers in CASES:
            body = q5_body() if name.startswith("/api/trace") else body
            urllib.request.urlopen(urllib.request.Request(url + path, method=method, headers={**headers, **({"Content-Type": "application/json"} if body else {})},
                                                          data=json.dumps(body).encode() if body else None)).read()
        results = {}
        for conns in (1, 16, 64):
            for name, method, path, body, headers in CASES:  # the bare route runs next to each row, same round
                body = q5_body() if name.startswith("/api/trace") else body
                results[(name, conns)] = wrk(url + path, method, body, headers, conns, seconds)
        bare = {c: results[("bare Starlette route", c)]["rps"] for c in (1, 16, 64)}
        for name, *_ in CASES:
            for conns in (1, 16, 64):
                r = results[(name, conns)]
                share = r["rps"] / bare[conns]
                target, met = "", True
                if name == "/explore fragment, default" and conns == 64:
                    met = r["rps"] >= 1000 and share >= 0.08 and r["p99"] <= 50
                    target = "≥ 1,000 req/s, ≥ 8% of bare, p99 ≤ 50 ms"
                rows.append((f"{name} · {conns} conn", f"{r['rps']:,.0f} req/s ({share:.0%} of bare) · p50 "
                             f"{r['p50']:.1f} ms · p99 {r['p99']:.1f} ms" + (f" · {r['errors']} non-2xx" if r["errors"] else ""),
                             target, met))
        weight = page_weight(url + "/explore")
        embed = page_weight(url + "/embed/explore")
        rows.append(("/explore first view, compressed", f"{weight['before'] / 1000:.1f} KB before plotly · "
                     f"{weight['with'] / 1000:.1f} KB with it", "≤ 100 KB before plotly", weight["before"] <= 100_000))
        rows.append(("/embed/explore first view, compressed", f"{embed['before'] / 1000:.1f} KB before plotly · "
                     f"{embed['with'] / 1000:.1f} KB with it", "", True))
        if shutil.which("chromium") or Path("/usr/bin/chromium").exists():
            b = browser(url)
            rows.append(("slider → updated DOM (50 changes)", f"p50 {b['p50']:.0f} ms · p95 {b['p95']:.0f} ms",
                         "p95 ≤ 100 ms", b["p95"] <= 100))
            rows.append(("animation while playing", f"{b['fps']:.0f} frames/s · {b['requests']} requests",
                         "≥ 30 frames/s, no request per frame", b["fps"] >= 30 and b["requests"] == 0))
    return rows


def table(rows) -> str:
    lines = ["| measure | result | target | met |", "|---|---|---|---|"]
    lines += [f"| {a} | {b} | {c} | {'yes' if d else '**no**'} |" if c else f"| {a} | {b} | | |" for a, b, c, d in rows]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--write-readme", action="store_true")
    args = ap.parse_args()
    rows = run(args.seconds)
    text = (table(rows) + f"\n\nwrk -t1, {args.seconds} s per cell, uvicorn 1 worker pinned to CPU 0 and wrk to CPU 1, "
            f"one BLAS thread; {time.strftime('%Y-%m-%d')}.")
    print(text)
    if args.write_readme:
        readme = ROOT / "README.md"
        body = readme.read_text()
        readme.write_text(re.sub(r"(<!-- bench:http -->\n).*?(<!-- /bench:http -->)", lambda m: m.group(1) + text + "\n" + m.group(2),
                                 body, flags=re.S))
    sys.exit(0 if all(met for *_, met in rows) else 1)


if __name__ == "__main__":
    main()
