"""A slider move's repaint in a real browser (issue 20: "a slider move on a real-size layer repaints within 2.5x
the default layer's time in the same run"), for every layer of the tables students bring, in /explore, /pool,
/transposed and /pointwise, beside each view's default layer:

    .venv/bin/python -m bench.repaint [--moves 8] [--views explore,pool,transposed,pointwise]

One server (the Procfile's command, 2 workers) and Debian's Chromium. Per case: the page opens, then its first
range knob that can move up by one is moved up and back ``moves`` times, as a student drags it (the input event
the page debounces). A repaint is timed in the page (performance.now) from the input event to the first frame
after htmx has swapped the answer in AND every picture of the stage has loaded (a picture level's PNGs are
separate URLs, fetched after the swap), so it is what the student waits for. Every state is new (the seed
changes per round), so no cache answers. Cases run round-robin, a round at a time, so a noisy machine slows
them alike; each real size's ratio is the median of its per-round ratios to its view's default.
The server-side part of the same budget (CPU per answer) is bench/real_sizes.py's.
"""
from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.server import procfile  # noqa: E402
from tests.web.test_picture import REAL_SIZES  # noqa: E402
from tests.web.test_pointwise_sizes import REAL_SIZES as POINTWISE_SIZES  # noqa: E402
from tests.web.test_pool_picture import POOL_SIZES  # noqa: E402
from tests.web.test_transposed_picture import TRANSPOSED_SIZES  # noqa: E402

RATIO = 2.5
TABLES = {"explore": REAL_SIZES, "pool": POOL_SIZES, "transposed": TRANSPOSED_SIZES, "pointwise": POINTWISE_SIZES}
CHROMIUM = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"]

# moves the first range knob of the strip that can go up by one (up, then back down on the next call), with a seed
# never asked before written into the form first (moving back down would otherwise ask for a state already answered,
# from the response cache or the browser's own), and resolves with the milliseconds until the swapped-in stage's
# pictures have all loaded and a frame has painted them
MOVE = """([up, seed]) => new Promise((done) => {
  const knobs = [...document.querySelectorAll("form.knob-strip input[type=range], main form input[type=range]")];
  const knob = knobs.find((k) => !k.disabled && k.offsetParent && Number(k.value) + 1 <= Number(k.max));
  if (!knob) return done(null);
  const t0 = performance.now();
  document.body.addEventListener("htmx:afterSettle", () => {
    const live = document.getElementById("live") || document.body;
    const pending = [...live.querySelectorAll("img")].filter((img) => !img.complete);
    let left = pending.length;
    const painted = () => requestAnimationFrame(() => done(performance.now() - t0));
    if (!left) return painted();
    pending.forEach((img) => { const one = () => { if (--left === 0) painted(); };
      img.addEventListener("load", one, { once: true }); img.addEventListener("error", one, { once: true }); });
  }, { once: true });
  const seedBox = knob.form && knob.form.elements.seed;
  if (!seedBox) throw new Error("no seed in the knob's form: every move must ask for a new state");
  seedBox.value = String(seed);  // a state never asked before: no cache (server or browser) answers
  knob.value = String(Number(knob.value) + (up ? 1 : -1));
  knob.dispatchEvent(new Event("input", { bubbles: true }));
})"""


def cases(views: list[str]) -> list[tuple[str, str, str]]:
    """(view, name, query): each view's default ("") and its real sizes."""
    return [(view, name, query) for view in views for name, query in {"default": "", **TABLES[view]}.items()]


def measure(url: str, views: list[str], moves: int, rounds: int) -> dict[tuple[str, str], list[float]]:
    from playwright.sync_api import sync_playwright
    times: dict[tuple[str, str], list[list[float]]] = {(v, n): [] for v, n, _ in cases(views)}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM)
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        for r in range(rounds):
            for view, name, query in cases(views):
                seed = f"seed={7000 + r}"
                page.goto(f"{url}/{view}?{query + '&' if query else ''}{seed}")
                page.wait_for_load_state("load")
                got = [page.evaluate(MOVE, [i % 2 == 0, 8000 + r * moves + i]) for i in range(moves)]
                times[(view, name)].append([t for t in got if t is not None])
        browser.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--moves", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--views", default=",".join(TABLES))
    args = parser.parse_args()
    views = args.views.split(",")
    with procfile(2) as (url, _):
        times = measure(url, views, args.moves, args.rounds)
    missed = False
    for view in views:
        base = times[(view, "default")]
        base_ms = statistics.median(t for rnd in base for t in rnd)
        print(f"/{view} default: repaint p50 {base_ms:.0f} ms")
        for name in TABLES[view]:
            rounds = times[(view, name)]
            flat = [t for rnd in rounds for t in rnd]
            if not flat:
                print(f"/{view} {name}: no range knob could move")
                missed = True
                continue
            ratio = statistics.median(statistics.median(rnd) / statistics.median(b) for rnd, b in zip(rounds, base)
                                      if rnd and b)
            met = ratio <= RATIO
            missed |= not met
            print(f"/{view} {name}: repaint p50 {statistics.median(flat):.0f} ms, max {max(flat):.0f} ms; "
                  f"{ratio:.1f}x the default (target <= {RATIO}x: {'met' if met else 'NOT met'})")
    print(f"medians of {args.rounds} rounds x {args.moves} moves, round-robin, 1440x900 Chromium, 2 workers: "
          + ("a target is NOT met" if missed else "every target met"))
    sys.exit(1 if missed else 0)


if __name__ == "__main__":
    main()
