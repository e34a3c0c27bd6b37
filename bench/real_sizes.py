"""/explore's speed budgets (issue 20), in one process, beside a bare route timed in the same rounds:

- the uncached render of the default /explore in the server: target <= 3 ms;
- a slider move on a real-size layer (an uncached htmx fragment of each layer in the table students bring):
  target <= 2.5x the default layer's time.

    .venv/bin/python -m bench.real_sizes [--rounds 15]

"In the server": from the request entering the app (every middleware, the route, the template, gzip) to
its last byte leaving it, timed by an ASGI wrapper around the app, as the process's CPU time (the budgets
are judged on it: this machine is shared, and wall time there measures the neighbours too) and as wall
time; Starlette's TestClient drives it (no network, no worker pool; it waits while the server works).
Each round asks every case once (a new seed each time, so the response cache never answers), round-robin, so a noisy machine slows every case alike; medians over the rounds, and
each real size's ratio is the median of its per-round ratios to the default. One BLAS thread, as
app.serve runs each worker. Per real size also: the fragment's size (raw and gzip) and, uncached, its
first picture's PNG and a lens fragment.
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

DEFAULT = ""  # /explore's default layer (2 channels, 6×6, 3×3 kernel)
HX = {"HX-Request": "true"}  # the client asks for gzip, as a browser does
RENDER_MS, SLIDER_RATIO = 3.0, 2.5


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


def main(rounds: int) -> None:
    timed = Timed(app)
    cases = {"default": DEFAULT, **REAL_SIZES}
    times = {name: [] for name in ["bare route", *cases]}
    extras = {name: {"png": [], "lens": []} for name in REAL_SIZES}
    bodies = {}
    with TestClient(timed) as client:
        for query in cases.values():  # warm up imports, templates, numpy
            ask(client, timed, f"/explore?{query}&seed=1", HX)
        for r in range(rounds):
            times["bare route"] += [ask(client, timed, "/bench/bare")[0] for _ in range(5)]
            for name, query in cases.items():
                ms, bodies[name] = ask(client, timed, f"/explore?{query}&seed={100 + r}", HX)
                times[name].append(ms)
                pictures = re.findall(r'src="(/explore/picture\?[^"]+)"', bodies[name].decode())
                if name in extras and pictures:
                    extras[name]["png"].append(ask(client, timed, html.unescape(pictures[0]))[0])
                    extras[name]["lens"].append(ask(client, timed, f"/explore/lens?{query}&seed={100 + r}"
                                                                   f"&step={37 + r}")[0])
    cpu = {name: [t[0] for t in ts] for name, ts in times.items()}
    wall = {name: statistics.median(t[1] for t in ts) for name, ts in times.items()}
    bare, default = statistics.median(cpu["bare route"]), statistics.median(cpu["default"])
    print(f"{'bare route':<12} {bare:6.2f} ms CPU in the server ({wall['bare route']:.2f} ms wall)")
    met = default <= RENDER_MS
    print(f"{'default':<12} {default:6.2f} ms CPU in the server ({wall['default']:.2f} ms wall; {default / bare:4.1f}× "
          f"the bare route), target <= {RENDER_MS:g} ms: {'met' if met else 'NOT met'}; fragment "
          f"{len(bodies['default']) / 1000:.1f} KB ({len(gzip.compress(bodies['default'])) / 1000:.1f} KB gzip)")
    for name in REAL_SIZES:
        ratio = statistics.median(t / d for t, d in zip(cpu[name], cpu["default"]))
        met &= ratio <= SLIDER_RATIO
        body = bodies[name]
        extra = (f"; first PNG {statistics.median(t[0] for t in extras[name]['png']):.1f} ms, lens "
                 f"{statistics.median(t[0] for t in extras[name]['lens']):.1f} ms" if extras[name]["png"] else "")
        print(f"{name:<12} {statistics.median(cpu[name]):6.2f} ms CPU ({wall[name]:.1f} ms wall), {ratio:4.1f}× the "
              f"default (target <= {SLIDER_RATIO:g}×: {'met' if ratio <= SLIDER_RATIO else 'NOT met'}); fragment "
              f"{len(body) / 1000:.1f} KB ({len(gzip.compress(body)) / 1000:.1f} KB gzip){extra}")
    print(f"medians of {rounds} rounds, round-robin, one BLAS thread; CPU: the process's, from a request's arrival to "
          f"its last byte (the client waits meanwhile): {'every target met' if met else 'a target is NOT met'}")
    raise SystemExit(0 if met else 1)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    main(parser.parse_args().rounds)
