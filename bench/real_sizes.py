"""The stage views' speed budgets (issue 20), in one process, beside a bare route timed in the same rounds:

- the uncached render of the default /explore in the server: target <= 3 ms;
- a slider move on a real-size layer (an uncached htmx fragment of each layer in the tables students bring, for
  /explore, /pool and /transposed): target <= 2.5x the same view's default layer's time.

    .venv/bin/python -m bench.real_sizes [--rounds 15] [--views explore,pool,transposed]

"In the server": from the request entering the app (every middleware, the route, the template, gzip) to
its last byte leaving it, timed by an ASGI wrapper around the app, as the process's CPU time (the budgets
are judged on it: this machine is shared, and wall time there measures the neighbours too) and as wall
time; Starlette's TestClient drives it (no network, no worker pool; it waits while the server works).
Each round asks every case once (a new seed each time, so the response cache never answers), round-robin, so
a noisy machine slows every case alike; medians over the rounds, and each real size's ratio is the median of
its per-round ratios to its view's default. One BLAS thread, as app.serve runs each worker. Per real size also:
the fragment's size (raw and gzip) and, uncached, its first picture's PNG and a lens fragment.
"""
from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as app.serve runs each worker; before numpy loads
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import gzip  # noqa: E402
import html  # noqa: E402
import re  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

from starlette.testclient import TestClient  # noqa: E402

from bench.bench_app import app  # noqa: E402
from tests.web.test_picture import REAL_SIZES  # noqa: E402
from tests.web.test_pool_picture import POOL_SIZES  # noqa: E402
from tests.web.test_transposed_picture import TRANSPOSED_SIZES  # noqa: E402

HX = {"HX-Request": "true"}  # the client asks for gzip, as a browser does
TABLES = {"explore": REAL_SIZES, "pool": POOL_SIZES, "transposed": TRANSPOSED_SIZES}  # "" is each view's default
RENDER_MS, SLIDER_RATIO = 3.0, 2.5
LENS_STEP = 37  # + the round: a step outside the first block, never cached


class Timed:
    """The app, timing each request from its arrival to its last byte (the server's own time)."""

    def __init__(self, inner) -> None:
        self.inner, self.last = inner, (0.0, 0.0)

    async def __call__(self, scope, receive, send):
        start, cpu = time.perf_counter(), time.process_time()

        async def timed_send(message):
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                self.last = ((time.process_time() - cpu) * 1000, (time.perf_counter() - start) * 1000)

        await self.inner(scope, receive, timed_send)


def ask(client: TestClient, timed: Timed, url: str, headers: dict | None = None) -> tuple[tuple, bytes]:
    """(CPU ms, wall ms) the server spent on ``url``, and its body."""
    r = client.get(url, headers=headers or {})
    assert r.status_code == 200, (url, r.status_code, r.text[:200])
    return timed.last, r.content


def main(rounds: int, views: list[str]) -> None:
    timed = Timed(app)
    cases = {(view, name): query for view in views for name, query in {"default": "", **TABLES[view]}.items()}
    times = {case: [] for case in [("", "bare route"), *cases]}
    extras = {case: {"png": [], "lens": []} for case in cases}
    bodies = {}
    with TestClient(timed) as client:
        for (view, _), query in cases.items():  # warm up imports, templates, numpy
            ask(client, timed, f"/{view}?{query}&seed=1", HX)
        for r in range(rounds):
            times[("", "bare route")] += [ask(client, timed, "/bench/bare")[0] for _ in range(5)]
            for (view, name), query in cases.items():
                ms, bodies[view, name] = ask(client, timed, f"/{view}?{query}&seed={100 + r}", HX)
                times[view, name].append(ms)
                pictures = re.findall(rf'src="(/{view}/picture\?[^"]+)"', bodies[view, name].decode())
                if name != "default" and pictures:
                    extras[view, name]["png"].append(ask(client, timed, html.unescape(pictures[0]))[0])
                    extras[view, name]["lens"].append(ask(client, timed, f"/{view}/lens?{query}&seed={100 + r}"
                                                                         f"&step={LENS_STEP + r}")[0])
    cpu = {case: [t[0] for t in ts] for case, ts in times.items()}
    wall = {case: statistics.median(t[1] for t in ts) for case, ts in times.items()}
    bare = statistics.median(cpu["", "bare route"])
    print(f"{'bare route':<24} {bare:6.2f} ms CPU in the server ({wall['', 'bare route']:.2f} ms wall)")
    met = True
    for (view, name) in cases:
        body, ms = bodies[view, name], statistics.median(cpu[view, name])
        size = f"fragment {len(body) / 1000:.1f} KB ({len(gzip.compress(body)) / 1000:.1f} KB gzip)"
        label = f"/{view} {name}"
        if name == "default":
            target = ""
            if view == "explore":
                ok = ms <= RENDER_MS
                met &= ok
                target = f", target <= {RENDER_MS:g} ms: {'met' if ok else 'NOT met'}"
            print(f"{label:<24} {ms:6.2f} ms CPU ({wall[view, name]:.1f} ms wall; {ms / bare:4.1f}× the bare "
                  f"route){target}; {size}")
            continue
        ratio = statistics.median(t / d for t, d in zip(cpu[view, name], cpu[view, "default"]))
        met &= ratio <= SLIDER_RATIO
        e = extras[view, name]
        extra = (f"; first PNG {statistics.median(t[0] for t in e['png']):.1f} ms, lens "
                 f"{statistics.median(t[0] for t in e['lens']):.1f} ms" if e["png"] else "")
        print(f"{label:<24} {ms:6.2f} ms CPU ({wall[view, name]:.1f} ms wall), {ratio:4.1f}× the default "
              f"(target <= {SLIDER_RATIO:g}×: {'met' if ratio <= SLIDER_RATIO else 'NOT met'}); {size}{extra}")
    print(f"medians of {rounds} rounds, round-robin, one BLAS thread; CPU: the process's, from a request's arrival to "
          f"its last byte (the client waits meanwhile): {'every target met' if met else 'a target is NOT met'}")
    raise SystemExit(0 if met else 1)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--views", default="explore,pool,transposed")
    args = parser.parse_args()
    main(args.rounds, args.views.split(","))
