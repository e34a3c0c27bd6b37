"""The stage views at real sizes: each view's default layer's uncached render beside real-size layers', and a
bare route, in one run, in one process (Starlette's TestClient: no network, no worker pool; the server's own cost).

    .venv/bin/python -m bench.real_sizes [--rounds 15] [--views explore,pool,transposed]

Each row: the median and p90 of an uncached htmx fragment (a new seed each round, so the app's response cache
never answers), its ratio to the bare route and to the view's default layer (what a slider move on that layer
costs the server against the default's), its size (raw and gzip), and for real sizes the first picture's PNG
and a lens fragment (uncached too). The bare route is a Starlette PlainTextResponse on the same app: the
yardstick every time is printed against.
"""
from __future__ import annotations

import argparse
import gzip
import html
import re
import statistics
import time

from starlette.testclient import TestClient

from bench.bench_app import app
from tests.web.test_picture import REAL_SIZES
from tests.web.test_pool_picture import POOL_SIZES
from tests.web.test_transposed_picture import TRANSPOSED_SIZES

HX = {"HX-Request": "true"}
TABLES = {"explore": REAL_SIZES, "pool": POOL_SIZES, "transposed": TRANSPOSED_SIZES}  # "" is each view's default
LENS_STEP = 37  # + the round: a step outside the first block, never cached


def timed(client: TestClient, url: str, headers: dict | None = None) -> tuple[float, bytes]:
    start = time.perf_counter()
    r = client.get(url, headers=headers or {})
    elapsed = time.perf_counter() - start
    assert r.status_code == 200, (url, r.status_code, r.text[:200])
    return elapsed * 1000, r.content


def summary(times: list[float]) -> str:
    times = sorted(times)
    return f"median {statistics.median(times):7.1f} ms  p90 {times[int(0.9 * (len(times) - 1))]:7.1f} ms"


def layer_row(client: TestClient, view: str, name: str, query: str, rounds: int) -> tuple[float, str]:
    """One layer's uncached fragment (and its first picture and a lens): the median and the row's text."""
    times, pngs, lenses, body = [], [], [], b""
    sep = "&" if query else ""
    for seed in range(rounds):
        ms, body = timed(client, f"/{view}?{query}{sep}seed={100 + seed}", HX)
        times.append(ms)
        pictures = re.findall(rf'src="(/{view}/picture\?[^"]+)"', body.decode())
        if pictures:
            pngs.append(timed(client, html.unescape(pictures[0]))[0])
            lenses.append(timed(client, f"/{view}/lens?{query}&seed={100 + seed}&step={LENS_STEP + seed}")[0])
    size = f"fragment {len(body) / 1000:6.1f} KB ({len(gzip.compress(body)) / 1000:5.1f} KB gzip)"
    extra = (f"  first PNG median {statistics.median(pngs):6.1f} ms, lens {statistics.median(lenses):6.1f} ms"
             if pngs else "")
    return statistics.median(times), f"{summary(times)}  {size}{extra}"


def main(rounds: int, views: list[str]) -> None:
    with TestClient(app) as client:
        for view in views:
            timed(client, f"/{view}", HX)  # warm up imports and templates
        bare = [timed(client, "/bench/bare")[0] for _ in range(rounds * 4)]
        bare_ms = statistics.median(bare)
        print(f"{'bare route':<22} {summary(bare)}")
        for view in views:
            default_ms = None
            for name, query in {"default": "", **TABLES[view]}.items():
                ms, text = layer_row(client, view, name, query, rounds)
                default_ms = default_ms or ms
                ratio = "" if name == "default" else f" {ms / default_ms:5.1f}× default"
                print(f"{'/' + view + ' ' + name:<22} {text}  ({ms / bare_ms:6.0f}× bare{ratio})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--views", default="explore,pool,transposed")
    args = parser.parse_args()
    main(args.rounds, args.views.split(","))
