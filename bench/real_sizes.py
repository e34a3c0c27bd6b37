"""/explore at real sizes: the default layer's uncached render beside real-size layers', and a bare route,
in one run, in one process (Starlette's TestClient: no network, no worker pool; the server's own cost).

    .venv/bin/python -m bench.real_sizes [--rounds 15]

Each row: the median and p90 of an uncached htmx fragment (a new seed each round, so the app's response cache
never answers), its size (raw and gzip), and for real sizes the first picture's PNG and a lens fragment (uncached
too). The bare
route is a Starlette PlainTextResponse on the same app: the yardstick every time is printed against.
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

DEFAULT = ""  # /explore's default layer (2 channels, 6×6, 3×3 kernel)
HX = {"HX-Request": "true"}


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
        timed(client, "/explore?" + DEFAULT, HX)  # warm up imports and templates
        bare = [timed(client, "/bench/bare")[0] for _ in range(rounds * 4)]
        print(f"{'bare route':<12} {summary(bare)}")
        for name, query in {"default": DEFAULT, **REAL_SIZES}.items():
            times, pngs, lenses, body = [], [], [], b""
            for seed in range(rounds):
                ms, body = timed(client, f"/explore?{query}&seed={100 + seed}", HX)
                times.append(ms)
                pictures = re.findall(r'src="(/explore/picture\?[^"]+)"', body.decode())
                if pictures:
                    pngs.append(timed(client, html.unescape(pictures[0]))[0])
                    lenses.append(timed(client, f"/explore/lens?{query}&seed={100 + seed}&step={37 + seed}")[0])
            size = f"fragment {len(body) / 1000:6.1f} KB ({len(gzip.compress(body)) / 1000:5.1f} KB gzip)"
            png = (f"  first PNG median {statistics.median(pngs):6.1f} ms, lens {statistics.median(lenses):6.1f} ms"
                   if pngs else "")
            ratio = statistics.median(times) / statistics.median(bare)
            print(f"{name:<12} {summary(times)}  ({ratio:6.0f}× bare)  {size}{png}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    main(parser.parse_args().rounds)
