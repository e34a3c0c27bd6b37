"""/pointwise at real sizes: the default layer's uncached render beside real-size layers', and a bare route, in
one run, in one process (Starlette's TestClient: no network, no worker pool; the server's own cost).

    .venv/bin/python -m bench.pointwise_sizes [--rounds 15]

Each row: the median and p90 of an uncached htmx fragment (a new seed each round, so neither the app's response
cache nor the view's engine cache answers), its size (raw and gzip, against the 120 KB gzip budget), and for real
sizes the three pictures' PNGs (input, weights, output: the first of them runs the engine, the others read its
cached run) and a lens fragment of another position and filter. The bare route is a Starlette PlainTextResponse on
the same app: the yardstick every time is printed against. The last column is the row's median over the default
layer's: a knob move on a real-size layer against the same move on the default layer, in the same run.
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
from tests.web.test_pointwise_sizes import REAL_SIZES

DEFAULT = ""  # /pointwise's default layer: Conv1d(4, 3, kernel_size=1) on 6 positions
HX = {"HX-Request": "true"}
FRAGMENT_GZIP = 120_000


def timed(client: TestClient, url: str, headers: dict | None = None) -> tuple[float, bytes]:
    start = time.perf_counter()
    r = client.get(url, headers=headers or {})
    elapsed = time.perf_counter() - start
    assert r.status_code == 200, (url, r.status_code, r.text[:200])
    return elapsed * 1000, r.content


def summary(times: list[float]) -> str:
    times = sorted(times)
    return f"median {statistics.median(times):7.1f} ms  p90 {times[int(0.9 * (len(times) - 1))]:7.1f} ms"


def main(rounds: int) -> None:
    with TestClient(app) as client:
        timed(client, "/pointwise?" + DEFAULT, HX)  # warm up imports and templates
        bare = [timed(client, "/bench/bare")[0] for _ in range(rounds * 4)]
        print(f"{'bare route':<10} {summary(bare)}")
        default = None
        for name, query in {"default": DEFAULT, **REAL_SIZES}.items():
            times, pngs, lenses, body = [], [], [], b""
            for seed in range(rounds):
                ms, body = timed(client, f"/pointwise?{query}&seed={100 + seed}", HX)
                times.append(ms)
                pictures = re.findall(r'src="(/pointwise/picture\?[^"]+)"', body.decode())
                if pictures:
                    pngs.append(sum(timed(client, html.unescape(p))[0] for p in pictures))
                    lenses.append(timed(client, f"/pointwise/lens?{query}&seed={100 + seed}&step={seed + 1}&f=1")[0])
            default = default or statistics.median(times)
            gz = len(gzip.compress(body))
            size = (f"fragment {len(body) / 1000:6.1f} KB ({gz / 1000:5.1f} KB gzip, "
                    f"{'within' if gz <= FRAGMENT_GZIP else 'OVER'} 120)")
            extra = (f"  3 PNGs {statistics.median(pngs):6.1f} ms, lens {statistics.median(lenses):5.1f} ms"
                     if pngs else "")
            print(f"{name:<10} {summary(times)}  ({statistics.median(times) / statistics.median(bare):5.0f}× bare, "
                  f"{statistics.median(times) / default:4.1f}× default)  {size}{extra}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    main(parser.parse_args().rounds)
