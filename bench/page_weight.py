"""What a phone on a crowded network pays for a first view: bytes transferred and largest contentful
paint, in Chromium driven through CDP under Lighthouse's mobile profile (150 ms RTT, 1.6 Mbps down,
750 kbps up, 4× CPU slowdown), with an empty cache and nothing scrolled.

    .venv/bin/python bench/page_weight.py                  # /explore (the target), then the other views
    .venv/bin/python bench/page_weight.py /explore /cost   # chosen paths

Targets for /explore: ≤ 150 KB transferred, LCP ≤ 1.5 s. Other paths are printed for reference
(their target is the same, and a miss is reported, but only /explore decides the exit status unless
paths are given). Prints the figures next to the targets and exits non-zero when one is missed.
"""
from __future__ import annotations

import argparse
import os
import sys
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# Lighthouse's "Slow 4G" mobile profile (lighthouse-core/config/constants.js: mobileSlow4G)
RTT_MS, DOWN_KBPS, UP_KBPS, CPU_SLOWDOWN = 150, 1.6 * 1024, 750, 4
VIEWPORT = {"width": 412, "height": 823}  # Lighthouse's Moto G Power screen
TARGET_KB, TARGET_LCP_S = 150, 1.5
TARGET_PATH = "/explore"
OTHER_PATHS = ["/", "/learn", "/pool", "/transposed", "/pointwise", "/groups", "/cost", "/trace"]
LCP_OBSERVER = """
window.__lcp = null;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const el = e.element;
    window.__lcp = {t: e.startTime, size: e.size,
                    el: el ? el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
                             (el.className && typeof el.className === "string" ? "." + el.className.split(" ")[0] : "") : "?",
                    stage: !!(el && el.closest("[data-stage]"))};
  }
}).observe({type: "largest-contentful-paint", buffered: true});
"""


def measure(browser, url: str) -> dict:
    """One cold first view of url: transferred bytes (every response, headers included), LCP and
    whether plotly was fetched."""
    context = browser.new_context(viewport=VIEWPORT, is_mobile=True, has_touch=True, device_scale_factor=1.75)
    page = context.new_page()
    page.add_init_script(LCP_OBSERVER)
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    cdp.send("Network.emulateNetworkConditions", {
        "offline": False, "latency": RTT_MS,
        "downloadThroughput": DOWN_KBPS * 1024 / 8, "uploadThroughput": UP_KBPS * 1024 / 8})
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
    sizes: dict[str, int] = {}
    urls: dict[str, str] = {}
    cdp.on("Network.requestWillBeSent", lambda e: urls.__setitem__(e["requestId"], e["request"]["url"]))
    cdp.on("Network.loadingFinished", lambda e: sizes.__setitem__(e["requestId"], e["encodedDataLength"]))
    page.goto(url, wait_until="load", timeout=120_000)
    page.wait_for_timeout(3000)  # late requests (a lazy script would show here) and the final LCP
    lcp = page.evaluate("window.__lcp")
    context.close()
    per_url = {urls.get(rid, rid): n for rid, n in sizes.items()}
    return {"bytes": sum(per_url.values()), "requests": len(per_url), "lcp": lcp,
            "plotly": any("plotly" in u for u in per_url), "per_url": per_url}


def report(path: str, m: dict) -> bool:
    kb = m["bytes"] / 1000
    lcp_s = m["lcp"]["t"] / 1000 if m["lcp"] else float("inf")
    ok = kb <= TARGET_KB and lcp_s <= TARGET_LCP_S
    element = m["lcp"]["el"] if m["lcp"] else "none"
    print(f"{path:<12} transferred {kb:7.1f} KB (target ≤ {TARGET_KB} KB) in {m['requests']:2d} requests"
          f"{', plotly included' if m['plotly'] else ''} · LCP {lcp_s:5.2f} s (target ≤ {TARGET_LCP_S} s, "
          f"element {element}{', in the stage' if m['lcp'] and m['lcp'].get('stage') else ''})  {'ok' if ok else 'MISSED'}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="*", help=f"paths to measure (default: {TARGET_PATH}, then the other views)")
    parser.add_argument("--url", help="a running server to measure instead of starting one")
    parser.add_argument("-v", "--verbose", action="store_true", help="print each response's size")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from playwright.sync_api import sync_playwright

    from bench.server import uvicorn
    paths = args.paths or [TARGET_PATH, *OTHER_PATHS]
    decisive = set(args.paths) if args.paths else {TARGET_PATH}
    print(f"First view, empty cache, Lighthouse mobile profile: {RTT_MS} ms RTT, {DOWN_KBPS / 1024:.1f} Mbps down, "
          f"{UP_KBPS} kbps up, {CPU_SLOWDOWN}× CPU slowdown, {VIEWPORT['width']}×{VIEWPORT['height']}")
    status = 0
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        server = uvicorn("app.main:app", cpu=None) if not args.url else None
        base = args.url.rstrip("/") if args.url else None
        try:
            if server:
                base, _ = server.__enter__()
            for path in paths:  # a warm server (imports, templates compiled): the network is what is measured
                urllib.request.urlopen(base + path, timeout=60).read()
            for path in paths:
                m = measure(browser, base + path)
                if args.verbose:
                    for u, n in sorted(m["per_url"].items(), key=lambda kv: -kv[1]):
                        print(f"    {n / 1000:7.1f} KB  {u.replace(base, '')}")
                if not report(path, m) and path in decisive:
                    status = 1
        finally:
            if server:
                server.__exit__(None, None, None)
            browser.close()
    return status


if __name__ == "__main__":
    sys.exit(main())
