"""The stage views' render cost in the server (issue 20), in one process, beside a bare route timed in the same rounds:

- the uncached render of the default /explore: target <= 3 ms;
- the server's part of a slider move on a real-size layer (an uncached htmx fragment of each layer in the tables
  students bring, for /explore, /pool and /transposed) and its ratio to the same view's default layer. The budget of
  a slider move (its repaint within 2.5x the default layer's, as the student waits for it: the request, the swap,
  the pictures fetched and painted) is judged in a browser by bench/repaint.py; this prints the server's share of it,
  with no target of its own.

    .venv/bin/python -m bench.real_sizes [--rounds 15] [--views explore,pool,transposed]

"In the server": from the request entering the app (every middleware, the route in the thread pool, the template,
gzip) to its last byte leaving it, as the process's CPU time (the budgets are judged on it: this machine is shared,
and wall time there measures the neighbours too) and as wall time. The app is called as an ASGI server calls it,
in this process, with no client in the process (no network, no HTTP parsing, no worker pool).
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
import asyncio  # noqa: E402
import gzip  # noqa: E402
import html  # noqa: E402
import re  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

from bench.bench_app import app  # noqa: E402
from tests.web.test_picture import REAL_SIZES  # noqa: E402
from tests.web.test_pool_picture import POOL_SIZES  # noqa: E402
from tests.web.test_transposed_picture import TRANSPOSED_SIZES  # noqa: E402

HX = {"HX-Request": "true", "Accept-Encoding": "gzip"}  # as a browser's htmx request asks
TABLES = {"explore": REAL_SIZES, "pool": POOL_SIZES, "transposed": TRANSPOSED_SIZES}  # "" is each view's default
RENDER_MS, SLIDER_RATIO = 3.0, 2.5
LENS_STEP = 37  # + the round (mod 10): a step outside the first block, never cached (the embedding has 50 steps)


class Server:
    """The app called as its server calls it (an ASGI request, the route in the thread pool, every middleware,
    gzip), in this process with no client in it: the process's CPU time over a request is the server's alone.
    (Starlette's TestClient added about 1 ms of its own to every request, and more to larger answers.)"""

    def __init__(self, asgi) -> None:
        self.asgi, self.loop = asgi, asyncio.new_event_loop()

    def get(self, url: str, headers: dict | None = None) -> tuple[tuple, bytes]:
        """((CPU ms, wall ms), body) of one GET; a non-200 answer stops the bench."""
        path, _, query = url.partition("?")
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
                 "path": path, "raw_path": path.encode(), "root_path": "", "query_string": query.encode(),
                 "headers": [(k.lower().encode(), v.encode()) for k, v in {"Host": "bench", **(headers or {})}.items()],
                 "server": ("bench", 80), "client": ("127.0.0.1", 1)}
        sent: list[dict] = []

        async def receive():
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message):
            sent.append(message)

        start, cpu = time.perf_counter(), time.process_time()
        self.loop.run_until_complete(self.asgi(scope, receive, send))
        took = ((time.process_time() - cpu) * 1000, (time.perf_counter() - start) * 1000)
        status = sent[0]["status"]
        body = b"".join(m.get("body", b"") for m in sent[1:])
        if dict(sent[0]["headers"]).get(b"content-encoding") == b"gzip":
            body = gzip.decompress(body)
        assert status == 200, (url, status, body[:200])
        return took, body


def main(rounds: int, views: list[str]) -> None:
    server = Server(app)
    cases = {(view, name): query for view in views for name, query in {"default": "", **TABLES[view]}.items()}
    times = {case: [] for case in [("", "bare route"), *cases]}
    extras = {case: {"png": [], "lens": []} for case in cases}
    bodies = {}
    for (view, _), query in cases.items():  # warm up imports, templates, numpy
        server.get(f"/{view}?{query}&seed=1", HX)
    for r in range(rounds):
        times[("", "bare route")] += [server.get("/bench/bare")[0] for _ in range(5)]
        for (view, name), query in cases.items():
            ms, bodies[view, name] = server.get(f"/{view}?{query}&seed={100 + r}", HX)
            times[view, name].append(ms)
            pictures = re.findall(rf'src="(/{view}/picture\?[^"]+)"', bodies[view, name].decode())
            if name != "default" and pictures:
                extras[view, name]["png"].append(server.get(html.unescape(pictures[0]))[0])
                extras[view, name]["lens"].append(server.get(f"/{view}/lens?{query}&seed={100 + r}"
                                                             f"&step={LENS_STEP + r % 10}")[0])
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
        e = extras[view, name]
        extra = (f"; first PNG {statistics.median(t[0] for t in e['png']):.1f} ms, lens "
                 f"{statistics.median(t[0] for t in e['lens']):.1f} ms" if e["png"] else "")
        print(f"{label:<24} {ms:6.2f} ms CPU ({wall[view, name]:.1f} ms wall), {ratio:4.1f}× the default; "
              f"{size}{extra}")
    print(f"medians of {rounds} rounds, round-robin, one BLAS thread; CPU: the process's, from a request's arrival to "
          f"its last byte, no client in the process: the render target {'met' if met else 'NOT met'} (a slider "
          f"move's budget, its repaint within {SLIDER_RATIO:g}× the default's, is bench/repaint.py's)")
    raise SystemExit(0 if met else 1)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--views", default="explore,pool,transposed")
    args = parser.parse_args()
    main(args.rounds, args.views.split(","))
