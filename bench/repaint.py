"""A slider move's repaint in a real browser (issue 20: "a slider move on a real-size layer repaints within 2.5x
the default layer's time in the same run"), for every layer of the tables students bring, in /explore, /pool,
/transposed and /pointwise, beside each view's default layer:

    .venv/bin/python -m bench.repaint [--moves 8] [--views explore,pool,transposed,pointwise] [--others]

One server (the Procfile's command, 2 workers) and Debian's Chromium. Per case: the page opens, then its first
range knob that can move up by one is moved up a step at a time, ``moves`` times, as a student drags it (the input
event the page debounces; down instead from a layer at the engine's limits, whose next size is refused, and that
refusal is not counted). A repaint is timed in the page (performance.now) from the input event to the first frame
after htmx has swapped the answer in AND every picture of the stage has loaded (a picture level's PNGs are
separate URLs, fetched after the swap), so it is what the student waits for. Every state is new (a new seed per
round, a new value per move), so no cache answers the page; a picture the moved knob does not change keeps its URL
and comes from the browser's cache, as it does for the student. (Until 2026-12-08 the knob went up and back down,
so four moves in six asked for a state already answered.) Cases run round-robin, a round at a time, so a noisy
machine slows them alike; each real size's ratio is the median of its per-round ratios to its view's default. A
bare route is timed in the same page and rounds (five fetches of /health each round) and printed beside them.
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
OTHERS = {  # --others: layers in no test table, each view's bounds included (the budget holds for any layer)
    "explore": {"img96": "type=Conv2d&in_channels=3&out_channels=16&kernel_size=3&padding=1&input_shape=1,3,96,96",
                "audio": "type=Conv1d&in_channels=1&out_channels=16&kernel_size=7&input_shape=1,1,8000",
                "mri": "type=Conv3d&in_channels=1&out_channels=4&kernel_size=3&input_shape=1,1,24,24,24",
                "keras5x5": "framework=keras&type=Conv2D&filters=32&kernel_size=5,5&strides=2,2&padding=same"
                            "&input_shape=1,48,48,16"},
    "pool": {"big": "type=MaxPool2d&kernel_size=3&stride=2&input_shape=1,16,96,96",
             "avg3d": "type=AvgPool3d&kernel_size=2&input_shape=1,4,16,32,32"},
    "transposed": {"gan": "type=ConvTranspose2d&in_channels=128&out_channels=64&kernel_size=4&stride=2&padding=1"
                          "&input_shape=1,128,8,8"},
    "pointwise": {"max": "type=Conv1d&in_channels=2048&out_channels=2048&kernel_size=1&input_shape=1,2048,4",
                  "k1024": "type=Conv1d&in_channels=1024&out_channels=1024&kernel_size=1&input_shape=1,1024,28"},
}
CHROMIUM = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"]

# moves the first range knob of the strip that can move one step in ``dir`` (+1 or -1), one step further each call
# (as a student drags it: every state new, so neither the response cache nor the browser's answers), and resolves
# with [the milliseconds until the swapped-in stage's pictures have all loaded and a frame has painted them, whether
# the page refused the state (an alert in it: a layer over the engine's limits)]
MOVE = """(dir) => new Promise((done) => {
  const knobs = [...document.querySelectorAll("form.knob-strip input[type=range], main form input[type=range]")];
  const fits = (k) => Number(k.value) + dir <= Number(k.max) && Number(k.value) + dir >= Number(k.min);
  const knob = knobs.find((k) => !k.disabled && k.offsetParent && fits(k));
  if (!knob) return done(null);
  const t0 = performance.now();
  document.body.addEventListener("htmx:afterSettle", () => {
    const live = document.getElementById("live") || document.body;
    const refused = !!live.querySelector("[role=alert]");
    const pending = [...live.querySelectorAll("img")].filter((img) => !img.complete);
    let left = pending.length;
    const painted = () => requestAnimationFrame(() => done([performance.now() - t0, refused]));
    if (!left) return painted();
    pending.forEach((img) => { const one = () => { if (--left === 0) painted(); };
      img.addEventListener("load", one, { once: true }); img.addEventListener("error", one, { once: true }); });
  }, { once: true });
  knob.value = String(Number(knob.value) + dir);
  knob.dispatchEvent(new Event("input", { bubbles: true }));
})"""


# a bare route beside the repaints, in the same page and rounds: five fetches of /health, each timed to its last byte
BARE = """async (url) => { const got = [];
  for (let i = 0; i < 5; i++) { const t0 = performance.now(); await (await fetch(url, { cache: "no-store" })).text();
    got.push(performance.now() - t0); }
  return got; }"""


def drag(page, moves: int) -> list[float]:
    """``moves`` repaints of states the page accepts: up a step at a time, and down from where the first refused
    state was (a layer at the engine's limits refuses its next size; that repaint is not counted)."""
    got, direction = [], 1
    for _ in range(moves * 3):
        moved = page.evaluate(MOVE, direction)
        if moved is None:
            break
        if moved[1]:
            direction = -direction
            continue
        got.append(moved[0])
        if len(got) == moves:
            break
    return got


def cases(views: list[str]) -> list[tuple[str, str, str]]:
    """(view, name, query): each view's default ("") and its real sizes."""
    return [(view, name, query) for view in views for name, query in {"default": "", **TABLES[view]}.items()]


def measure(url: str, views: list[str], moves: int, rounds: int) -> dict[tuple[str, str], list[float]]:
    from playwright.sync_api import sync_playwright
    times: dict[tuple[str, str], list[list[float]]] = {(v, n): [] for v, n, _ in [("", "bare route", ""),
                                                                                 *cases(views)]}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM)
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        for r in range(rounds):
            for view, name, query in cases(views):
                seed = f"seed={7000 + r}"
                page.goto(f"{url}/{view}?{query + '&' if query else ''}{seed}")
                page.wait_for_load_state("load")
                times[(view, name)].append(drag(page, moves))
                times[("", "bare route")].append(page.evaluate(BARE, f"{url}/health"))
        browser.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--moves", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--views", default=",".join(TABLES))
    parser.add_argument("--others", action="store_true", help="the layers of OTHERS instead of the test tables")
    args = parser.parse_args()
    if args.others:
        TABLES.update(OTHERS)
    views = args.views.split(",")
    with procfile(2) as (url, _):
        times = measure(url, views, args.moves, args.rounds)
    missed = False
    bare = statistics.median(t for rnd in times[("", "bare route")] for t in rnd)
    print(f"bare route (a fetch of /health from the same page, the same rounds): p50 {bare:.1f} ms")
    for view in views:
        base = times[(view, "default")]
        base_ms = statistics.median(t for rnd in base for t in rnd)
        print(f"/{view} default: repaint p50 {base_ms:.0f} ms ({base_ms / bare:.0f}× the bare route)")
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
